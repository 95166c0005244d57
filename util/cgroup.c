/*
 * cgroup id -> path.  A walk of the cgroup2 tree fills an open-addressing
 * table of inode number -> path; lookups that miss rebuild it, rate
 * limited, so a flood of events from short-lived cgroups cannot turn every
 * request into a tree walk.  See cgroup.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cgroup.h"
#include "util/file.h"
#include "util/log.h"
#include "util/timefmt.h"

#define CG_MAX 16384     /* cgroups remembered; more are left unknown */
#define CG_DEPTH 32
#define CG_PATH_MAX 4096
#define FILEID_KERNFS 0xfe /* include/linux/exportfs.h, not in the UAPI */

struct cgent {
	uint64_t id;     /* 0: free */
	char *path;
};

struct cgmap {
	pthread_mutex_t mu;
	char root[CG_PATH_MAX];
	struct cgent *t;
	size_t cap, used;
	uint64_t last_scan_ns; /* CLOCK_MONOTONIC */
};

int
cg_find_mount(const char *mi, char *out, size_t n)
{
	const char *line, *end, *dash, *p;
	char mnt[CG_PATH_MAX];
	int field;

	for (line = mi; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		/* "id parent maj:min root mountpoint opts ... - fstype src ..." */
		dash = strstr(line, " - ");
		if (!dash || (end && dash > end))
			continue;
		if (strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		for (p = line, field = 0; field < 4 && p < dash; field++) {
			p = strchr(p, ' ');
			if (!p)
				break;
			p++;
		}
		if (!p || field != 4 || p >= dash)
			continue;
		if ((size_t)(strchr(p, ' ') - p) >= sizeof(mnt))
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo. */
		{
			size_t o = 0;

			while (*p != ' ' && o + 1 < sizeof(mnt)) {
				if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' &&
				    p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
				    p[3] <= '7') {
					mnt[o++] = (char)((p[1] - '0') << 6 |
					    (p[2] - '0') << 3 | (p[3] - '0'));
					p += 4;
				} else {
					mnt[o++] = *p++;
				}
			}
			mnt[o] = '\0';
		}
		if (strlen(mnt) + 1 > n)
			return -ENAMETOOLONG;
		strcpy(out, mnt);
		return 0;
	}
	return -ENOENT;
}

static void
table_free(struct cgent *t, size_t cap)
{
	size_t i;

	for (i = 0; i < cap; i++)
		free(t[i].path);
	free(t);
}

static size_t
slot(uint64_t id, size_t cap)
{
	id *= 0x9e3779b97f4a7c15ull;
	return (size_t)(id ^ (id >> 32)) & (cap - 1);
}

/* Insert into a table that has room (the walk sizes it). */
static int
table_put(struct cgent *t, size_t cap, size_t *used, uint64_t id,
    const char *path)
{
	size_t i;

	if ((*used + 1) * 2 > cap)
		return -ENOSPC;
	for (i = slot(id, cap); t[i].id; i = (i + 1) & (cap - 1))
		if (t[i].id == id)
			return 0;
	if (!(t[i].path = strdup(path)))
		return -ENOMEM;
	t[i].id = id;
	(*used)++;
	return 0;
}

/*
 * The cgroup id of the cgroup directory fd (st: its stat).  The id is the
 * kernfs node id, which is also the directory's file handle: that is
 * exact everywhere.  On 64-bit kernels it equals the inode number too,
 * but on 32-bit kernels the inode number is only its low 32 bits (the
 * high ones are kernfs's generation), so the inode number is the answer
 * only where there is no kernfs handle (a test's plain directory, or a
 * kernel without exportfs support for cgroup2).
 */
static uint64_t
dir_id(int fd, const struct stat *st)
{
	_Alignas(struct file_handle) unsigned char buf[sizeof(struct file_handle) + 32];
	struct file_handle *fh = (struct file_handle *)buf;
	uint64_t id;
	int mnt;

	fh->handle_bytes = 32;
	if (name_to_handle_at(fd, "", fh, &mnt, AT_EMPTY_PATH) == 0 &&
	    fh->handle_type == FILEID_KERNFS && fh->handle_bytes == sizeof(id)) {
		memcpy(&id, fh->f_handle, sizeof(id));
		return id;
	}
	return (uint64_t)st->st_ino;
}

