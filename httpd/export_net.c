/*
 * The exporter's ways out: engine addresses parsed and resolved before
 * the sandbox, HTTP POSTs through civetweb's client, and the syslog
 * sockets.  See export_impl.h.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <civetweb.h>

#include "httpd/export_impl.h"

static int
bad(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

/* host (a name, an IPv4 address or a bracketed IPv6 one) and port into
 * a's numeric address, resolved now. */
static int
resolve(const char *host, size_t hlen, int port, struct xaddr *a, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char name[256];
	const void *ip;
	int rc;

	if (hlen == 0 || hlen >= sizeof(name))
		return bad(err, errlen, "%s: no host, or a host name too long", "");
	memcpy(name, host, hlen);
	name[hlen] = '\0';
	if (name[0] == '[' && name[hlen - 1] == ']') {
		memmove(name, name + 1, hlen - 2);
		name[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = a->socktype;
	if ((rc = getaddrinfo(name, NULL, &hints, &res)) != 0 || !res) {
		snprintf(err, errlen, "%s: %s", name, gai_strerror(rc));
		return -EINVAL;
	}
	a->family = res->ai_family;
	ip = a->family == AF_INET6 ?
	    (const void *)&((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr :
	    (const void *)&((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr;
	inet_ntop(a->family, ip, a->numeric, sizeof(a->numeric));
	freeaddrinfo(res);
	a->port = port;
	return 0;
}

/* "host:port" or "[v6]:port" of len bytes; the port must be there unless
 * def is not 0. */
static int
host_port(const char *s, size_t len, int def, struct xaddr *a, char *err,
    size_t errlen)
{
	const char *colon = NULL, *p;
	char *end;
	long port = def;

	for (p = s; p < s + len; p++)
		if (*p == ':')
			colon = p;
	if (colon && s[0] == '[' && colon < (const char *)memchr(s, ']', len))
		colon = NULL; /* a colon of a bracketed IPv6 address */
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (end != s + len || colon + 1 == end || port < 1 || port > 65535)
			return bad(err, errlen, "%s: the port must be 1-65535", s);
		len = (size_t)(colon - s);
	} else if (!def) {
		return bad(err, errlen, "%s: want host:port", s);
	}
	if (len + 1 > sizeof(a->hosthdr))
		return bad(err, errlen, "%s: host name too long", s);
	snprintf(a->hosthdr, sizeof(a->hosthdr), "%.*s", (int)len, s);
	return resolve(s, len, (int)port, a, err, errlen);
}

int
xaddr_url(const char *url, struct xaddr *a, char *err, size_t errlen)
{
	const char *h, *slash;
	size_t hl;
	int rc;

	memset(a, 0, sizeof(*a));
	a->socktype = SOCK_STREAM;
	if (strncmp(url, "http://", 7) != 0)
		return bad(err, errlen, "%s: want http://host[:port]/path (no "
		    "TLS: put a proxy on the engine's host for that)", url);
	h = url + 7;
	slash = strchr(h, '/');
	hl = slash ? (size_t)(slash - h) : strlen(h);
	if (strlen(slash ? slash : "/") >= sizeof(a->path))
		return bad(err, errlen, "%s: path too long", url);
	/* Bytes civetweb would put on the request line as they are: no
	 * spaces or controls, which would split it. */
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return bad(err, errlen, "%s: a space or control character "
			    "(write it %%20)", url);
	if ((rc = host_port(h, hl, 80, a, err, errlen)) < 0)
		return rc;
	snprintf(a->path, sizeof(a->path), "%s", slash ? slash : "/");
	return 0;
}

int
xaddr_syslog(const char *spec, struct xaddr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(spec, "unix:", 5) == 0) {
		if (spec[5] != '/' || strlen(spec + 5) >= sizeof(((struct
		    sockaddr_un *)0)->sun_path))
			return bad(err, errlen, "%s: want unix:/absolute/path "
			    "(at most 107 bytes)", spec);
		a->family = AF_UNIX;
		a->socktype = SOCK_DGRAM;
		snprintf(a->path, sizeof(a->path), "%s", spec + 5);
		snprintf(a->hosthdr, sizeof(a->hosthdr), "%s", spec + 5);
		return 0;
	}
	if (strncmp(spec, "udp://", 6) == 0)
		a->socktype = SOCK_DGRAM;
	else if (strncmp(spec, "tcp://", 6) == 0)
		a->socktype = SOCK_STREAM;
	else
		return bad(err, errlen, "%s: want udp://host:port, tcp://host:port "
		    "or unix:/dev/log", spec);
	return host_port(spec + 6, strlen(spec + 6), 0, a, err, errlen);
}

int
xhttp_post(const struct xaddr *a, const char *ctype, const char *body,
    size_t len, int timeout_ms, char *msg, size_t msglen)
{
	const struct mg_response_info *ri;
	struct mg_connection *conn;
	int status, n;
	size_t got = 0;

	msg[0] = '\0';
	if (!(conn = mg_connect_client(a->numeric, a->port, 0, msg, msglen)))
		return -ECONNREFUSED;
	if (mg_printf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: ebpf-server/%s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", a->path,
	    a->hosthdr, VERSION, ctype, len) <= 0 ||
	    (len && mg_write(conn, body, len) != (int)len)) {
		snprintf(msg, msglen, "sending the request failed");
		mg_close_connection(conn);
		return -EPIPE;
	}
	if (mg_get_response(conn, msg, msglen, timeout_ms) < 0 ||
	    !(ri = mg_get_response_info(conn))) {
		if (!msg[0])
			snprintf(msg, msglen, "no answer");
		mg_close_connection(conn);
		return -ETIMEDOUT;
	}
	status = ri->status_code;
	msg[0] = '\0';
	/* The engine's reason, for the log: the start of its answer. */
	if (status / 100 != 2)
		while (got + 1 < msglen &&
		    (n = mg_read(conn, msg + got, msglen - 1 - got)) > 0)
			got += (size_t)n;
	if (msglen)
		msg[got < msglen ? got : msglen - 1] = '\0';
	mg_close_connection(conn);
	return status;
}

int
xsock_open(const struct xaddr *a, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
	} u;
	socklen_t len;
	int fd, e, type = a->socktype;

	memset(&u, 0, sizeof(u));
	if (a->family == AF_UNIX) {
		u.un.sun_family = AF_UNIX;
		memcpy(u.un.sun_path, a->path, strlen(a->path));
		len = (socklen_t)sizeof(u.un);
	} else if (a->family == AF_INET6) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons((uint16_t)a->port);
		inet_pton(AF_INET6, a->numeric, &u.in6.sin6_addr);
		len = (socklen_t)sizeof(u.in6);
	} else {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons((uint16_t)a->port);
		inet_pton(AF_INET, a->numeric, &u.in.sin_addr);
		len = (socklen_t)sizeof(u.in);
	}
again:
	if ((fd = socket(a->family, type | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, &u.sa, len) < 0) {
		e = errno;
		close(fd);
		/* A local syslog daemon may listen on a stream socket. */
		if (a->family == AF_UNIX && e == EPROTOTYPE && type == SOCK_DGRAM) {
			type = SOCK_STREAM;
			goto again;
		}
		return -e;
	}
	return fd;
}
