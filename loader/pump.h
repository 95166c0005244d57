/*
 * The pipeline's spine: raw records from the capture are decoded into
 * batches of events, which go into the store and then to whoever else
 * wants them (metrics, live streams, the fleet's exporter) through one
 * publish callback.
 * Used by the reader thread only.
 */
#ifndef LD_PUMP_H
#define LD_PUMP_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct pump;
struct store;

/* Called after each batch is stored: folded[i] is 1 when ev[i] was folded
 * into an existing record (see store_add_marked()). */
typedef void (*pump_publish_fn)(void *ctx, const struct event *ev, size_t n,
    const unsigned char *folded);

/* Returns a pump feeding s, or NULL (errno ENOMEM).  Free with pump_free(). */
struct pump *pump_new(struct store *s, pump_publish_fn publish, void *ctx);
void pump_free(struct pump *p);

/* Callbacks in the shape of the ring reader's (ld_sample_fn, ld_lost_fn);
 * ctx is the pump. */
void pump_sample(void *ctx, const void *data, uint32_t len);
void pump_lost(void *ctx, uint64_t n);

/* Store and publish what was decoded so far; once a second, follow
 * wall-clock steps (NTP).  Call after each drain. */
void pump_flush(struct pump *p);

#endif
