/*
 * The internals of the event store, shared by its two halves: store.c
 * (the write side: the ring, path interning, datagram folding, the per-pid
 * index and the counters) and query.c (the read side: the list iterator,
 * store_count_filter(), store_top() and the filter matching).  Included by
 * util/ and the unit tests only; everyone else sees store.h.
 */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/event.h"

struct counters;
struct store_filter;

#define NS_PER_S 1000000000ULL

/* An interned unix path, shared by every record that points at it. */
struct pstr {
	struct pstr *next;   /* hash chain */
	uint32_t ref;        /* records pointing here */
	uint32_t hash;
	size_t len;
	char s[];            /* NUL-terminated */
};

/*
 * A stored event.  Everything of struct event but the path, which for
 * AF_UNIX is a reference into the path table (NULL for an unnamed socket)
 * in place of the IP address.  Field order keeps it at 88 bytes; the
 * socket type is a byte (SOCK_* are below 11), TYPE_UNKNOWN standing for
 * EV_UNKNOWN.
 */
struct rec {
	uint64_t ts;
	uint64_t cgroup_id;
	uint32_t pid, tid, ppid, uid, gid;
	int32_t ret;
	uint32_t count;
	uint16_t family, port, protocol;
	uint8_t sock_type;
	uint8_t syscall : 3;    /* enum ev_syscall */
	uint8_t result : 4;     /* enum ev_result */
	uint8_t ret_unknown : 1;
	uint32_t prev;          /* older record of this pid, in the ring */
	char comm[EV_COMM_LEN]; /* zero padded after the name */
	union {
		uint8_t ip[16];
		struct pstr *path;  /* AF_UNIX */
	} a;
};

#define TYPE_UNKNOWN 0xff

/* The per-pid index: open addressing, linear probing, n == 0 free. */
struct pidx {
	uint32_t pid;
	uint32_t newest;     /* ring slot of the pid's newest record */
	uint32_t n;          /* its records in the ring */
};

struct store {
	pthread_mutex_t mu;
	struct rec *ring;
	size_t cap;             /* max events */
	size_t head;            /* next slot written */
	size_t n;               /* records in the ring */
	uint64_t added, evicted, lost;
	struct pstr **ptab;     /* path hash table, pbuckets chains */
	size_t pbuckets, npaths, pbytes;
	struct pstr *dropped;   /* the stand-in past STORE_PATH_BYTES, in no
	                         * chain and never freed by path_put() */
	struct counters *cnt;
	struct pidx *pidx;      /* pidcap slots, a power of two */
	size_t pidcap, npids;
	uint64_t (*now)(void);  /* wall clock in ns; the tests replace it */
	/*
	 * Datagram folding: agg[h] is 1 + the append number of the last
	 * datagram record whose key hashed to h, 0 if none.  Append number a
	 * lives in ring[a % cap] until cap more records are appended.
	 */
	uint64_t appended;      /* records ever appended */
	uint64_t *agg;
};

/* Both halves walk the index and compare names: inline here, so that each
 * keeps its own static copy and the unit tests can include either .c file. */
static inline size_t
pidx_slot(uint32_t pid, size_t cap)
{
	uint32_t h = pid * 0x9e3779b1u;

	return (h ^ (h >> 16)) & (cap - 1);
}

/* The entry of pid, or NULL. */
static inline struct pidx *
pidx_find(const struct store *s, uint32_t pid)
{
	size_t i;

	for (i = pidx_slot(pid, s->pidcap); s->pidx[i].n; i = (i + 1) & (s->pidcap - 1))
		if (s->pidx[i].pid == pid)
			return &s->pidx[i];
	return NULL;
}

/* The name up to its NUL, zero padded: comparable with memcmp(). */
static inline void
comm_key(char *key, const char *comm)
{
	size_t i;

	memset(key, 0, EV_COMM_LEN);
	for (i = 0; i < EV_COMM_LEN - 1 && comm[i]; i++)
		key[i] = comm[i];
}

/*
 * The ring newest first: for (r = ring_first(s, &w); r; r = ring_next(s, &w)).
 * The one walk over the ring that every scan of both halves uses.
 */
struct ring_walk {
	size_t i, j;
};

static inline const struct rec *
ring_next(const struct store *s, struct ring_walk *w)
{
	if (w->i >= s->n)
		return NULL;
	w->i++;
	w->j = w->j ? w->j - 1 : s->cap - 1;
	return &s->ring[w->j];
}

static inline const struct rec *
ring_first(const struct store *s, struct ring_walk *w)
{
	w->i = 0;
	w->j = s->head;
	return ring_next(s, w);
}

/* The append number of the record in slot j (a live slot: the ring holds
 * append numbers appended - n .. appended - 1, number a in slot a % cap). */
static inline uint64_t
slot_seq(const struct store *s, size_t j)
{
	uint64_t base = s->appended - s->n;

	return base + (j + s->cap - base % s->cap) % s->cap;
}

/*
 * Shared by the read side, in scan.c.  store_rec_unpack() decodes r with
 * path as its unix path ("" for none or for other families);
 * store_rec_match() is the filter test on a record (f not NULL);
 * store_filter_empty() says whether f narrows anything beyond what the
 * counters know (NULL narrows nothing).
 */
void store_rec_unpack(const struct rec *r, const char *path, struct event *ev);
int store_rec_match(const struct store_filter *f, const struct rec *r);
int store_filter_empty(const struct store_filter *f);

/*
 * A walk of the whole ring, newest first, in chunks: scan_begin() notes
 * where the ring ends, then each scan_chunk() copies up to max of the
 * next older records into out under the store's lock and lets go, so that
 * the reader never waits for more than one chunk (SCAN_CHUNK records take
 * a few microseconds to copy).  Returns the records copied, 0 at the end.
 * Records appended after scan_begin() are not seen; when the ring moved
 * past the walk meanwhile, the walk ends early with cut set.
 */
#define SCAN_CHUNK 256

struct srec {
	struct rec r;                /* r.a.path is NULL: see path */
	uint64_t seq;                /* its append number */
	char path[EV_PATH_MAX + 2];  /* AF_UNIX: the path, "" for none */
};

struct scan {
	uint64_t next;    /* the append number above the next one copied */
	uint64_t oldest;  /* the oldest append number at begin */
	int evicted;      /* the ring had evicted records before the walk */
	int cut;          /* the walk lost records to eviction */
};

void scan_begin(struct store *s, struct scan *sc);

/* A turn among the STORE_SCANS_MAX walks of the ring, which hold memory
 * while they run (a chunk, and top's summary or a filtered list's pids):
 * waits for one, on a lock of its own, never the store's.  Give it back
 * with scan_turn_give(). */
void scan_turn_take(void);
void scan_turn_give(void);
size_t scan_chunk(struct store *s, struct scan *sc, struct srec *out,
    size_t max);

#endif
