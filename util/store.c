/*
 * The event store.  A preallocated ring of compact records (struct rec,
 * 88 bytes instead of the 200 of a struct event) holds the newest events;
 * unix paths, the one large field, are interned in a refcounted string
 * table so a ring full of connections to the same socket costs one copy of
 * its path.  The per-second counters (counters.c) answer store_count()
 * after the ring has moved on.  One mutex guards everything; see store.h.
 *
 * A per-pid index makes list-connections cost what it returns, not what
 * is stored: each record links to the previous record of its pid, and a
 * small hash keeps every pid's newest record and its number of records in
 * the ring.  Walking a pid's chain newest first for at most that number
 * of steps never leaves the ring, since eviction takes the oldest.
 *
 * This file is the write side; the read side (listing, filtered counts,
 * top) is query.c, and what both share is in store_impl.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/counters.h"
#include "util/event.h"
#include "util/store.h"
#include "util/store_impl.h"
#include "util/timefmt.h"

#define PATH_BUCKETS 256
/* What a unix path reads as once STORE_PATH_BYTES are taken. */
#define PATH_DROPPED "(path not kept: more distinct unix paths than the store keeps)"
#define AGG_SLOTS 4096 /* recent datagram records, direct-mapped */

_Static_assert(CNT_WINDOW == STORE_WINDOW_MAX,
    "the per-second counters keep the store's whole window");

/* Double the table.  Returns 0 or -ENOMEM (the old table stays). */
static int
pidx_grow(struct store *s)
{
	size_t cap = s->pidcap * 2, i, j;
	struct pidx *t;

	if (!(t = calloc(cap, sizeof(*t))))
		return -ENOMEM;
	for (i = 0; i < s->pidcap; i++) {
		if (!s->pidx[i].n)
			continue;
		for (j = pidx_slot(s->pidx[i].pid, cap); t[j].n; j = (j + 1) & (cap - 1))
			;
		t[j] = s->pidx[i];
	}
	free(s->pidx);
	s->pidx = t;
	s->pidcap = cap;
	return 0;
}

/*
 * Record that slot now holds the newest record of pid; sets its link to
 * the previous one.  When the table cannot grow, the pid's entry is still
 * added if a slot is free; the table is never more than full.
 */
static void
pidx_add(struct store *s, uint32_t pid, size_t slot, struct rec *r)
{
	struct pidx *e = pidx_find(s, pid);
	size_t i;

	if (e) {
		r->prev = e->newest;
		e->newest = (uint32_t)slot;
		e->n++;
		return;
	}
	r->prev = UINT32_MAX;
	/* Half full at most, but never past twice the ring: the ring holds
	 * at most cap pids, so that is room enough (and 12 bytes a slot). */
	if ((s->npids + 1) * 2 > s->pidcap && s->pidcap < 2 * s->cap)
		pidx_grow(s);
	/* The ring holds at most cap pids and the table starts larger than
	 * half of min(cap, 1024), so a free slot exists even without growth
	 * as long as pids < pidcap. */
	for (i = pidx_slot(pid, s->pidcap); s->pidx[i].n; i = (i + 1) & (s->pidcap - 1))
		;
	s->pidx[i] = (struct pidx){ pid, (uint32_t)slot, 1 };
	s->npids++;
}

/* The oldest record of pid leaves the ring. */
static void
pidx_del(struct store *s, uint32_t pid)
{
	struct pidx *e = pidx_find(s, pid);
	size_t i, j, k, mask = s->pidcap - 1;

	if (!e || --e->n)
		return;
	/* Backward-shift deletion keeps every probe chain unbroken. */
	i = (size_t)(e - s->pidx);
	for (j = (i + 1) & mask; s->pidx[j].n; j = (j + 1) & mask) {
		k = pidx_slot(s->pidx[j].pid, s->pidcap);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->pidx[i] = s->pidx[j];
			i = j;
		}
	}
	s->pidx[i].n = 0;
	s->npids--;
}

/* FNV-1a. */
static uint32_t
path_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h;
}

/* Double the chain heads when there are more paths than chains; on failure
 * keep the old table, whose chains only get longer. */
static void
path_rehash(struct store *s)
{
	size_t nb = s->pbuckets * 2, i;
	struct pstr **t, *p, *next;

	if (!(t = calloc(nb, sizeof(*t))))
		return;
	for (i = 0; i < s->pbuckets; i++) {
		for (p = s->ptab[i]; p; p = next) {
			next = p->next;
			p->next = t[p->hash & (nb - 1)];
			t[p->hash & (nb - 1)] = p;
		}
	}
	free(s->ptab);
	s->ptab = t;
	s->pbuckets = nb;
}

