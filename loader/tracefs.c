/* tracefs lookups: ids and field offsets come from the kernel's own text
 * files, so record layouts are never assumed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/sys.h"
#include "loader/tracefs.h"
#include "util/file.h"

static const char *const dirs[] = {
	"/sys/kernel/tracing",
	"/sys/kernel/debug/tracing",
};

static int
has_events(const char *dir)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/events", dir);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int
ld_tracefs_find(char *dir, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (has_events(dirs[i])) {
			snprintf(dir, n, "%s", dirs[i]);
			return 0;
		}
	}
	/* Not mounted: mount it where the kernel documents it. */
	if ((err = sys_mount_tracefs(dirs[0])) < 0)
		return err;
	if (!has_events(dirs[0]))
		return -ENOENT;
	snprintf(dir, n, "%s", dirs[0]);
	return 1;
}

int
ld_tp_id(const char *tracefs, const char *group, const char *name)
{
	char path[512], buf[32], *end;
	long id;
	int r;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", tracefs, group, name);
	if ((r = (int)file_read(path, buf, sizeof(buf))) < 0)
		return r;
	id = strtol(buf, &end, 10);
	if (end == buf || id < 0 || id > 0x7fffffff)
		return -EINVAL;
	return (int)id;
}

int
ld_tp_format_field(const char *text, const char *field, int *off, int *size)
{
	const char *p = text;
	size_t flen = strlen(field);

	/* Lines look like:
	 *	field:struct sockaddr * uservaddr;	offset:24;	size:8;	signed:0;
	 * The field name is the last word before the first ';'. */
	while ((p = strstr(p, "field:")) != NULL) {
		const char *semi = strchr(p, ';'), *name, *o, *s, *eol;

		if (semi == NULL)
			break;
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		name = semi;
		while (name > p && name[-1] != ' ' && name[-1] != '*' && name[-1] != ':')
			name--;
		if ((size_t)(semi - name) == flen && strncmp(name, field, flen) == 0) {
			o = strstr(semi, "offset:");
			s = strstr(semi, "size:");
			if (o == NULL || s == NULL || o > eol || s > eol)
				return -EINVAL;
			*off = atoi(o + 7);
			*size = atoi(s + 5);
			return 0;
		}
		p = semi;
	}
	return -ENOENT;
}

int
ld_tp_field(const char *tracefs, const char *group, const char *name,
    const char *field, int *off, int *size)
{
	char path[512], buf[8192];
	int r;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, group, name);
	if ((r = (int)file_read(path, buf, sizeof(buf))) < 0)
		return r;
	return ld_tp_format_field(buf, field, off, size);
}