/* Depth-first walk below dirfd, whose path relative to the root is rel.
 * A directory that cannot be opened (permissions: the sandboxed server is
 * nobody) keeps its cgroups' paths unknown; -v says which. */
static void
walk(int dirfd, char *rel, size_t rlen, int depth, struct cgent *t,
    size_t cap, size_t *used)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;
	size_t nlen;

	if (depth > CG_DEPTH || !(d = fdopendir(dirfd))) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		nlen = strlen(de->d_name);
		if (rlen + 1 + nlen >= CG_PATH_MAX)
			continue;
		if ((fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW)) < 0) {
			log_debug("cgroup: %.*s/%s: %s: its path stays unknown",
			    (int)rlen, rel, de->d_name, strerror(errno));
			continue;
		}
		if (fstat(fd, &st) < 0) {
			close(fd);
			continue;
		}
		rel[rlen] = '/';
		memcpy(rel + rlen + 1, de->d_name, nlen + 1);
		if (table_put(t, cap, used, dir_id(fd, &st), rel) < 0) {
			close(fd);
			break; /* full: the rest stays unknown */
		}
		walk(fd, rel, rlen + 1 + nlen, depth + 1, t, cap, used);
		rel[rlen] = '\0';
	}
	closedir(d);
}

/* Replace the table with a fresh walk.  Called with the lock held. */
static void
rescan(struct cgmap *m)
{
	char rel[CG_PATH_MAX];
	struct cgent *t;
	struct stat st;
	size_t cap = 2 * CG_MAX, used = 0;
	int fd;

	if ((fd = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_debug("cgroup: %s: %s: cgroup paths stay unknown", m->root,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !(t = calloc(cap, sizeof(*t)))) {
		close(fd);
		return;
	}
	table_put(t, cap, &used, dir_id(fd, &st), "/");
	rel[0] = '\0';
	walk(fd, rel, 0, 0, t, cap, &used);
	table_free(m->t, m->cap);
	m->t = t;
	m->cap = cap;
	m->used = used;
}

int
cg_mount(char *out, size_t n)
{
	ssize_t len;
	char *buf;
	int e;

	/* To the end: a host with many mounts has more than a page of it. */
	if ((len = file_read_all("/proc/self/mountinfo", 16 << 20, &buf)) < 0)
		return (int)len;
	e = cg_find_mount(buf, out, n);
	free(buf);
	return e;
}

struct cgmap *
cg_new(const char *root)
{
	char mnt[CG_PATH_MAX];
	struct cgmap *m;
	int err;

	if (!root) {
		if ((err = cg_mount(mnt, sizeof(mnt))) < 0) {
			errno = -err;
			return NULL;
		}
		root = mnt;
	}
	if (strlen(root) >= CG_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	if ((err = pthread_mutex_init(&m->mu, NULL))) {
		free(m);
		errno = err;
		return NULL;
	}
	strcpy(m->root, root);
	return m;
}

void
cg_free(struct cgmap *m)
{
	if (!m)
		return;
	table_free(m->t, m->cap);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const char *
lookup(const struct cgmap *m, uint64_t id)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = slot(id, m->cap); m->t[i].id; i = (i + 1) & (m->cap - 1))
		if (m->t[i].id == id)
			return m->t[i].path;
	return NULL;
}

size_t
cg_path(struct cgmap *m, uint64_t id, char *buf, size_t n)
{
	const char *p;
	uint64_t now;
	size_t len = 0;

	if (n == 0)
		return 0;
	buf[0] = '\0';
	if (!m || id == 0)
		return 0;
	pthread_mutex_lock(&m->mu);
	if (!(p = lookup(m, id))) {
		now = time_mono_ns();
		if (!m->t || now - m->last_scan_ns >= CG_RESCAN_MS * 1000000ULL) {
			m->last_scan_ns = now;
			rescan(m);
			p = lookup(m, id);
		}
	}
	if (p) {
		len = strlen(p);
		if (len >= n)
			len = n - 1;
		memcpy(buf, p, len);
		buf[len] = '\0';
	}
	pthread_mutex_unlock(&m->mu);
	return len;
}
