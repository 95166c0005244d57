/*
 * civetweb setup.  We use it as a plain HTTP/1.1 server for eight
 * resources (http_start() registers them: JSON, NDJSON or SSE streams,
 * Prometheus text): no files (built with NO_FILES, and no
 * document_root), no TLS, no CGI.  Its log goes to log_debug(), except that we keep the reason a
 * listening socket failed, because civetweb itself only reports "Failed to
 * setup server ports" and a user needs to hear "address already in use".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <civetweb.h>

#include "httpd/api.h"
#include "httpd/http.h"
#include "httpd/metrics.h"
#include "httpd/reaper.h"
#include "httpd/reply.h"
#include "httpd/sandbox.h"
#include "httpd/stream.h"
#include "util/log.h"

#define DEFAULT_TIMEOUT_MS 10000

struct http {
	struct mg_context *ctx;
	struct api_state *st;
	/*
	 * Why the last start attempt could not listen.  Written by
	 * log_message() while mg_start2() sets up the ports, which happens
	 * on the thread calling it, before any worker exists.
	 */
	int bind_errno;    /* errno of the first failed bind(), or 0 */
	int socket_failed; /* socket() failed: no such address family */
	const char *token; /* bearer token or NULL; owned by main */
	int ready;         /* set by http_ready(), read by the workers */
	int stopping;      /* http_stop() began */
	pthread_mutex_t ready_mu; /* with ready_cv: workers wait for ready */
	pthread_cond_t ready_cv;
	unsigned threads;  /* civetweb's workers */
	/* Connections open, each holding a worker from accept to close:
	 * civetweb serves a connection on one thread for as long as it
	 * lasts, keep-alive waits included. */
	unsigned live;
	struct reaper *reaper; /* ends idle and slow connections when short */
};

/* Where and how to listen, derived from -addr. */
struct listen_spec {
	char ports[128];    /* civetweb listening_ports */
	char fallback[64];  /* v4 only, when IPv6 is unavailable, or "" */
	unsigned port;      /* 1-65535 */
};

/*
 * civetweb logs "cannot bind to <spec>: <errno> (<text>)" and
 * "cannot create socket (entry N)" before failing.  Keep the first errno:
 * the text of strerror() differs between glibc and musl.
 */
static void
note_listen_error(struct http *h, const char *msg)
{
	const char *p;
	long e;

	if (strncmp(msg, "cannot create socket", 20) == 0) {
		h->socket_failed = 1;
		return;
	}
	if (strncmp(msg, "cannot bind to ", 15) != 0 || h->bind_errno)
		return;
	if ((p = strrchr(msg, '(')) == NULL || p - msg < 3)
		return;
	/* Walk back over " <digits> " to the ": " before them. */
	for (p -= 2; p > msg && *p >= '0' && *p <= '9'; p--)
		;
	e = strtol(p + 1, NULL, 10);
	if (e > 0 && e < 4096)
		h->bind_errno = (int)e;
}

static int
log_message(const struct mg_connection *conn, const char *msg)
{
	struct http *h = mg_get_user_context_data(conn);

	log_debug("civetweb: %s", msg);
	if (h)
		note_listen_error(h, msg);
	return 1; /* handled: civetweb prints nothing */
}

static int
http_error(struct mg_connection *conn, int status, const char *msg)
{
	struct http *h = mg_get_user_context_data(conn);

	if (h && h->st)
		metrics_http(h->st->metrics, EP_OTHER, status);
	return api_http_error(conn, status, msg);
}

/* Before any handler: the bearer token, so that no endpoint, present or
 * added later, can forget to check it.  0 lets civetweb go on. */
static int
begin_request(struct mg_connection *conn)
{
	struct http *h = mg_get_user_context_data(conn);

	if (!h)
		return 0;
	reply_begin();
	reaper_busy(h->reaper, mg_get_user_connection_data(conn), 1);
	/* An idle keep-alive connection holds its worker until the client's
	 * next request or the time-out.  Once three quarters of the workers
	 * hold connections, replies close theirs, so that idle clients can
	 * never take the workers the next client needs. */
	if (__atomic_load_n(&h->live, __ATOMIC_RELAXED) > h->threads / 4 * 3 &&
	    h->threads >= 4)
		reply_close_after(conn);
	/* Pairs with the release store in http_ready(). */
	if (!__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE)) {
		api_http_error(conn, 503, "starting up, try again in a moment");
		return 503;
	}
	if (!h->token)
		return 0;
	return api_authorize(conn, h->token);
}

