/*
 * What the exporter's files share (export.c, export_net.c,
 * export_syslog.c): an engine's address, resolved once before the
 * sandbox, and the ways out to it.  Not for other modules.
 */
#ifndef EXPORT_IMPL_H
#define EXPORT_IMPL_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct jbuf;

/* A syslog message's head: PRI, version, time, host (EXPORT_HOST_MAX),
 * app, pid, MSGID. */
#define EXPORT_HEAD_MAX 400

/* Where an engine is, resolved at start-up: the sandbox allows no name
 * lookups, and civetweb's client is handed the numeric address so that it
 * never tries one. */
struct xaddr {
	int family;              /* AF_INET, AF_INET6, AF_UNIX */
	int socktype;            /* SOCK_STREAM or SOCK_DGRAM */
	char numeric[64];        /* "127.0.0.1", "::1" */
	int port;
	char hosthdr[300];       /* the Host header: the name as given */
	char path[1024];         /* HTTP: path and query; unix: socket path */
};

/* "http://host[:port]/path?query" (the port defaults to 80).  Returns 0,
 * or -EINVAL with a message in err. */
int xaddr_url(const char *url, struct xaddr *a, char *err, size_t errlen);

/* "udp://host:port", "tcp://host:port" or "unix:/path".  Returns 0, or
 * -EINVAL with a message in err. */
int xaddr_syslog(const char *spec, struct xaddr *a, char *err, size_t errlen);

/*
 * POST len bytes of body with this Content-Type through civetweb's client
 * (mg_connect_client, mg_get_response), one connection per request.
 * Returns the HTTP status, or a negative errno when no answer came; msg
 * gets the reason, or the start of the engine's answer to a non-2xx.
 */
int xhttp_post(const struct xaddr *a, const char *ctype, const char *body,
    size_t len, int timeout_ms, char *msg, size_t msglen);

/* A socket connected to a (syslog), writes bounded by timeout_ms.  Returns
 * the fd or a negative errno. */
int xsock_open(const struct xaddr *a, int timeout_ms);

/*
 * An event as one syslog message into b: RFC 5424 with the event's JSON
 * object (the NDJSON line without its newline) as the message; framed for
 * the transport: "LEN " before it on TCP (RFC 6587 octet counting),
 * nothing on a datagram socket.
 */
void xsyslog_line(struct jbuf *b, const struct event *ev, const char *json,
    size_t jlen, const char *host, int pid, int octet_count);

#endif
