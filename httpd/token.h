/* The bearer token of -token-file. */
#ifndef HTTP_TOKEN_H
#define HTTP_TOKEN_H

/* The longest bearer token -token-file may hold. */
#define TOKEN_MAX 1024

/*
 * The first line of path, without its line ending: 1 to TOKEN_MAX visible
 * ASCII characters (RFC 6750's token68 and then some), so that what a
 * client puts after "Bearer " can match it.  Setup code: dies with a
 * message on anything else.  Returns a malloc'd string.
 */
char *http_token_read(const char *path);

#endif
