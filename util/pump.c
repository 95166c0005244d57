/* Decoding raw records into the store.  See pump.h. */
#include <errno.h>
#include <stdlib.h>

#include "util/event.h"
#include "util/log.h"
#include "util/pump.h"
#include "util/store.h"
#include "util/timefmt.h"

#define BATCH 512

struct pump {
	struct store *store;
	pump_publish_fn publish;
	void *ctx;
	int64_t mono_to_real;
	uint64_t last_sync;     /* CLOCK_MONOTONIC of the last clock check */
	uint64_t bad;
	size_t n;
	unsigned char folded[BATCH];
	struct event batch[BATCH];
};

struct pump *
pump_new(struct store *s, pump_publish_fn publish, void *ctx)
{
	struct pump *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->store = s;
	p->publish = publish;
	p->ctx = ctx;
	p->mono_to_real = time_mono_to_real();
	p->last_sync = time_mono_ns();
	return p;
}

void
pump_free(struct pump *p)
{
	free(p);
}

static void
store_batch(struct pump *p)
{
	if (p->n == 0)
		return;
	/* The folded marks tell the streams which events are new records;
	 * the metrics count every event. */
	store_add_marked(p->store, p->batch, p->n, p->folded);
	if (p->publish)
		p->publish(p->ctx, p->batch, p->n, p->folded);
	p->n = 0;
}

void
pump_sample(void *ctx, const void *data, uint32_t len)
{
	struct pump *p = ctx;

	if (ev_decode(data, len, p->mono_to_real, &p->batch[p->n]) < 0) {
		p->bad++;
		return;
	}
	if (++p->n == BATCH)
		store_batch(p);
}

void
pump_lost(void *ctx, uint64_t n)
{
	struct pump *p = ctx;

	store_lost(p->store, n);
	log_debug("perf ring: %llu events lost", (unsigned long long)n);
}

void
pump_flush(struct pump *p)
{
	uint64_t now;

	store_batch(p);
	now = time_mono_ns();
	if (now - p->last_sync > 1000000000ULL) {
		p->mono_to_real = time_mono_to_real();
		p->last_sync = now;
	}
}

uint64_t
pump_bad(const struct pump *p)
{
	return p->bad;
}
