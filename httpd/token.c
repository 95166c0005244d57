/* The bearer token of -token-file (see token.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "httpd/token.h"
#include "util/file.h"
#include "util/log.h"

char *
http_token_read(const char *path)
{
	char buf[TOKEN_MAX + 2];
	struct stat sb;
	ssize_t n;
	size_t len, i;
	char *tok;

	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		log_warnx("-token-file %s: readable by group or others; "
		    "chmod 600 it", path);
	/* Only the first line counts: a longer file is fine. */
	if ((n = file_read(path, buf, sizeof(buf))) < 0 && n != -EFBIG)
		fatalx("-token-file %s: %s", path, strerror((int)-n));
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0)
		fatalx("-token-file %s: empty: the first line must hold the token",
		    path);
	if (len > TOKEN_MAX)
		fatalx("-token-file %s: the token is longer than %d bytes", path,
		    TOKEN_MAX);
	for (i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			fatalx("-token-file %s: byte %zu of the token is not a "
			    "visible ASCII character", path, i + 1);
	if ((tok = strdup(buf)) == NULL)
		fatal("-token-file");
	explicit_bzero(buf, sizeof(buf));
	return tok;
}
