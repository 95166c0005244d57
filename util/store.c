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
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/counters.h"
#include "util/event.h"
#include "util/store.h"
#include "util/timefmt.h"

#define NS_PER_S 1000000000ULL
#define PATH_BUCKETS 256
#define AGG_SLOTS 4096 /* recent datagram records, direct-mapped */

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
	uint8_t syscall;
	uint32_t prev;          /* older record of this pid, in the ring */
	char comm[EV_COMM_LEN]; /* zero padded after the name */
	union {
		uint8_t ip[16];
		struct pstr *path;  /* in the ring */
		size_t off;         /* in a store_list() copy: arena offset */
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

static size_t
pidx_slot(uint32_t pid, size_t cap)
{
	uint32_t h = pid * 0x9e3779b1u;

	return (h ^ (h >> 16)) & (cap - 1);
}

/* The entry of pid, or NULL. */
static struct pidx *
pidx_find(const struct store *s, uint32_t pid)
{
	size_t i;

	for (i = pidx_slot(pid, s->pidcap); s->pidx[i].n; i = (i + 1) & (s->pidcap - 1))
		if (s->pidx[i].pid == pid)
			return &s->pidx[i];
	return NULL;
}

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
	if ((s->npids + 1) * 2 > s->pidcap)
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

/* The name up to its NUL, zero padded: comparable with memcmp(). */
static void
comm_key(char *key, const char *comm)
{
	size_t i;

	memset(key, 0, EV_COMM_LEN);
	for (i = 0; i < EV_COMM_LEN - 1 && comm[i]; i++)
		key[i] = comm[i];
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

	if (--e->ref)
		return;
	for (pp = &s->ptab[e->hash & (s->pbuckets - 1)]; *pp != e;
	    pp = &(*pp)->next)
		;
	*pp = e->next;
	s->npaths--;
	s->pbytes -= sizeof(*e) + e->len + 1;
	free(e);
}

struct store *
store_new(size_t max_events)
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
	    !(s->cnt = counters_new()))
		goto fail;
	if ((err = pthread_mutex_init(&s->mu, NULL))) {
		errno = err;
		goto fail;
	}
	return s;
fail:
	err = errno;
	counters_free(s->cnt);
	free(s->agg);
	free(s->ptab);
	free(s->pidx);
	free(s->ring);
	free(s);
	errno = err;
	return NULL;
}

void
store_free(struct store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct rec *r = &s->ring[(s->head + s->cap - 1 - i) % s->cap];

		if (r->family == AF_UNIX && r->a.path)
			path_put(s, r->a.path);
	}
	pthread_mutex_destroy(&s->mu);
	counters_free(s->cnt);
	free(s->agg);
	free(s->ptab);
	free(s->pidx);
	free(s->ring);
	free(s);
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
	r->syscall = ev->syscall;
	comm_key(r->comm, ev->comm);
	if (ev->family != AF_UNIX) {
		memcpy(r->a.ip, ev->ip, sizeof(r->a.ip));
		return;
	}
	len = strnlen(ev->path, sizeof(ev->path) - 1);
	r->a.path = len ? path_get(s, ev->path, len) : NULL;
}

/* path is the unix path ("" for none or for other families). */
static void
rec_unpack(const struct rec *r, const char *path, struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = r->ts;
	ev->cgroup_id = r->cgroup_id;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->ret = r->ret;
	ev->count = r->count;
	ev->family = r->family;
	ev->port = r->port;
	ev->sock_type = r->sock_type == TYPE_UNKNOWN ? EV_UNKNOWN : r->sock_type;
	ev->protocol = r->protocol;
	ev->syscall = r->syscall;
	memcpy(ev->comm, r->comm, EV_COMM_LEN);
	if (r->family == AF_UNIX)
		strncpy(ev->path, path, sizeof(ev->path) - 1);
	else
		memcpy(ev->ip, r->a.ip, sizeof(ev->ip));
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

size_t
store_add_marked(struct store *s, const struct event *ev, size_t n,
    unsigned char *folded)
{
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
				counters_add(s->cnt, now_s, ev[i].ts / NS_PER_S,
				    r->pid, r->comm, cnt);
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
		/* A failure leaves the count short; there is nobody to tell. */
		counters_add(s->cnt, now_s, ev[i].ts / NS_PER_S, r->pid,
		    r->comm, r->count);
		if (++s->head == s->cap)
			s->head = 0;
	}
	s->added += n;
	pthread_mutex_unlock(&s->mu);
	return nnew;
}

