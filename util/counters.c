/*
 * Per-second counters.  A ring of CNT_WINDOW buckets indexed by second
 * modulo CNT_WINDOW; each bucket holds two heavy-hitter summaries
 * (sketch.h), pid -> counts and comm -> counts, for the one second it is
 * stamped with, each of at most `keys` keys.  Each key keeps one count per
 * kind (connect() attempts and datagrams apart), because
 * connection-summary reports them apart.  A bucket stamped with another
 * second is stale and is emptied before reuse, so the memory held is at
 * most counters_max_bytes(keys), whatever the host does; a second with
 * more distinct pids or names than that keeps the heaviest, and its counts
 * carry an error bound.  See counters.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/counters.h"
#include "util/sketch.h"

#define NO_SEC UINT64_MAX

/* What each key of a bucket keeps beside its weight (the sum of both). */
struct kinds {
	uint64_t n[CNT_KINDS];
};

struct bucket {
	uint64_t sec;            /* the second counted here, NO_SEC if none */
	struct sketch pid;       /* pid (4 bytes) -> struct kinds */
	struct sketch comm;      /* comm (CNT_COMM_LEN bytes) -> struct kinds */
	uint64_t total[CNT_KINDS]; /* everything counted in this second */
};

struct counters {
	struct bucket b[CNT_WINDOW];
	uint32_t keys;           /* most pids, and most comms, per second */
	uint64_t swept;          /* counters_advance() has seen up to here */
	size_t bytes;            /* tables' memory */
};

static void
bucket_init(struct counters *c, struct bucket *b)
{
	memset(b, 0, sizeof(*b));
	b->sec = NO_SEC;
	sketch_init(&b->pid, c->keys, sizeof(uint32_t), sizeof(struct kinds));
	sketch_init(&b->comm, c->keys, CNT_COMM_LEN, sizeof(struct kinds));
}

/* Empty a bucket for reuse and give its tables back. */
static void
bucket_clear(struct counters *c, struct bucket *b)
{
	c->bytes -= sketch_bytes(&b->pid) + sketch_bytes(&b->comm);
	sketch_clear(&b->pid);
	sketch_clear(&b->comm);
	bucket_init(c, b);
}

struct counters *
counters_new(uint32_t keys)
{
	struct counters *c;
	size_t i;

	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	c->keys = keys ? keys : 1;
	for (i = 0; i < CNT_WINDOW; i++)
		bucket_init(c, &c->b[i]);
	return c;
}

void
counters_free(struct counters *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CNT_WINDOW; i++) {
		sketch_clear(&c->b[i].pid);
		sketch_clear(&c->b[i].comm);
	}
	free(c);
}

size_t
counters_max_bytes(uint32_t keys)
{
	return sizeof(struct counters) + CNT_WINDOW *
	    (sketch_max_bytes(keys, sizeof(uint32_t), sizeof(struct kinds)) +
	    sketch_max_bytes(keys, CNT_COMM_LEN, sizeof(struct kinds)));
}

void
counters_advance(struct counters *c, uint64_t now_s)
{
	uint64_t s;

	if (now_s <= c->swept)
		return; /* nothing new, or the wall clock went back */
	s = c->swept + 1;
	if (now_s >= CNT_WINDOW && s < now_s - CNT_WINDOW + 1)
		s = now_s - CNT_WINDOW + 1;
	/* Slot s % CNT_WINDOW is about to mean second s: what it holds is an
	 * hour old (or from before a clock step) and no query can see it. */
	for (; s <= now_s; s++) {
		struct bucket *b = &c->b[s % CNT_WINDOW];

		if (b->sec != NO_SEC && b->sec != s)
			bucket_clear(c, b);
	}
	c->swept = now_s;
}

/* Count n of kind for key in one of a bucket's summaries. */
static int
key_add(struct counters *c, struct sketch *k, const void *key, unsigned kind,
    uint64_t n)
{
	size_t before = sketch_bytes(k);
	struct kinds *p;
	long e;

	e = sketch_add(k, key, n, NULL);
	c->bytes += sketch_bytes(k) - before;
	if (e < 0)
		return (int)e;
	p = sketch_payload(k, (uint32_t)e);
	p->n[kind] += n;
	return 0;
}

int
counters_add(struct counters *c, uint64_t now_s, uint64_t sec,
    uint32_t pid, const char *comm, unsigned kind, uint64_t n)
{
	struct bucket *b;
	int r1, r2;

	if (n == 0 || kind >= CNT_KINDS)
		return 0;
	/* mono_to_real is an estimate: an event can look a little early. */
	if (sec > now_s)
		sec = now_s;
	if (sec + CNT_WINDOW <= now_s)
		return 0;
	b = &c->b[sec % CNT_WINDOW];
	if (b->sec != sec) {
		bucket_clear(c, b);
		b->sec = sec;
	}
	b->total[kind] += n;
	r1 = key_add(c, &b->pid, &pid, kind, n);
	r2 = key_add(c, &b->comm, comm, kind, n);
	return r1 ? r1 : r2;
}

/*
 * The count of kind for key in one summary, and in *err how much more it
 * may have been: a key kept since before the summary filled is exact; one
 * kept later may have had up to its error before; one not kept up to the
 * lightest weight kept.
 */
static uint64_t
key_get(const struct sketch *k, const void *key, unsigned kind,
    uint64_t *err)
{
	long e = sketch_find(k, key);

	if (e < 0) {
		*err += sketch_floor(k);
		return 0;
	}
	*err += k->err[e];
	return ((const struct kinds *)sketch_payload(k, (uint32_t)e))->n[kind];
}

uint64_t
counters_count(const struct counters *c, int has_pid, uint32_t pid,
    const char *comm, uint64_t now_s, unsigned duration_s, unsigned kind,
    uint64_t *err)
{
	uint64_t sum = 0, t, e = 0;
	unsigned i;

	if (err)
		*err = 0;
	if (kind >= CNT_KINDS)
		return 0;
	if (duration_s > CNT_WINDOW)
		duration_s = CNT_WINDOW;
	for (i = 0; i < duration_s && i <= now_s; i++) {
		const struct bucket *b;

		t = now_s - i;
		b = &c->b[t % CNT_WINDOW];
		if (b->sec != t)
			continue;
		if (has_pid)
			sum += key_get(&b->pid, &pid, kind, &e);
		else if (comm)
			sum += key_get(&b->comm, comm, kind, &e);
		else
			sum += b->total[kind];
	}
	if (err)
		*err = e;
	return sum;
}

size_t
counters_bytes(const struct counters *c)
{
	return sizeof(*c) + c->bytes;
}
