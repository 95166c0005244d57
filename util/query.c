/*
 * The read side of the event store (store.c is the write side, and
 * store_impl.h what both share): the list iterator, which walks each
 * pid's chain through the per-pid index in bounded pieces; and
 * store_count_filter() and store_top(), which walk the ring under the same
 * filters; and decoding the compact records back into struct event.
 * Every function takes the store's one mutex, copies what it needs and
 * lets go; none holds it for longer than one walk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/event.h"
#include "util/store.h"
#include "util/store_impl.h"

_Static_assert(sizeof(((struct store_iter *)0)->key) == EV_COMM_LEN,
    "store_iter's key holds a comm");

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
	ev->result = r->result;
	ev->ret_unknown = r->ret_unknown;
	memcpy(ev->comm, r->comm, EV_COMM_LEN);
	if (r->family == AF_UNIX)
		strncpy(ev->path, path, sizeof(ev->path) - 1);
	else
		memcpy(ev->ip, r->a.ip, sizeof(ev->ip));
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

/* The filter test on the fields both struct rec and struct event have
 * (ip is NULL for unix sockets, which have no address to match); the
 * protocol name is derived from family, protocol and socket type, as
 * ev_protocol_name() does.  An IPv4-mapped IPv6 destination
 * (::ffff:a.b.c.d, a dual-stack program's IPv4 peer) is the IPv4 address
 * it is to the family and ip filters; the event keeps its own family. */