void
store_add(struct store *s, const struct event *ev, size_t n)
{
	store_add_marked(s, ev, n, NULL);
}

void
store_lost(struct store *s, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	s->lost += n;
	pthread_mutex_unlock(&s->mu);
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
    const char *command, uint64_t now_ns, unsigned duration_s)
{
	char key[EV_COMM_LEN];
	uint64_t n;

	if (!has_pid && command) {
		/* A comm is at most 15 bytes: a longer name matches nothing. */
		if (strnlen(command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0;
		comm_key(key, command);
	}
	pthread_mutex_lock(&s->mu);
	n = counters_count(s->cnt, has_pid, pid,
	    has_pid || !command ? NULL : key,
	    now_ns / NS_PER_S, duration_s);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* A record store_list() copied out, and the index of its pid's group. */
struct lrec {
	struct rec r;
	uint32_t g;
};

struct lgroup {
	uint32_t pid;
	uint32_t pos;        /* index in the output, ordered by pid */
	size_t n, total;
};

/* What store_list() gathers under the lock, to decode after it. */
struct scan {
	struct lrec *rec;
	size_t nrec, caprec;
	struct lgroup *grp;
	size_t ngrp, capgrp;
	uint32_t *mkey, *mval; /* pid -> group: open addressing, mcap slots */
	size_t mcap;
	char *arena;         /* copies of unix paths; offset 0 is "" */
	size_t alen, acap;
	const struct pstr *lastp; /* the last path copied, and where to */
	size_t lastoff;
};

#define NO_GROUP UINT32_MAX

static void
scan_free(struct scan *sc)
{
	free(sc->arena);
	free(sc->mval);
	free(sc->mkey);
	free(sc->grp);
	free(sc->rec);
}

/* Grow *p (of *cap elements of size) to hold at least need.  Returns 0 or
 * -ENOMEM. */
static int
grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / size || !(np = realloc(*(void **)p, ncap * size)))
		return -ENOMEM;
	*(void **)p = np;
	*cap = ncap;
	return 0;
}

static uint32_t
map_slot(uint32_t pid, size_t mcap)
{
	return (pid * 0x9e3779b1u) & (uint32_t)(mcap - 1);
}

/* Rebuild the pid map twice as large from the groups. */
static int
map_grow(struct scan *sc)
{
	size_t mcap = sc->mcap ? sc->mcap * 2 : 256, i;
	uint32_t *k, *v, j;

	if (!(k = malloc(mcap * sizeof(*k))) || !(v = malloc(mcap * sizeof(*v)))) {
		free(k);
		return -ENOMEM;
	}
	memset(v, 0xff, mcap * sizeof(*v)); /* NO_GROUP */
	for (i = 0; i < sc->ngrp; i++) {
		for (j = map_slot(sc->grp[i].pid, mcap); v[j] != NO_GROUP;
		    j = (j + 1) & (uint32_t)(mcap - 1))
			;
		k[j] = sc->grp[i].pid;
		v[j] = (uint32_t)i;
	}
	free(sc->mkey);
	free(sc->mval);
	sc->mkey = k;
	sc->mval = v;
	sc->mcap = mcap;
	return 0;
}

/* The group of pid, created if new.  Returns its index, or -ENOMEM. */
static int64_t
scan_group(struct scan *sc, uint32_t pid)
{
	uint32_t j;

	if ((sc->ngrp + 1) * 2 > sc->mcap && map_grow(sc))
		return -ENOMEM;
	for (j = map_slot(pid, sc->mcap); sc->mval[j] != NO_GROUP;
	    j = (j + 1) & (uint32_t)(sc->mcap - 1))
		if (sc->mkey[j] == pid)
			return sc->mval[j];
	if (sc->ngrp >= NO_GROUP ||
	    grow(&sc->grp, &sc->capgrp, sc->ngrp + 1, sizeof(*sc->grp)))
		return -ENOMEM;
	memset(&sc->grp[sc->ngrp], 0, sizeof(*sc->grp));
	sc->grp[sc->ngrp].pid = pid;
	sc->mkey[j] = pid;
	sc->mval[j] = (uint32_t)sc->ngrp;
	return (int64_t)sc->ngrp++;
}

/* Copy r for group g, its unix path into the arena.  Returns 0 or -ENOMEM. */
static int
scan_keep(struct scan *sc, const struct rec *r, uint32_t g)
{
	struct lrec *l;
	const struct pstr *p;

	if (grow(&sc->rec, &sc->caprec, sc->nrec + 1, sizeof(*sc->rec)))
		return -ENOMEM;
	l = &sc->rec[sc->nrec++];
	l->r = *r;
	l->g = g;
	if (r->family != AF_UNIX)
		return 0;
	l->r.a.off = 0;
	if (!(p = r->a.path))
		return 0;
	/* Runs of events to one socket are common: copy its path once. */
	if (p != sc->lastp) {
		if (grow(&sc->arena, &sc->acap, sc->alen + p->len + 1, 1))
			return -ENOMEM;
		memcpy(sc->arena + sc->alen, p->s, p->len + 1);
		sc->lastp = p;
		sc->lastoff = sc->alen;
		sc->alen += p->len + 1;
	}
	l->r.a.off = sc->lastoff;
	return 0;
}

/* Whether the first bits of a and b agree. */
static int
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The filter test on the fields both struct rec and struct event have;
 * path is only used for the protocol name, which needs no path. */
static int
fields_match(const struct store_filter *f, uint64_t ts, uint16_t family,
    uint16_t port, uint16_t protocol, uint16_t sock_type, int32_t ret,
    uint8_t syscall, const uint8_t *ip)
{
	struct event pe;

	if (ts < f->since_ns)
		return 0;
	if (f->has_port && (port != f->port || family == AF_UNIX))
		return 0;
	if (f->has_family && family != f->family)
		return 0;
	if (f->has_failed && (ret < 0) != (f->failed != 0))
		return 0;
	if (f->has_syscall && syscall != f->syscall)
		return 0;
	if (f->has_ip && (family != f->ip_family || !ip ||
	    !prefix_eq(ip, f->ip, f->prefix)))
		return 0;
	if (f->has_protocol) {
		/* ev_protocol_name() reads these three fields only. */
		pe.family = family;
		pe.protocol = protocol;
		pe.sock_type = sock_type;
		if (strcmp(ev_protocol_name(&pe), f->protocol) != 0)
			return 0;
	}
	return 1;
}

static int
rec_match(const struct store_filter *f, const struct rec *r)
{
	return fields_match(f, r->ts, r->family, r->port, r->protocol,
	    r->sock_type == TYPE_UNKNOWN ? EV_UNKNOWN : r->sock_type, r->ret, r->syscall,
	    r->family == AF_UNIX ? NULL : r->a.ip);
}

int
store_filter_match(const struct store_filter *f, const struct event *ev)
{
	if (!f)
		return 1;
	return fields_match(f, ev->ts, ev->family, ev->port, ev->protocol,
	    ev->sock_type, ev->ret, ev->syscall,
	    ev->family == AF_UNIX ? NULL : ev->ip);
}

/*
 * One pass over the ring, newest to oldest, under the lock: count every
 * match into its pid's total and copy the first limit of each pid.
 */
static int
scan_ring(struct store *s, const struct store_query *q, const char *key,
    unsigned limit, struct scan *sc)
{
	size_t i, j = s->head;
	uint32_t lastpid = 0;
	int64_t g = -1;
	const struct rec *r;
	struct lgroup *grp;
	int err;

	for (i = 0; i < s->n; i++) {
		j = j ? j - 1 : s->cap - 1;
		r = &s->ring[j];
		if (q->has_pid && r->pid != q->pid)
			continue;
		if (key && memcmp(r->comm, key, EV_COMM_LEN))
			continue;
		if (q->filter && !rec_match(q->filter, r))
			continue;
		/* Events come in runs from one process: skip the map then. */
		if (g < 0 || r->pid != lastpid) {
			if ((g = scan_group(sc, r->pid)) < 0)
				return (int)g;
			lastpid = r->pid;
		}
		grp = &sc->grp[g];
		grp->total++;
		if (grp->n >= limit)
			continue;
		if ((err = scan_keep(sc, r, (uint32_t)g)))
			return err;
		grp->n++;
	}
	return 0;
}

static int filter_empty(const struct store_filter *f);

/* The newest limit records of the pid of e, from its chain. */
static int
scan_chain(struct store *s, const struct pidx *e, unsigned limit, struct scan *sc)
{
	uint32_t j = e->newest, i;
	int64_t g;
	int err;

	if ((g = scan_group(sc, e->pid)) < 0)
		return (int)g;
	sc->grp[g].total = e->n;
	for (i = 0; i < e->n && i < limit; i++) {
		if ((err = scan_keep(sc, &s->ring[j], (uint32_t)g)))
			return err;
		sc->grp[g].n++;
		j = s->ring[j].prev;
	}
	return 0;
}

/* Without a command filter: what the index gives, in time proportional
 * to the pids and the records returned. */
static int
scan_index(struct store *s, const struct store_query *q, unsigned limit,
    struct scan *sc)
{
	const struct pidx *e;
	size_t i;
	int err;

	if (q->has_pid)
		return (e = pidx_find(s, q->pid)) ? scan_chain(s, e, limit, sc) : 0;
	for (i = 0; i < s->pidcap; i++)
		if (s->pidx[i].n && (err = scan_chain(s, &s->pidx[i], limit, sc)))
			return err;
	return 0;
}

static int
pid_cmp(const void *a, const void *b)
{
	const struct lgroup *x = *(struct lgroup *const *)a;
	const struct lgroup *y = *(struct lgroup *const *)b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Order the groups by pid and decode the copies into out. */
static int
scan_output(struct scan *sc, struct store_list *out)
{
	struct lgroup **order = NULL;
	struct store_group *groups = NULL;
	struct event *ev = NULL;
	size_t *cur = NULL, i, off;
	struct lrec *l;
	struct lgroup *lg;

	if (!(order = malloc(sc->ngrp * sizeof(*order))) ||
	    !(groups = calloc(sc->ngrp, sizeof(*groups))) ||
	    !(cur = malloc(sc->ngrp * sizeof(*cur))) ||
	    !(ev = malloc(sc->nrec * sizeof(*ev))))
		goto fail;
	for (i = 0; i < sc->ngrp; i++)
		order[i] = &sc->grp[i];
	qsort(order, sc->ngrp, sizeof(*order), pid_cmp);
	/* All groups share one array of events: groups[0].ev owns it. */
	for (i = off = 0; i < sc->ngrp; i++) {
		lg = order[i];
		lg->pos = (uint32_t)i;
		groups[i].pid = lg->pid;
		groups[i].n = lg->n;
		groups[i].total = lg->total;
		groups[i].ev = ev + off;
		cur[i] = off;
		off += lg->n;
		if (lg->total > lg->n)
			out->truncated = 1;
	}
	/* The copies are newest first, so each group fills newest first. */
	for (i = 0; i < sc->nrec; i++) {
		l = &sc->rec[i];
		rec_unpack(&l->r, l->r.family == AF_UNIX ?
		    sc->arena + l->r.a.off : "", &ev[cur[sc->grp[l->g].pos]++]);
	}
	free(cur);
	free(order);
	out->groups = groups;
	out->ngroups = sc->ngrp;
	return 0;
fail:
	free(ev);
	free(cur);
	free(groups);
	free(order);
	return -ENOMEM;
}

int
store_list(struct store *s, const struct store_query *q, struct store_list *out)
{
	struct scan sc;
	char key[EV_COMM_LEN];
	unsigned limit = q->limit ? q->limit : 1;
	int err;

	memset(out, 0, sizeof(*out));
	memset(&sc, 0, sizeof(sc));
	if (q->command) {
		if (strnlen(q->command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0; /* longer than any comm: matches nothing */
		comm_key(key, q->command);
	}
	/* Offset 0 of the arena is the empty path of unnamed sockets. */
	if (grow(&sc.arena, &sc.acap, 1, 1))
		return -ENOMEM;
	sc.arena[sc.alen++] = '\0';

	pthread_mutex_lock(&s->mu);
	/* The index answers pid-or-all queries; filters need the scan. */
	if (q->command || !filter_empty(q->filter))
		err = scan_ring(s, q, q->command ? key : NULL, limit, &sc);
	else
		err = scan_index(s, q, limit, &sc);
	pthread_mutex_unlock(&s->mu);

	if (!err && sc.ngrp)
		err = scan_output(&sc, out);
	scan_free(&sc);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

void
store_list_free(struct store_list *l)
{
	if (!l)
		return;
	if (l->ngroups)
		free(l->groups[0].ev);
	free(l->groups);
	l->groups = NULL;
	l->ngroups = 0;
}

/* Whether f narrows anything beyond what the counters know. */
static int
filter_empty(const struct store_filter *f)
{
	return !f || (!f->has_port && !f->has_ip && !f->has_protocol &&
	    !f->has_family && !f->has_failed && !f->has_syscall &&
	    !f->since_ns);
}

uint64_t
store_count_filter(struct store *s, int has_pid, uint32_t pid,
    const char *command, const struct store_filter *f, uint64_t now_ns,
    unsigned duration_s, int *exact)
{
	char key[EV_COMM_LEN];
	uint64_t sum = 0, from, to;
	const struct rec *r;
	size_t i, j;
	int complete = 1;

	if (filter_empty(f)) {
		*exact = 1;
		return store_count(s, has_pid, pid, command, now_ns, duration_s);
	}
	if (!has_pid && command) {
		*exact = 1;
		if (strnlen(command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0;
		comm_key(key, command);
	}
	if (duration_s > STORE_WINDOW_MAX)
		duration_s = STORE_WINDOW_MAX;
	/* The counters' window: whole seconds (now - duration, now]. */
	to = (now_ns / NS_PER_S + 1) * NS_PER_S;
	from = to - (uint64_t)duration_s * NS_PER_S;
	if (from > to)
		from = 0;
	pthread_mutex_lock(&s->mu);
	for (i = 0, j = s->head; i < s->n; i++) {
		j = j ? j - 1 : s->cap - 1;
		r = &s->ring[j];
		if (r->ts >= to)
			continue;
		if (r->ts < from)
			break; /* older ones too, give or take clock steps */
		if (has_pid && r->pid != pid)
			continue;
		if (!has_pid && command && memcmp(r->comm, key, EV_COMM_LEN))
			continue;
		if (rec_match(f, r))
			sum += r->count;
	}
	/* When the ring is full its oldest record may have pushed out one
	 * that was still in the window. */
	if (s->n == s->cap && s->evicted && i == s->n)
		complete = 0;
	pthread_mutex_unlock(&s->mu);
	*exact = complete;
	return sum;
}

struct topent {
	struct rec r;        /* the newest record of the key */
	uint64_t count, events;
};

static uint64_t
top_hash(enum store_top_by by, const struct rec *r)
{
	uint64_t a, b;

	switch (by) {
	case STORE_TOP_COMMAND:
		memcpy(&a, r->comm, 8);
		memcpy(&b, r->comm + 8, 8);
		return a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full;
	case STORE_TOP_PORT:
		return (uint64_t)r->port * 0x9e3779b97f4a7c15ull;
	case STORE_TOP_DESTINATION:
		break;
	}
	if (r->family == AF_UNIX)
		a = (uint64_t)(uintptr_t)r->a.path, b = 0;
	else
		memcpy(&a, r->a.ip, 8), memcpy(&b, r->a.ip + 8, 8);
	a = (a ^ r->family) * 0x9e3779b97f4a7c15ull ^
	    (b ^ r->port) * 0xc2b2ae3d27d4eb4full;
	return a ^ (a >> 31);
}

static int
top_same(enum store_top_by by, const struct rec *x, const struct rec *y)
{
	switch (by) {
	case STORE_TOP_COMMAND:
		return !memcmp(x->comm, y->comm, EV_COMM_LEN);
	case STORE_TOP_PORT:
		return x->port == y->port;
	case STORE_TOP_DESTINATION:
		break;
	}
	if (x->family != y->family || x->port != y->port)
		return 0;
	if (x->family == AF_UNIX)
		return x->a.path == y->a.path; /* interned */
	return !memcmp(x->a.ip, y->a.ip, sizeof(x->a.ip));
}

static int
top_cmp(const void *a, const void *b)
{
	const struct store_top_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	/* Ties: the most recently seen first, so the order is stable. */
	return (x->ev->ts < y->ev->ts) - (x->ev->ts > y->ev->ts);
}

int
store_top(struct store *s, enum store_top_by by, const char *command,
    const struct store_filter *f, uint64_t now_ns, unsigned duration_s,
    size_t limit, struct store_top *out)
{
	struct topent *t = NULL, *nt;
	size_t cap = 0, used = 0, i, j, k, m;
	char key[EV_COMM_LEN];
	uint64_t from;
	const struct rec *r;
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (command) {
		if (strnlen(command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0;
		comm_key(key, command);
	}
	from = now_ns > (uint64_t)duration_s * NS_PER_S ?
	    now_ns - (uint64_t)duration_s * NS_PER_S : 0;
	pthread_mutex_lock(&s->mu);
	for (i = 0, j = s->head; i < s->n; i++) {
		j = j ? j - 1 : s->cap - 1;
		r = &s->ring[j];
		if (r->ts < from || r->ts > now_ns)
			continue;
		if (command && memcmp(r->comm, key, EV_COMM_LEN))
			continue;
		if (f && !rec_match(f, r))
			continue;
		/* Unix sockets have no port to rank. */
		if (by == STORE_TOP_PORT && r->family != AF_INET &&
		    r->family != AF_INET6)
			continue;
		if ((used + 1) * 2 > cap) {
			/* Open addressing at most half full; rebuild doubled. */
			size_t ncap = cap ? cap * 2 : 64;

			if (!(nt = calloc(ncap, sizeof(*nt))))
				goto out;
			for (k = 0; k < cap; k++) {
				if (!t[k].events)
					continue;
				for (m = top_hash(by, &t[k].r) & (ncap - 1);
				    nt[m].events; m = (m + 1) & (ncap - 1))
					;
				nt[m] = t[k];
			}
			free(t);
			t = nt;
			cap = ncap;
		}
		for (m = top_hash(by, r) & (cap - 1); t[m].events &&
		    !top_same(by, &t[m].r, r); m = (m + 1) & (cap - 1))
			;
		if (!t[m].events) {
			t[m].r = *r; /* newest first: the first seen stays */
			used++;
		}
		t[m].count += r->count;
		t[m].events++;
		out->total += r->count;
	}
	/* Decode under the lock: unix paths live in the store. */
	if (used && (!(out->rows = calloc(used, sizeof(*out->rows))) ||
	    !(out->evs = calloc(used, sizeof(*out->evs)))))
		goto out;
	for (k = m = 0; k < cap; k++) {
		if (!t[k].events)
			continue;
		r = &t[k].r;
		rec_unpack(r, r->family == AF_UNIX && r->a.path ?
		    r->a.path->s : "", &out->evs[m]);
		out->rows[m].count = t[k].count;
		out->rows[m].events = t[k].events;
		m++;
	}
	err = 0;
out:
	pthread_mutex_unlock(&s->mu);
	free(t);
	if (err) {
		store_top_free(out);
		return err;
	}
	/* Rows sort by value; point them at their events afterwards. */
	for (k = 0; k < used; k++)
		out->rows[k].ev = &out->evs[k];
	/* No rows: rows may be NULL, which qsort() must not be given. */
	if (used)
		qsort(out->rows, used, sizeof(*out->rows), top_cmp);
	out->keys = used;
	out->n = used < limit ? used : limit;
	return 0;
}

void
store_top_free(struct store_top *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->evs);
	memset(t, 0, sizeof(*t));
}
