/*
 * The read side of the event store (store.c is the write side, and
 * store_impl.h what both share): store_list() with its two ways of finding
 * records, the full scan and the per-pid index; store_count_filter() and
 * store_top(), which scan the ring under the same filters; and decoding
 * the compact records back into struct event.  Every function takes the
 * store's one mutex, copies what it needs and decodes after unlocking
 * where it can.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/event.h"
#include "util/store.h"
#include "util/store_impl.h"

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
    unsigned duration_s, struct store_counts *out, int *exact)
{
	struct store_counts c = { 0, 0 };
	char key[EV_COMM_LEN];
	uint64_t from, to;
	const struct rec *r;
	size_t i, j;
	int complete = 1;

	if (filter_empty(f)) {
		*exact = 1;
		return store_count(s, has_pid, pid, command, now_ns, duration_s,
		    out);
	}
	if (out)
		*out = c;
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
		if (!rec_match(f, r))
			continue;
		if (r->syscall == EV_CONNECT)
			c.connects += r->count;
		else
			c.datagrams += r->count;
	}
	/* When the ring is full its oldest record may have pushed out one
	 * that was still in the window. */
	if (s->n == s->cap && s->evicted && i == s->n)
		complete = 0;
	pthread_mutex_unlock(&s->mu);
	*exact = complete;
	if (out)
		*out = c;
	return c.connects + c.datagrams;
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