/* A reference to the interned copy of p, or NULL if out of memory (the
 * event is then stored as if its socket were unnamed). */
static struct pstr *
path_get(struct store *s, const char *p, size_t len)
{
	uint32_t h = path_hash(p, len);
	struct pstr *e;

	for (e = s->ptab[h & (s->pbuckets - 1)]; e; e = e->next) {
		if (e->hash == h && e->len == len && !memcmp(e->s, p, len)) {
			e->ref++;
			return e;
		}
	}
	/* A flood of distinct paths shares one stand-in past the budget. */
	if (s->pbytes + sizeof(*e) + len + 1 > STORE_PATH_BYTES)
		return s->dropped;
	if (s->npaths >= s->pbuckets)
		path_rehash(s);
	if (!(e = malloc(sizeof(*e) + len + 1)))
		return NULL;
	memcpy(e->s, p, len);
	e->s[len] = '\0';
	e->len = len;
	e->hash = h;
	e->ref = 1;
	e->next = s->ptab[h & (s->pbuckets - 1)];
	s->ptab[h & (s->pbuckets - 1)] = e;
	s->npaths++;
	s->pbytes += sizeof(*e) + len + 1;
	return e;
}

static void
path_put(struct store *s, struct pstr *e)
{
	struct pstr **pp;

	if (e == s->dropped || --e->ref)
		return;
	for (pp = &s->ptab[e->hash & (s->pbuckets - 1)]; *pp != e;
	    pp = &(*pp)->next)
		;
	*pp = e->next;
	s->npaths--;
	s->pbytes -= sizeof(*e) + e->len + 1;
	free(e);
}

/* Everything store_new() allocates, and s itself. */
static void
free_tables(struct store *s)
{
	counters_free(s->cnt);
	free(s->dropped);
	free(s->agg);
	free(s->ptab);
	free(s->pidx);
	free(s->ring);
	free(s);
}

struct store *
store_new(size_t max_events)
{
	return store_new_keys(max_events, STORE_DEFAULT_KEYS);
}

struct store *
store_new_keys(size_t max_events, uint32_t keys)
{
	struct store *s;
	int err;

	if (max_events < 1 || max_events > SIZE_MAX / sizeof(struct rec)) {
		errno = EINVAL;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->cap = max_events;
	s->pbuckets = PATH_BUCKETS;
	s->now = time_now_ns;
	/* calloc: the pages of the ring cost nothing until events reach them. */
	/* Enough pid slots that the table never needs to be full. */
	for (s->pidcap = 16; s->pidcap < 2 * max_events && s->pidcap < 2048; s->pidcap *= 2)
		;
	if (!(s->ring = calloc(max_events, sizeof(*s->ring))) ||
	    !(s->pidx = calloc(s->pidcap, sizeof(*s->pidx))) ||
	    !(s->ptab = calloc(s->pbuckets, sizeof(*s->ptab))) ||
	    !(s->agg = calloc(AGG_SLOTS, sizeof(*s->agg))) ||
	    !(s->dropped = calloc(1, sizeof(*s->dropped) + sizeof(PATH_DROPPED))) ||
	    !(s->cnt = counters_new(keys)))
		goto fail;
	memcpy(s->dropped->s, PATH_DROPPED, sizeof(PATH_DROPPED));
	s->dropped->len = sizeof(PATH_DROPPED) - 1;
	s->dropped->hash = path_hash(PATH_DROPPED, s->dropped->len);
	if ((err = pthread_mutex_init(&s->mu, NULL))) {
		errno = err;
		goto fail;
	}
	return s;
fail:
	err = errno;
	free_tables(s);
	errno = err;
	return NULL;
}

void
store_free(struct store *s)
{
	struct ring_walk w;
	const struct rec *r;

	if (!s)
		return;
	for (r = ring_first(s, &w); r; r = ring_next(s, &w))
		if (r->family == AF_UNIX && r->a.path)
			path_put(s, r->a.path);
	pthread_mutex_destroy(&s->mu);
	free_tables(s);
}

static void
rec_pack(struct store *s, struct rec *r, const struct event *ev)
{
	size_t len;

	r->ts = ev->ts;
	r->cgroup_id = ev->cgroup_id;
	r->pid = ev->pid;
	r->tid = ev->tid;
	r->ppid = ev->ppid;
	r->uid = ev->uid;
	r->gid = ev->gid;
	r->ret = ev->ret;
	r->count = ev->count ? ev->count : 1;
	r->family = ev->family;
	r->port = ev->port;
	r->sock_type = ev->sock_type < TYPE_UNKNOWN ? (uint8_t)ev->sock_type : TYPE_UNKNOWN;
	r->protocol = ev->protocol;
	r->syscall = ev->syscall & 7;
	r->result = ev->result & 15;
	r->ret_unknown = ev->ret_unknown != 0;
	comm_key(r->comm, ev->comm);
	if (ev->family != AF_UNIX) {
		memcpy(r->a.ip, ev->ip, sizeof(r->a.ip));
		return;
	}
	len = strnlen(ev->path, sizeof(ev->path) - 1);
	r->a.path = len ? path_get(s, ev->path, len) : NULL;
}

/* The folding key of a datagram event: pid, syscall, destination and the
 * second it happened in.  Connects are never folded. */
static uint32_t
agg_hash(const struct event *ev)
{
	uint64_t h = ((uint64_t)ev->pid << 32 | (uint64_t)ev->syscall << 16 |
	    ev->port) * 0x9e3779b97f4a7c15ull;
	uint64_t a, b;

	h ^= (ev->ts / NS_PER_S) * 0xc2b2ae3d27d4eb4full;
	if (ev->family == AF_UNIX) {
		h ^= path_hash(ev->path, strnlen(ev->path, sizeof(ev->path)));
	} else {
		memcpy(&a, ev->ip, 8);
		memcpy(&b, ev->ip + 8, 8);
		h ^= a * 0xff51afd7ed558ccdull ^ b;
	}
	h ^= (uint64_t)ev->family << 1 ^ (ev->ret < 0);
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32)) & (AGG_SLOTS - 1);
}

