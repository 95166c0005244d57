/* What the handlers in api.c, meta.c, stream.c and the metrics endpoint
 * share. */
#ifndef API_H
#define API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_state;
struct event;
struct mg_connection;
struct mg_request_info;
struct req_filter;
struct store_filter;

/* {"error": "<status text>", "message": "..."} with a printf-style
 * message; returns the status sent. */
int api_reply_error(struct mg_connection *conn, int status, int pretty,
    const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 200 with o (consumed), built by json_set() calls that or'ed their
 * results into rc: rc < 0 (or o NULL) means out of memory, and a 500 is
 * sent instead.  Returns the status sent, or -1. */
int api_reply_built(struct mg_connection *conn, json_t *o, int rc, int pretty);

/* A response with a ready JSON body of len bytes (not freed).  Returns
 * status, or -1 when civetweb would not start a response. */
int api_send_json(struct mg_connection *conn, int status, const char *body,
    size_t len);

/* Exact path and method checks; 0 to go on, else the status already sent. */
int api_check_route(struct mg_connection *conn,
    const struct mg_request_info *ri, const char *path, const char *allow);

/* An event as the API shows it, with its cgroup path.  New reference, NULL
 * when out of memory. */
json_t *api_event_json(const struct api_state *st, const struct event *ev);

/* The store's form of parsed filters, "since N seconds" resolved against
 * now_ns.  out points into rf (the protocol name): keep rf alive. */
void api_store_filter(const struct req_filter *rf, uint64_t now_ns,
    struct store_filter *out);

#endif
