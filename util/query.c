/*
 * The read side of the event store (store.c is the write side, and
 * store_impl.h what both share): the list iterator, which walks each
 * pid's chain through the per-pid index in bounded pieces, and
 * store_count_filter(), which walks the ring in chunks (scan.c); top is
 * in top.c.  No function here holds the store's one mutex for more than
 * one bounded piece (ITER_STEPS records, SCAN_CHUNK records, or
 * PIDX_COPY_MAX index slots), nor allocates under it: the reader adding
 * events never waits on a query for longer than that.
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

/* Lists of more than STORE_SMALL_LIST pids in flight. */
static unsigned big_lists;


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
	return !it->q.filter || store_rec_match(it->q.filter, r);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * The pids with a record the iterator wants, by a chunked walk of the
 * ring (the store's lock is held for one chunk at a time): every match's
 * pid (runs of one pid once), then sorted and made unique.  At most
 * STORE_SCANS_MAX walks run at once (scan_turn_take()), which bounds what
 * they hold meanwhile: 4 bytes a stored record.  Returns 0 or -ENOMEM.
 */
static int
pids_by_scan(struct store *s, struct store_iter *it)
{
	uint32_t *v = NULL, *nv, last = 0;
	size_t n, i, k, len = 0, cap = 0;
	struct srec *chunk;
	struct scan sc;
	int err = 0, have = 0;

	/* The chunk too is held only with a turn. */
	scan_turn_take();
	if (!(chunk = malloc(SCAN_CHUNK * sizeof(*chunk)))) {
		scan_turn_give();
		return -ENOMEM;
	}
	scan_begin(s, &sc);
	it->upto = sc.next;
	while (!err && (n = scan_chunk(s, &sc, chunk, SCAN_CHUNK)) > 0) {
		for (i = 0; i < n; i++) {
			const struct rec *r = &chunk[i].r;

			if ((it->q.has_pid && r->pid != it->q.pid) ||
			    !iter_wants(it, r, chunk[i].seq) ||
			    (have && r->pid == last))
				continue;
			if (len == cap) {
				cap = cap ? cap * 2 : 1024;
				if (!(nv = realloc(v, cap * sizeof(*v)))) {
					err = -ENOMEM;
					break;
				}
				v = nv;
			}
			v[len++] = last = r->pid;
			have = 1;
		}
	}
	free(chunk);
	if (!err && len) {
		qsort(v, len, sizeof(*v), u32_cmp);
		for (i = k = 1; i < len; i++)
			if (v[i] != v[k - 1])
				v[k++] = v[i];
		len = k;
		/* Give back what the duplicates took. */
		if ((nv = realloc(v, len * sizeof(*v))))
			v = nv;
	}
	scan_turn_give();
	if (err) {
		free(v);
		return err;
	}
	it->pids = v;
	it->npids = len;
	return 0;
}

/* At most this many index slots are copied under the lock at once: past
 * it, pids_by_scan() takes over. */
#define PIDX_COPY_MAX 8192

/*
 * Every pid in the ring, from the index when it is small.  Returns 1 when
 * done, 0 when the index is too large for one lock hold, or -ENOMEM.
 */
static int
pids_by_index(struct store *s, struct store_iter *it)
{
	size_t cap, i;

	pthread_mutex_lock(&s->mu);
	cap = s->pidcap;
	pthread_mutex_unlock(&s->mu);
	if (cap > PIDX_COPY_MAX)
		return 0;
	/* Allocate outside the lock; the index may have grown meanwhile. */
	if (!(it->pids = malloc(cap * sizeof(*it->pids))))
		return -ENOMEM;
	pthread_mutex_lock(&s->mu);
	if (s->pidcap != cap) {
		pthread_mutex_unlock(&s->mu);
		free(it->pids);
		it->pids = NULL;
		return 0;
	}
	it->upto = s->appended;
	for (i = 0; i < cap; i++)
		if (s->pidx[i].n)
			it->pids[it->npids++] = s->pidx[i].pid;
	pthread_mutex_unlock(&s->mu);
	return 1;
}

int
store_iter_begin(struct store *s, const struct store_query *q,
    struct store_iter *it)
{
	int narrow, r;

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
	narrow = it->has_key || !store_filter_empty(q->filter);
	it->gi = SIZE_MAX;
	if (q->has_pid && !narrow) {
		if (!(it->pids = malloc(sizeof(*it->pids))))
			return -ENOMEM;
		pthread_mutex_lock(&s->mu);
		it->upto = s->appended;
		if (pidx_find(s, q->pid))
			it->pids[it->npids++] = q->pid;
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	/* A narrower query, or a large index: one walk of the ring in
	 * chunks finds the pids with a match. */
	if (!narrow && !q->has_pid && (r = pids_by_index(s, it)) != 0) {
		if (r < 0)
			return r;
	} else if ((r = pids_by_scan(s, it)) < 0) {
		return r;
	}
	/* No pids: it->pids may be NULL, which qsort() must not be given. */
	if (it->npids)
		qsort(it->pids, it->npids, sizeof(*it->pids), u32_cmp);
	/* A list of many pids holds 4 bytes each for as long as its client
	 * reads: only STORE_BIG_LISTS such at once. */
	if (it->npids > STORE_SMALL_LIST) {
		if (__atomic_add_fetch(&big_lists, 1, __ATOMIC_ACQ_REL) >
		    STORE_BIG_LISTS) {
			__atomic_sub_fetch(&big_lists, 1, __ATOMIC_ACQ_REL);
			return -EBUSY;
		}
		it->big = 1;
	}
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

/* At most this many records are looked at per lock hold: a narrow query
 * on a long chain lets the reader in between. */
#define ITER_STEPS 4096

/* One lock hold of store_iter_events(); may return 0 with it->state 1
 * when it stopped after ITER_STEPS records. */
static size_t
iter_piece(struct store *s, struct store_iter *it, struct event *ev,
    size_t max)
{
	unsigned steps = 0;
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
		if (++steps > ITER_STEPS)
			break; /* resume here after letting the reader in */
		if (iter_wants(it, r, a)) {
			if (it->taken >= it->q.limit) {
				/* One more than the limit: truncated. */
				it->truncated = 1;
				end = 1;
				break;
			}
			if (n == max)
				break; /* resume here next time */
			store_rec_unpack(r, r->family == AF_UNIX && r->a.path ?
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

size_t
store_iter_events(struct store *s, struct store_iter *it, struct event *ev,
    size_t max)
{
	size_t n;

	do
		n = iter_piece(s, it, ev, max);
	while (n == 0 && it->state == 1);
	return n;
}

void
store_iter_end(struct store_iter *it)
{
	if (it->big)
		__atomic_sub_fetch(&big_lists, 1, __ATOMIC_ACQ_REL);
	it->big = 0;
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

uint64_t
store_count_filter(struct store *s, int has_pid, uint32_t pid,
    const char *command, const struct store_filter *f, uint64_t now_ns,
    unsigned duration_s, struct store_counts *out, int *exact)
{
	struct store_counts c = { 0, 0, 0 };
	char key[EV_COMM_LEN];
	uint64_t from, to;
	struct srec *chunk;
	const struct rec *r;
	struct scan sc;
	size_t n = 0, i;
	int older = 0;

	if (store_filter_empty(f)) {
		*exact = 1;
		return store_count(s, has_pid, pid, command, now_ns, duration_s,
		    out);
	}
	if (out)
		*out = c;
	*exact = 1;
	if (!has_pid && command) {
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
	scan_turn_take();
	if (!(chunk = malloc(SCAN_CHUNK * sizeof(*chunk)))) {
		scan_turn_give();
		/* Nothing counted: say so rather than answer 0 as exact. */
		*exact = 0;
		return 0;
	}
	scan_begin(s, &sc);
	while (!older && (n = scan_chunk(s, &sc, chunk, SCAN_CHUNK)) > 0) {
		for (i = 0; i < n; i++) {
			r = &chunk[i].r;
			if (r->ts >= to)
				continue;
			if (r->ts < from) {
				older = 1; /* older ones too, give or take clock steps */
				break;
			}
			if (has_pid && r->pid != pid)
				continue;
			if (!has_pid && command && memcmp(r->comm, key, EV_COMM_LEN))
				continue;
			if (!store_rec_match(f, r))
				continue;
			if (r->syscall == EV_CONNECT)
				c.connects += r->count;
			else
				c.datagrams += r->count;
		}
	}
	scan_turn_give();
	free(chunk);
	/* When the walk reached the ring's oldest record and the ring had
	 * evicted some, or lost some to eviction during the walk, events of
	 * the window may be missing. */
	if (!older && (sc.evicted || sc.cut))
		*exact = 0;
	if (out)
		*out = c;
	return c.connects + c.datagrams;
}
