/*
 * Workers for new clients when slow ones hold the rest.  civetweb gives
 * each connection one worker from accept to close, so a crowd of clients
 * that never finish their headers can hold every worker until the
 * time-out while new clients wait in the accept queue.  The reaper knows
 * which connections are still waiting for their first request's headers
 * and, while fewer than a reserve of workers are free, ends those that
 * waited REAP_HEADER_MS.  Kept-alive connections between requests are
 * left alone (replies stop keeping connections alive once three quarters
 * of the workers are held, in http.c, which bounds what idle clients can
 * hold), and a request being answered is never touched.
 */
#ifndef REAPER_H
#define REAPER_H

struct reaper;
struct mg_connection;

/* While workers are short: how long a new connection's headers may take. */
#define REAP_HEADER_MS 100

/* Returns a reaper for threads workers with its thread running, or NULL
 * (errno set).  Stop and free it with reaper_free(). */
struct reaper *reaper_new(unsigned threads);
void reaper_free(struct reaper *r);

/* A connection got a worker (civetweb's init_connection); its handle
 * goes into *slot, NULL when untracked. */
void reaper_open(struct reaper *r, const struct mg_connection *conn,
    void **slot);
/* Its request's headers are in (begin_request: busy 1), or its reply is
 * out (end_request: busy 0, waiting again). */
void reaper_busy(struct reaper *r, void *slot, int busy);
/* It closes (connection_close), before civetweb closes its socket. */
void reaper_close(struct reaper *r, void *slot);

/* The socket of a connection, which civetweb's API does not give: in
 * civetweb.c, from httpd/civetweb/external_log_access.inl. */
int ebpf_conn_socket(const struct mg_connection *conn);

#endif
