/*
 * Per-second counters.  A ring of CNT_WINDOW buckets indexed by second
 * modulo CNT_WINDOW; each bucket holds two small open-addressing tables,
 * pid -> counts and comm -> counts, for the one second it is stamped
 * with.  Each entry keeps one count per kind (connect() attempts and
 * datagrams apart), because connection-summary reports them apart.  A bucket stamped with another second is stale and is emptied
 * before reuse, so the memory held is bounded by the distinct (second, pid)
 * and (second, comm) pairs of the last hour.  See counters.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/counters.h"
#include "util/store.h"

/* Seconds kept: the store's window. */
#define CNT_WINDOW STORE_WINDOW_MAX

#define NO_SEC UINT64_MAX
#define MIN_CAP 8

/* used == 0 marks a free slot: nothing is ever counted with n == 0. */
struct pident {
	uint32_t pid;
	uint32_t used;
	uint64_t n[CNT_KINDS];
};

struct comment {
	char comm[CNT_COMM_LEN];
	uint32_t used;
	uint64_t n[CNT_KINDS];
};

struct bucket {
	uint64_t sec;            /* the second counted here, NO_SEC if none */
	struct pident *pt;
	struct comment *ct;
	uint32_t pcap, pused;    /* capacities are powers of two */
	uint32_t ccap, cused;
	uint64_t total[CNT_KINDS]; /* everything counted in this second */
};

struct counters {
	struct bucket b[CNT_WINDOW];
	uint64_t swept;          /* counters_advance() has seen up to here */
	size_t bytes;            /* tables' memory */
};

static uint32_t
pid_hash(uint32_t pid)
{
	uint32_t h = pid * 0x9e3779b1u;

	return h ^ (h >> 16);
}

static uint32_t
comm_hash(const char *comm)
{
	uint64_t a, b;

	memcpy(&a, comm, 8);
	memcpy(&b, comm + 8, 8);
	a = a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(a ^ (a >> 29) ^ (a >> 47));
}

/* Empty a bucket for reuse and give its tables back. */
static void
bucket_clear(struct counters *c, struct bucket *b)
{
	c->bytes -= (size_t)b->pcap * sizeof(*b->pt) +
	    (size_t)b->ccap * sizeof(*b->ct);
	free(b->pt);
	free(b->ct);
	memset(b, 0, sizeof(*b));
	b->sec = NO_SEC;
}

struct counters *
counters_new(void)
{
	struct counters *c;
	size_t i;

	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	for (i = 0; i < CNT_WINDOW; i++)
		c->b[i].sec = NO_SEC;
	return c;
}

void
counters_free(struct counters *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CNT_WINDOW; i++) {
		free(c->b[i].pt);
		free(c->b[i].ct);
	}
	free(c);
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

/* Double (or create) the pid table of b.  Returns 0 or -ENOMEM. */
static int
pid_grow(struct counters *c, struct bucket *b)
{
	uint32_t cap = b->pcap ? b->pcap * 2 : MIN_CAP, i, j;
	struct pident *t;

	if (!(t = calloc(cap, sizeof(*t))))
		return -ENOMEM;
	for (i = 0; i < b->pcap; i++) {
		if (!b->pt[i].used)
			continue;
		for (j = pid_hash(b->pt[i].pid) & (cap - 1); t[j].used;
		    j = (j + 1) & (cap - 1))
			;
		t[j] = b->pt[i];
	}
	free(b->pt);
	c->bytes += (size_t)(cap - b->pcap) * sizeof(*t);
	b->pt = t;
	b->pcap = cap;
	return 0;
}

static int
comm_grow(struct counters *c, struct bucket *b)
{
	uint32_t cap = b->ccap ? b->ccap * 2 : MIN_CAP, i, j;
	struct comment *t;

	if (!(t = calloc(cap, sizeof(*t))))
		return -ENOMEM;
	for (i = 0; i < b->ccap; i++) {
		if (!b->ct[i].used)
			continue;
		for (j = comm_hash(b->ct[i].comm) & (cap - 1); t[j].used;
		    j = (j + 1) & (cap - 1))
			;
		t[j] = b->ct[i];
	}
	free(b->ct);
	c->bytes += (size_t)(cap - b->ccap) * sizeof(*t);
	b->ct = t;
	b->ccap = cap;
	return 0;
}

/* Grow at 3/4 full: linear probing stays short below that. */
static int
pid_add(struct counters *c, struct bucket *b, uint32_t pid, unsigned kind,
    uint64_t n)
{
	uint32_t i, mask;
	int r;

	if ((b->pused + 1) * 4 > b->pcap * 3 && (r = pid_grow(c, b)))
		return r;
	mask = b->pcap - 1;
	for (i = pid_hash(pid) & mask; b->pt[i].used; i = (i + 1) & mask) {
		if (b->pt[i].pid == pid) {
			b->pt[i].n[kind] += n;
			return 0;
		}
	}
	b->pt[i].pid = pid;
	b->pt[i].used = 1;
	b->pt[i].n[kind] = n;
	b->pused++;
	return 0;
}

static int
comm_add(struct counters *c, struct bucket *b, const char *comm,
    unsigned kind, uint64_t n)
{
	uint32_t i, mask;
	int r;

	if ((b->cused + 1) * 4 > b->ccap * 3 && (r = comm_grow(c, b)))
		return r;
	mask = b->ccap - 1;
	for (i = comm_hash(comm) & mask; b->ct[i].used; i = (i + 1) & mask) {
		if (!memcmp(b->ct[i].comm, comm, CNT_COMM_LEN)) {
			b->ct[i].n[kind] += n;
			return 0;
		}
	}
	memcpy(b->ct[i].comm, comm, CNT_COMM_LEN);
	b->ct[i].used = 1;
	b->ct[i].n[kind] = n;
	b->cused++;
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
	r1 = pid_add(c, b, pid, kind, n);
	r2 = comm_add(c, b, comm, kind, n);
	return r1 ? r1 : r2;
}

static uint64_t
pid_get(const struct bucket *b, uint32_t pid, unsigned kind)
{
	uint32_t i, mask = b->pcap - 1;

	if (!b->pcap)
		return 0;
	for (i = pid_hash(pid) & mask; b->pt[i].used; i = (i + 1) & mask)
		if (b->pt[i].pid == pid)
			return b->pt[i].n[kind];
	return 0;
}

static uint64_t
comm_get(const struct bucket *b, const char *comm, unsigned kind)
{
	uint32_t i, mask = b->ccap - 1;

	if (!b->ccap)
		return 0;
	for (i = comm_hash(comm) & mask; b->ct[i].used; i = (i + 1) & mask)
		if (!memcmp(b->ct[i].comm, comm, CNT_COMM_LEN))
			return b->ct[i].n[kind];
	return 0;
}

uint64_t
counters_count(const struct counters *c, int has_pid, uint32_t pid,
    const char *comm, uint64_t now_s, unsigned duration_s, unsigned kind)
{
	uint64_t sum = 0, t;
	unsigned i;

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
			sum += pid_get(b, pid, kind);
		else if (comm)
			sum += comm_get(b, comm, kind);
		else
			sum += b->total[kind];
	}
	return sum;
}

size_t
counters_bytes(const struct counters *c)
{
	return sizeof(*c) + c->bytes;
}