/*
 * A connection is handed to a worker, before civetweb reads a byte of it.
 * Until main has entered the sandbox (http_ready()) the worker waits here:
 * nothing a client sends is parsed, and nothing answered, with root's
 * privileges.  A server stopping before that ends the connection unread.
 */
static int
conn_open(const struct mg_connection *conn, void **data)
{
	struct http *h = mg_get_user_context_data(conn);

	*data = NULL;
	if (!h)
		return 0;
	if (!__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&h->ready_mu);
		while (!h->ready && !h->stopping)
			pthread_cond_wait(&h->ready_cv, &h->ready_mu);
		if (!h->ready)
			shutdown(ebpf_conn_socket(conn), SHUT_RDWR);
		pthread_mutex_unlock(&h->ready_mu);
	}
	/* A worker never needs the exporter's sockets (sandbox.h): they
	 * are taken away before it reads its first request, once the
	 * sandbox is in (ready).  This cannot fail then (same program,
	 * same thread); civetweb ignores what this callback returns. */
	if (h->ready)
		(void)sandbox_close_net();
	__atomic_add_fetch(&h->live, 1, __ATOMIC_RELAXED);
	reaper_open(h->reaper, conn, data);
	return 0;
}

/* A reply is out: the connection waits for the next request. */
static void
end_request(const struct mg_connection *conn, int status)
{
	struct http *h = mg_get_user_context_data(conn);

	(void)status;
	if (h)
		reaper_busy(h->reaper, mg_get_user_connection_data(conn), 0);
}

static void
conn_close(const struct mg_connection *conn)
{
	struct http *h = mg_get_user_context_data(conn);

	if (!h)
		return;
	reaper_close(h->reaper, mg_get_user_connection_data(conn));
	__atomic_sub_fetch(&h->live, 1, __ATOMIC_RELAXED);
}

/* Each handler through one wrapper that counts its response for /metrics. */
static int
counted(struct mg_connection *conn, void *cbdata,
    int (*handler)(struct mg_connection *, void *), enum metrics_ep ep)
{
	struct api_state *st = cbdata;
	int status = handler(conn, cbdata);

	if (status > 0)
		metrics_http(st->metrics, ep, status);
	return status;
}

#define COUNTED(name, fn, ep) \
	static int name(struct mg_connection *conn, void *cbdata) \
	{ return counted(conn, cbdata, fn, ep); }
COUNTED(h_health, api_health, EP_HEALTH)
COUNTED(h_summary, api_summary, EP_SUMMARY)
COUNTED(h_list, api_list, EP_LIST)
COUNTED(h_top, api_top, EP_TOP)
COUNTED(h_stream, api_stream, EP_STREAM)
COUNTED(h_metrics, api_metrics, EP_METRICS)
COUNTED(h_openapi, api_openapi, EP_OPENAPI)
#undef COUNTED

/* "/" answers every path without a handler: count those as "other". */
static int
h_root(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri ? ri->local_uri : "";

	return counted(conn, cbdata, api_root,
	    strcmp(path, "/") == 0 ? EP_ROOT : EP_OTHER);
}

/* Whether the kernel has IPv6 at all (not booted with ipv6.disable=1). */
static int
have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/*
 * Turn -addr into civetweb's listening_ports, accepting what Go's
 * net.Listen accepts for numeric hosts: ":8080" and "[::]:8080" are every
 * interface, IPv4 and IPv6 on one dual-stack socket ("+8080"); "0.0.0.0"
 * is IPv4 only; "localhost" is both loopbacks.  Other host names are
 * refused rather than resolved: a listening address that depends on DNS
 * at start-up is a surprise.  Returns 0, or -EINVAL with a message.
 */
static int
parse_addr(const char *addr, struct listen_spec *ls, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *p;
	unsigned char buf[sizeof(struct in6_addr)];
	unsigned long port = 0;
	size_t hlen;

	memset(ls, 0, sizeof(*ls));
	colon = strrchr(addr, ':');
	if (!colon) /* "8080" */
		colon = addr - 1;
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p || port < 1 || port > 65535) {
		snprintf(err, errlen, "listen on %s: the port must be a number "
		    "from 1 to 65535", addr);
		return -EINVAL;
	}
	ls->port = (unsigned)port;
	hlen = colon > addr ? (size_t)(colon - addr) : 0;
	if (hlen >= sizeof(host))
		goto badhost;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';

	if (hlen == 0 || strcmp(host, "[::]") == 0) {
		snprintf(ls->ports, sizeof(ls->ports), "+%lu", port);
		snprintf(ls->fallback, sizeof(ls->fallback), "%lu", port);
	} else if (strcmp(host, "localhost") == 0) {
		snprintf(ls->ports, sizeof(ls->ports), "127.0.0.1:%lu,[::1]:%lu",
		    port, port);
		snprintf(ls->fallback, sizeof(ls->fallback), "127.0.0.1:%lu", port);
	} else if (inet_pton(AF_INET, host, buf) == 1) {
		snprintf(ls->ports, sizeof(ls->ports), "%s:%lu", host, port);
	} else if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, buf) != 1)
			goto badhost;
		snprintf(ls->ports, sizeof(ls->ports), "[%s]:%lu", host + 1, port);
	} else {
		goto badhost;
	}
	return 0;