/* Whether r is the record ev folds into. */
static int
agg_same(const struct rec *r, const struct event *ev)
{
	if (r->pid != ev->pid || r->syscall != ev->syscall ||
	    r->family != ev->family || r->port != ev->port ||
	    (r->ret < 0) != (ev->ret < 0) ||
	    r->ts / NS_PER_S != ev->ts / NS_PER_S ||
	    r->count > UINT32_MAX - (ev->count ? ev->count : 1))
		return 0;
	if (ev->family != AF_UNIX)
		return !memcmp(r->a.ip, ev->ip, sizeof(r->a.ip));
	if (!r->a.path)
		return ev->path[0] == '\0';
	return strcmp(r->a.path->s, ev->path) == 0;
}

/* A run of counts for one second, pid, command and kind: events come in
 * runs from one process, and one counters_add() per run costs what one
 * per event did (the same sums: a Space-Saving weight grows by n at once
 * as by n ones in a row).  The command is copied, for a ring smaller
 * than a batch reuses its record within the batch. */
struct cnt_run {
	uint64_t sec, n;
	uint32_t pid;
	unsigned kind;
	char comm[EV_COMM_LEN];
};

/* Count n more, in u's run or after flushing it; n 0 flushes. */
static void
cnt_run_add(struct store *s, uint64_t now_s, struct cnt_run *u, uint64_t sec,
    uint32_t pid, const char *comm, unsigned kind, uint64_t n)
{
	if (n && u->n && u->sec == sec && u->pid == pid && u->kind == kind &&
	    memcmp(u->comm, comm, EV_COMM_LEN) == 0) {
		u->n += n;
		return;
	}
	/* A failure leaves the count short; there is nobody to tell. */
	if (u->n)
		counters_add(s->cnt, now_s, u->sec, u->pid, u->comm, u->kind,
		    u->n);
	u->sec = sec;
	u->pid = pid;
	u->kind = kind;
	u->n = n;
	if (n)
		memcpy(u->comm, comm, EV_COMM_LEN);
}

