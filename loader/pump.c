/* Decoding raw records into the store.  See pump.h. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "loader/decode.h"
#include "loader/pump.h"
#include "util/event.h"
#include "util/log.h"
#include "util/store.h"
#include "util/timefmt.h"

#define BATCH 512
/* TCP connects waiting for their outcome, direct mapped by socket
 * address (a newer entry replaces an older one); and outcomes that
 * arrived before their connect (the connect waited in a per-CPU batch, or
 * another CPU's ring was read first), EWAYS per set: a freed socket's
 * address is soon another socket's, so one address may have the outcomes
 * of several connects waiting, and each connect takes the first outcome
 * after it. */
#define PEND 4096
#define EWAYS 4
#define TCP_ESTABLISHED 1
#define TCP_CLOSE 7
#define NO_SEQ UINT64_MAX

struct pend {
	uint64_t sk;            /* 0: free */
	uint64_t ts;            /* the connect's CLOCK_MONOTONIC time */
	uint64_t seq;           /* its store record, NO_SEQ while in batch */
	uint32_t idx;           /* its slot in batch while seq is NO_SEQ */
};

struct early {
	uint64_t sk;            /* 0: free */
	uint64_t ts;
	uint8_t result;
};

struct pump {
	struct store *store;
	pump_publish_fn publish;
	void *ctx;
	int64_t mono_to_real;
	uint64_t last_sync;     /* CLOCK_MONOTONIC of the last clock check */
	size_t n;
	unsigned char folded[BATCH];
	struct event batch[BATCH];
	uint64_t batch_sk[BATCH];       /* TCP connects waiting, else 0 */
	struct pend pend[PEND];
	struct early early[PEND / EWAYS][EWAYS];
};

static size_t
slot(uint64_t sk)
{
	/* struct sock is cache-line aligned: the low bits say nothing. */
	return (size_t)(((sk >> 6) * 0x9e3779b97f4a7c15ULL) >> 52) & (PEND - 1);
}

/* What the socket's move out of SYN_SENT means. */
static uint8_t
outcome(const struct ld_link *r)
{
	if (r->state == TCP_ESTABLISHED)
		return EV_RESULT_OK;
	if (r->state != TCP_CLOSE || r->err <= 0)
		return EV_RESULT_UNKNOWN;   /* closed by its owner, or no BTF */
	return ev_result_of_errno(r->err);
}

/* An outcome: to its connect, waiting in the batch or stored already,
 * or kept until the connect arrives. */
static void
on_result(struct pump *p, const struct ld_link *r)
{
	struct pend *e;
	struct early *x;
	int i, w;

	if (r->sk == 0)
		return;
	e = &p->pend[slot(r->sk)];
	if (e->sk == r->sk && e->ts <= r->ts) {
		if (e->seq == NO_SEQ)
			p->batch[e->idx].result = outcome(r);
		else
			store_set_result(p->store, e->seq, outcome(r));
		e->sk = 0;
		return;
	}
	/* A free way, else the oldest. */
	x = p->early[slot(r->sk) / EWAYS];
	for (i = 1, w = 0; i < EWAYS && x[w].sk; i++)
		if (!x[i].sk || x[i].ts < x[w].ts)
			w = i;
	x[w].sk = r->sk;
	x[w].ts = r->ts;
	x[w].result = outcome(r);
}

/* A TCP connect whose outcome the backend reports later (l->sk). */
static void
wait_result(struct pump *p, const struct ld_link *l, struct event *ev)
{
	struct early *x;
	struct pend *e;
	uint64_t sk = l->sk, ts = l->ts;
	int i, w;

	p->batch_sk[p->n] = 0;
	if (sk == 0 || !ev->ret_unknown || ev->syscall != EV_CONNECT ||
	    ev->protocol != IPPROTO_TCP)
		return;
	/* The first outcome after this connect is its own; those before it
	 * belong to sockets gone before. */
	x = p->early[slot(sk) / EWAYS];
	for (i = 0, w = -1; i < EWAYS; i++) {
		if (x[i].sk != sk)
			continue;
		if (x[i].ts < ts)
			x[i].sk = 0;
		else if (w < 0 || x[i].ts < x[w].ts)
			w = i;
	}
	if (w >= 0) {
		x[w].sk = 0;
		ev->result = x[w].result;
		return;
	}
	ev->result = EV_RESULT_PENDING;
	e = &p->pend[slot(sk)];
	e->sk = sk;
	e->ts = ts;
	e->seq = NO_SEQ;
	e->idx = (uint32_t)p->n;
	p->batch_sk[p->n] = sk;
}

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
	uint64_t seq;
	size_t i;

	if (p->n == 0)
		return;
	/* The folded marks tell the streams which events are new records;
	 * the metrics count every event.  Only this thread appends, so the
	 * records appended get the numbers from seq on, in order. */
	seq = store_appended(p->store);
	store_add_marked(p->store, p->batch, p->n, p->folded);
	for (i = 0; i < p->n; i++) {
		struct pend *e;

		if (p->folded[i])
			continue;
		e = &p->pend[slot(p->batch_sk[i])];
		if (p->batch_sk[i] && e->sk == p->batch_sk[i] && e->seq == NO_SEQ)
			e->seq = seq;
		seq++;
	}
	if (p->publish)
		p->publish(p->ctx, p->batch, p->n, p->folded);
	p->n = 0;
}

void
pump_sample(void *ctx, const void *data, uint32_t len)
{
	struct pump *p = ctx;
	struct ld_link l;

	if (ld_link(data, len, &l) == 0 && l.outcome) {
		on_result(p, &l);
		return;
	}
	/* A record shorter than its head fails here too. */
	if (ld_decode(data, len, p->mono_to_real, &p->batch[p->n]) < 0) {
		/* A record that does not decode is an event lost, and
		 * shown as one (/health events_lost, /metrics). */
		store_lost(p->store, 1);
		return;
	}
	wait_result(p, &l, &p->batch[p->n]);
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