badhost:
	snprintf(err, errlen, "listen on %s: the host must be empty, "
	    "localhost, an IPv4 address or an IPv6 address in brackets", addr);
	return -EINVAL;
}

int
http_addr_loopback(const char *addr)
{
	struct listen_spec ls;
	char err[160];

	if (!addr || !*addr)
		addr = ":8080";
	if (parse_addr(addr, &ls, err, sizeof(err)) < 0)
		return 0;
	/* civetweb's form: "127.x.y.z:port", "[::1]:port", or both for
	 * localhost; "+port" and a bare port are every interface. */
	return strncmp(ls.ports, "127.", 4) == 0 ||
	    strncmp(ls.ports, "[::1]:", 6) == 0;
}

int
http_addr_port(const char *addr)
{
	struct listen_spec ls;
	char err[160];

	if (!addr || !*addr)
		addr = ":8080";
	return parse_addr(addr, &ls, err, sizeof(err)) < 0 ? 0 : (int)ls.port;
}

/* strerror() wording differs between libcs; say the common ones our way. */
static const char *
errno_text(int e)
{
	switch (e) {
	case EADDRINUSE:
		return "address already in use";
	case EACCES:
		return "permission denied (ports below 1024 need root or "
		    "CAP_NET_BIND_SERVICE)";
	case EADDRNOTAVAIL:
		return "address not available on this host";
	case EAFNOSUPPORT:
		return "address family not supported by the kernel";
	}
	return strerror(e);
}

/* A worker (or civetweb's master) thread ends: free what it kept. */
static void
exit_thread(const struct mg_context *ctx, int type, void *user)
{
	(void)ctx;
	(void)type;
	(void)user;
	api_thread_exit();
}

static struct mg_context *
start(struct http *h, const char *ports, const struct http_conf *conf,
    char *cwerr, size_t cwerrlen)
{
	static const struct mg_callbacks cb = {
		.exit_thread = exit_thread,
		.log_message = log_message,
		.http_error = http_error,
		.begin_request = begin_request,
		.end_request = end_request,
		.init_connection = conn_open,
		.connection_close = conn_close,
	};
	char threads[16], timeout[16], maxreq[16], backlog[16];
	const char *opts[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"request_timeout_ms", timeout,
		"keep_alive_timeout_ms", timeout,
		"enable_keep_alive", "yes",
		/* A small reply leaves in one write (reply.c), a large one and
		 * a stream in several; with Nagle a write after the first
		 * waited for the client's delayed ACK, 40 ms a time. */
		"tcp_nodelay", "1",
		"max_request_size", maxreq,
		/* Clients beyond the workers wait in the kernel's accept queue:
		 * room for a crowd (the kernel caps it at somaxconn), so that a
		 * new client's SYN is not dropped and retried a second later. */
		"listen_backlog", backlog,
		NULL,
	};
	struct mg_init_data init = {
		.callbacks = &cb,
		.user_data = h,
		.configuration_options = opts,
	};
	struct mg_error_data ed = {
		.text = cwerr,
		.text_buffer_size = cwerrlen,
	};
	struct mg_context *ctx;

	h->threads = conf->threads ? conf->threads : HTTP_THREADS_DEFAULT;
	snprintf(threads, sizeof(threads), "%u", h->threads);
	snprintf(timeout, sizeof(timeout), "%u",
	    conf->timeout_ms ? conf->timeout_ms : DEFAULT_TIMEOUT_MS);
	snprintf(maxreq, sizeof(maxreq), "%u",
	    conf->max_header ? conf->max_header : HTTP_HEADER_DEFAULT);
	snprintf(backlog, sizeof(backlog), "%u", HTTP_BACKLOG);
	h->bind_errno = 0;
	h->socket_failed = 0;
	cwerr[0] = '\0';
	ctx = mg_start2(&init, &ed);
	if (ctx)
		log_debug("http: listening on %s", ports);
	return ctx;
}