size_t
store_add_marked(struct store *s, const struct event *ev, size_t n,
    unsigned char *folded)
{
	struct cnt_run run = { 0 };
	uint64_t now_s = s->now() / NS_PER_S, a;
	uint32_t h = 0, cnt;
	struct rec *r;
	size_t i, nnew = 0;

	pthread_mutex_lock(&s->mu);
	counters_advance(s->cnt, now_s);
	for (i = 0; i < n; i++) {
		if (ev[i].syscall != EV_CONNECT) {
			h = agg_hash(&ev[i]);
			a = s->agg[h];
			if (a && s->appended - (a - 1) <= s->cap &&
			    agg_same(r = &s->ring[(a - 1) % s->cap], &ev[i])) {
				cnt = ev[i].count ? ev[i].count : 1;
				r->count += cnt;
				cnt_run_add(s, now_s, &run, ev[i].ts / NS_PER_S,
				    r->pid, r->comm, CNT_DATAGRAM, cnt);
				if (folded)
					folded[i] = 1;
				continue;
			}
		}
		if (folded)
			folded[i] = 0;
		r = &s->ring[s->head];
		if (s->n == s->cap) {
			if (r->family == AF_UNIX && r->a.path)
				path_put(s, r->a.path);
			pidx_del(s, r->pid);
			s->evicted++;
		} else {
			s->n++;
		}
		rec_pack(s, r, &ev[i]);
		pidx_add(s, r->pid, s->head, r);
		if (ev[i].syscall != EV_CONNECT)
			s->agg[h] = s->appended + 1;
		s->appended++;
		nnew++;
		cnt_run_add(s, now_s, &run, ev[i].ts / NS_PER_S, r->pid,
		    r->comm, ev[i].syscall == EV_CONNECT ? CNT_CONNECT :
		    CNT_DATAGRAM, r->count);
		if (++s->head == s->cap)
			s->head = 0;
	}
	cnt_run_add(s, now_s, &run, 0, 0, NULL, 0, 0);
	s->added += n;
	pthread_mutex_unlock(&s->mu);
	return nnew;
}

void
store_add(struct store *s, const struct event *ev, size_t n)
{
	store_add_marked(s, ev, n, NULL);
}

/* One counter of s, read under its lock. */
static uint64_t
read_locked(struct store *s, const uint64_t *v)
{
	uint64_t r;

	pthread_mutex_lock(&s->mu);
	r = *v;
	pthread_mutex_unlock(&s->mu);
	return r;
}

uint64_t
store_appended(struct store *s)
{
	return read_locked(s, &s->appended);
}

int
store_set_result(struct store *s, uint64_t seq, uint8_t result)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&s->mu);
	/* Append number seq lives in ring[seq % cap] until cap more records
	 * are appended (head advances with appended). */
	if (seq < s->appended && s->appended - seq <= s->cap) {
		s->ring[seq % s->cap].result = result & 15;
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
store_lost(struct store *s, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	s->lost += n;
	pthread_mutex_unlock(&s->mu);
}

uint64_t
store_added(struct store *s)
{
	return read_locked(s, &s->added);
}

void
store_stats(struct store *s, struct store_stats *st)
{
	pthread_mutex_lock(&s->mu);
	st->capacity = s->cap;
	st->stored = s->n;
	st->added = s->added;
	st->evicted = s->evicted;
	st->lost = s->lost;
	st->bytes = sizeof(*s) + s->cap * sizeof(*s->ring) +
	    s->pidcap * sizeof(*s->pidx) +
	    s->pbuckets * sizeof(*s->ptab) + s->pbytes +
	    counters_bytes(s->cnt);
	pthread_mutex_unlock(&s->mu);
}

uint64_t
store_count(struct store *s, int has_pid, uint32_t pid,
    const char *command, uint64_t now_ns, unsigned duration_s,
    struct store_counts *out)
{
	struct store_counts c = { 0, 0, 0 };
	char key[EV_COMM_LEN];
	uint64_t e1, e2;

	if (!has_pid && command) {
		/* A comm is at most 15 bytes: a longer name matches nothing. */
		if (strnlen(command, EV_COMM_LEN) >= EV_COMM_LEN) {
			if (out)
				memset(out, 0, sizeof(*out));
			return 0;
		}
		comm_key(key, command);
	}
	pthread_mutex_lock(&s->mu);
	c.connects = counters_count(s->cnt, has_pid, pid,
	    has_pid || !command ? NULL : key,
	    now_ns / NS_PER_S, duration_s, CNT_CONNECT, &e1);
	c.datagrams = counters_count(s->cnt, has_pid, pid,
	    has_pid || !command ? NULL : key,
	    now_ns / NS_PER_S, duration_s, CNT_DATAGRAM, &e2);
	pthread_mutex_unlock(&s->mu);
	/* Both kinds share their keys' errors: the larger is the bound. */
	c.error = e1 > e2 ? e1 : e2;
	if (out)
		*out = c;
	return c.connects + c.datagrams;
}