static int
fields_match(const struct store_filter *f, uint64_t ts, uint16_t family,
    uint16_t port, uint16_t protocol, uint16_t sock_type, int failed,
    uint8_t syscall, const uint8_t *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	uint16_t match_family = family;
	struct event pe;

	if (family == AF_INET6 && ip && memcmp(ip, mapped, sizeof(mapped)) == 0) {
		match_family = AF_INET;
		ip += sizeof(mapped);
	}
	if (ts < f->since_ns)
		return 0;
	if (f->has_port && (port != f->port || family == AF_UNIX))
		return 0;
	if (f->has_family && match_family != f->family)
		return 0;
	if (f->has_failed && failed != (f->failed != 0))
		return 0;
	if (f->has_syscall && !ev_syscall_matches(f->syscall, syscall))
		return 0;
	if (f->has_ip && (match_family != f->ip_family || !ip ||
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
	    r->sock_type == TYPE_UNKNOWN ? EV_UNKNOWN : r->sock_type,
	    ev_failed(r->ret, r->ret_unknown, r->result), r->syscall,
	    r->family == AF_UNIX ? NULL : r->a.ip);
}

int
store_filter_match(const struct store_filter *f, const struct event *ev)
{
	if (!f)
		return 1;
	return fields_match(f, ev->ts, ev->family, ev->port, ev->protocol,
	    ev->sock_type, ev_failed(ev->ret, ev->ret_unknown, ev->result),
	    ev->syscall,
	    ev->family == AF_UNIX ? NULL : ev->ip);
}

static int filter_empty(const struct store_filter *f);

/*
 * Step from the record with append number *a in slot *j to the next older
 * record of its pid.  Returns 0, or -1 at the end of the chain: the pid
 * had no older record, or it was evicted (its slot then holds a newer
 * record, since the link was made while both were in the ring).
 */
static int
chain_older(const struct store *s, uint64_t *a, size_t *j)
{
	uint32_t prev = s->ring[*j].prev;
	uint64_t pa;

	if (prev == UINT32_MAX || prev >= s->cap)
		return -1;
	pa = slot_seq(s, prev);
	if (pa >= *a || s->ring[prev].pid != s->ring[*j].pid)
		return -1;
	*a = pa;
	*j = prev;
	return 0;
}

/* Whether r is one the iterator's query wants. */
static int
iter_wants(const struct store_iter *it, const struct rec *r, uint64_t a)
{
	if (a >= it->upto)
		return 0; /* appended after the list began */
	if (it->has_key && memcmp(r->comm, it->key, EV_COMM_LEN))
		return 0;
	return !it->q.filter || rec_match(it->q.filter, r);
}

/* Whether the chain of e has a record the iterator wants. */
static int
chain_has(const struct store *s, const struct store_iter *it,
    const struct pidx *e)
{
	size_t j = e->newest;
	uint64_t a = slot_seq(s, j);

	do
		if (iter_wants(it, &s->ring[j], a))
			return 1;
	while (chain_older(s, &a, &j) == 0);
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int
store_iter_begin(struct store *s, const struct store_query *q,
    struct store_iter *it)
{
	const struct pidx *e;
	int narrow;
	size_t i;

	memset(it, 0, sizeof(*it));
	it->q = *q;
	it->q.command = NULL;
	if (!it->q.limit)
		it->q.limit = 1;
	if (q->command) {
		if (strnlen(q->command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0; /* longer than any comm: matches nothing */
		comm_key(it->key, q->command);
		it->has_key = 1;
	}
	narrow = it->has_key || !filter_empty(q->filter);
	pthread_mutex_lock(&s->mu);
	it->upto = s->appended;
	if (!(it->pids = malloc((s->npids ? s->npids : 1) * sizeof(*it->pids)))) {
		pthread_mutex_unlock(&s->mu);
		return -ENOMEM;
	}
	/* The index knows every pid; a narrower query looks down each chain
	 * for one match. */
	if (q->has_pid) {
		if ((e = pidx_find(s, q->pid)) && (!narrow || chain_has(s, it, e)))
			it->pids[it->npids++] = q->pid;
	} else {
		for (i = 0; i < s->pidcap; i++) {
			e = &s->pidx[i];
			if (e->n && (!narrow || chain_has(s, it, e)))
				it->pids[it->npids++] = e->pid;
		}
	}
	pthread_mutex_unlock(&s->mu);
	qsort(it->pids, it->npids, sizeof(*it->pids), u32_cmp);
	it->gi = SIZE_MAX;
	return 0;
}

int
store_iter_group(struct store_iter *it, uint32_t *pid)
{
	it->gi = it->gi == SIZE_MAX ? 0 : it->gi + 1;
	if (it->gi >= it->npids)
		return 0;
	*pid = it->pids[it->gi];
	it->next = 0;
	it->taken = 0;
	it->state = 0;
	return 1;
}

size_t
store_iter_events(struct store *s, struct store_iter *it, struct event *ev,
    size_t max)
{
	const struct pidx *e;
	const struct rec *r;
	uint32_t pid;
	uint64_t a;
	size_t j, n = 0;
	int end = 0;

	if (it->gi >= it->npids || it->state == 2)
		return 0;
	pid = it->pids[it->gi];
	pthread_mutex_lock(&s->mu);
	if (it->state == 0) {
		/* The group's newest record. */
		if (!(e = pidx_find(s, pid))) {
			end = 1;
			goto out;
		}
		j = e->newest;
		a = slot_seq(s, j);
		it->state = 1;
	} else {
		/* Where the last piece stopped, unless evicted since. */
		a = it->next;
		if (s->n == 0 || a < s->appended - s->n) {
			end = 1;
			goto out;
		}
		j = (size_t)(a % s->cap);
	}
	for (;;) {
		r = &s->ring[j];
		if (iter_wants(it, r, a)) {
			if (it->taken >= it->q.limit) {
				/* One more than the limit: truncated. */
				it->truncated = 1;
				end = 1;
				break;
			}
			if (n == max)
				break; /* resume here next time */
			rec_unpack(r, r->family == AF_UNIX && r->a.path ?
			    r->a.path->s : "", &ev[n++]);
			it->taken++;
		}
		if (chain_older(s, &a, &j) < 0) {
			end = 1;
			break;
		}
	}
	it->next = a;
out:
	pthread_mutex_unlock(&s->mu);
	if (end)
		it->state = 2;
	return n;
}

void
store_iter_end(struct store_iter *it)
{
	free(it->pids);
	it->pids = NULL;
	it->npids = 0;
}

int
store_list(struct store *s, const struct store_query *q, struct store_list *out)
{
	struct store_iter it;
	struct event *ev = NULL, *nev;
	size_t cap = 0, len = 0, g, n;
	uint32_t pid;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = store_iter_begin(s, q, &it)) < 0)
		return err;
	if (it.npids && !(out->groups = calloc(it.npids, sizeof(*out->groups)))) {
		store_iter_end(&it);
		return -ENOMEM;
	}
	for (g = 0; store_iter_group(&it, &pid); g++) {
		out->groups[g].pid = pid;
		/* Offsets for now: ev moves while it grows. */
		out->groups[g].ev = (struct event *)(uintptr_t)len;
		do {
			if (len + 64 > cap) {
				cap = cap ? cap * 2 : 256;
				if (!(nev = realloc(ev, cap * sizeof(*ev)))) {
					free(ev);
					free(out->groups);
					memset(out, 0, sizeof(*out));
					store_iter_end(&it);
					return -ENOMEM;
				}
				ev = nev;
			}
			n = store_iter_events(s, &it, ev + len, 64);
			len += n;
			out->groups[g].n += n;
		} while (n);
	}
	out->ngroups = g;
	out->truncated = it.truncated;
	/* groups[0].ev owns the array, as store_list_free() expects. */
	for (g = 0; g < out->ngroups; g++)
		out->groups[g].ev = ev + (uintptr_t)out->groups[g].ev;
	if (!out->ngroups)
		free(ev);
	store_iter_end(&it);
	return 0;
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
	struct ring_walk w;
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
	for (r = ring_first(s, &w); r; r = ring_next(s, &w)) {
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
	if (s->n == s->cap && s->evicted && !r)
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
	size_t cap = 0, used = 0, k, m;
	struct ring_walk w;
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
	for (r = ring_first(s, &w); r; r = ring_next(s, &w)) {
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