struct http *
http_start(const struct http_conf *conf, struct api_state *st, char *err,
    size_t errlen)
{
	const char *addr = conf->addr && *conf->addr ? conf->addr : ":8080";
	struct listen_spec ls;
	char cwerr[256];
	struct http *h;
	int e;

	if (parse_addr(addr, &ls, err, errlen) < 0)
		return NULL;
	if (!(h = calloc(1, sizeof(*h)))) {
		snprintf(err, errlen, "http: %s", strerror(errno));
		return NULL;
	}
	h->token = conf->token;
	h->st = st;
	pthread_mutex_init(&h->ready_mu, NULL);
	pthread_cond_init(&h->ready_cv, NULL);
	if (!(h->reaper = reaper_new(conf->threads ? conf->threads :
	    HTTP_THREADS_DEFAULT))) {
		snprintf(err, errlen, "http: %s", strerror(errno));
		free(h);
		return NULL;
	}
	mg_init_library(0);
	if (ls.fallback[0] && !have_ipv6())
		h->ctx = start(h, ls.fallback, conf, cwerr, sizeof(cwerr));
	else
		h->ctx = start(h, ls.ports, conf, cwerr, sizeof(cwerr));
	/* IPv6 exists but ::1 is not configured (disable_ipv6 sysctl in many
	 * containers): "localhost" still works on 127.0.0.1. */
	if (!h->ctx && ls.fallback[0] && (h->socket_failed ||
	    h->bind_errno == EADDRNOTAVAIL || h->bind_errno == EAFNOSUPPORT))
		h->ctx = start(h, ls.fallback, conf, cwerr, sizeof(cwerr));
	if (!h->ctx) {
		e = h->bind_errno;
		if (e)
			snprintf(err, errlen, "listen on %s: %s", addr, errno_text(e));
		else if (h->socket_failed)
			snprintf(err, errlen, "listen on %s: %s", addr,
			    errno_text(EAFNOSUPPORT));
		else
			snprintf(err, errlen, "http: cannot start civetweb: %s",
			    cwerr[0] ? cwerr : "unknown error");
		reaper_free(h->reaper);
		free(h);
		mg_exit_library();
		return NULL;
	}

	/* Each civetweb handler also gets paths below its own ("/health/x");
	 * the handlers compare the path exactly and answer 404.  "/" catches
	 * every path without a handler.  Until main calls http_ready(),
	 * after entering the sandbox, workers wait in conn_open() before
	 * reading a byte; begin_request() would answer a JSON 503 should
	 * one get past. */
	mg_set_request_handler(h->ctx, "/health", h_health, st);
	mg_set_request_handler(h->ctx, "/api/connection-summary", h_summary, st);
	mg_set_request_handler(h->ctx, "/api/list-connections", h_list, st);
	mg_set_request_handler(h->ctx, "/api/top", h_top, st);
	mg_set_request_handler(h->ctx, "/api/stream", h_stream, st);
	mg_set_request_handler(h->ctx, "/metrics", h_metrics, st);
	mg_set_request_handler(h->ctx, "/openapi.json", h_openapi, st);
	mg_set_request_handler(h->ctx, "/", h_root, st);
	if (!conf->token && !http_addr_loopback(addr))
		log_warnx("listening on %s, beyond loopback, without -token-file: "
		    "anyone who can reach the port sees every process's "
		    "connections", addr);
	return h;
}

void
http_ready(struct http *h)
{
	/* Pairs with the acquire loads in conn_open() and begin_request(). */
	pthread_mutex_lock(&h->ready_mu);
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&h->ready_cv);
	pthread_mutex_unlock(&h->ready_mu);
}

void
http_stop(struct http *h)
{
	if (!h)
		return;
	/* Streams never finish on their own: end them first, then mg_stop()
	 * waits for the workers to finish the requests they are serving. */
	hub_shutdown(h->st->hub);
	/* Workers still waiting for http_ready() must let go, or mg_stop()
	 * would wait for them for ever. */
	pthread_mutex_lock(&h->ready_mu);
	h->stopping = 1;
	pthread_cond_broadcast(&h->ready_cv);
	pthread_mutex_unlock(&h->ready_mu);
	mg_stop(h->ctx);
	reaper_free(h->reaper);
	pthread_cond_destroy(&h->ready_cv);
	pthread_mutex_destroy(&h->ready_mu);
	free(h);
	mg_exit_library();
}
