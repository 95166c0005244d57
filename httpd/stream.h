/*
 * Live events for GET /api/stream.  The reader publishes every new record
 * to a hub; each connected client has a bounded queue of its own that the
 * reader fills without waiting for the client: when the queue is full the
 * event is dropped and counted, and the client's next line is
 * {"gap": N}.  A slow client therefore skips ahead and never slows the
 * reader or the other clients.  Thread-safe.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <stdint.h>

#define STREAM_QUEUE 1024          /* events queued per client */
#define STREAM_DEFAULT_MAX 4       /* -max-streams */
#define STREAM_KEEPALIVE_MS 5000   /* idle time before a keep-alive line */

struct event;
struct hub;
struct store_filter;

/*
 * A hub for at most max_clients concurrent streams, each sending a
 * keep-alive line after keepalive_ms without events.  Returns NULL with
 * errno set.  Free with hub_free() after the HTTP server has stopped.
 */
struct hub *hub_new(unsigned max_clients, unsigned keepalive_ms);
void hub_free(struct hub *h);

/*
 * From the reader: offer n events to every client whose filter they pass.
 * folded[i] (when folded is not NULL) marks events the store folded into
 * an earlier record, which are not sent again.  Costs one atomic load when
 * nobody is connected; never waits for a client.
 */
void hub_publish(struct hub *h, const struct event *ev, size_t n,
    const unsigned char *folded);

/* End every stream (server shutdown): handlers return within 250 ms. */
void hub_shutdown(struct hub *h);

/* Clients connected now, and events dropped for slow ones since start. */
void hub_stats(struct hub *h, unsigned *clients, uint64_t *dropped);

/* Whether ev passes a stream's filter (a client's, or -export-filter's):
 * its pid when has_pid, its command when command is not "", then f. */
int hub_match(int has_pid, uint32_t pid, const char *command,
    const struct store_filter *f, const struct event *ev);


#endif
