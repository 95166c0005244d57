/* Unit tests for util/query.c's internals: the list iterator against a
 * plain model of the ring, in one piece and in small pieces, and while
 * the ring moves under it.  Its public functions are tested with the store
 * in test_store.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../util/query.c"

#include <netinet/in.h>

#include "store_fixtures.h"

/* What the list must be, from a walk of the whole ring: pids ascending,
 * each pid's newest limit records, newest first (tids here). */
struct model {
	uint32_t pid[1024];
	uint32_t tid[1024][8];
	size_t n[1024], ngroups;
	int truncated;
};

static void
model_of(struct store *s, const struct store_query *q, struct model *m)
{
	struct ring_walk w;
	const struct rec *r;
	size_t g, k;

	memset(m, 0, sizeof(*m));
	for (r = ring_first(s, &w); r; r = ring_next(s, &w)) {
		if (q->has_pid && r->pid != q->pid)
			continue;
		if (q->filter && !store_rec_match(q->filter, r))
			continue;
		for (g = 0; g < m->ngroups && m->pid[g] != r->pid; g++)
			;
		if (g == m->ngroups) {
			/* Insert in pid order. */
			for (g = 0; g < m->ngroups && m->pid[g] < r->pid; g++)
				;
			memmove(&m->pid[g + 1], &m->pid[g], (m->ngroups - g) * sizeof(m->pid[0]));
			memmove(&m->n[g + 1], &m->n[g], (m->ngroups - g) * sizeof(m->n[0]));
			memmove(&m->tid[g + 1], &m->tid[g], (m->ngroups - g) * sizeof(m->tid[0]));
			m->pid[g] = r->pid;
			m->n[g] = 0;
			m->ngroups++;
		}
		k = m->n[g];
		if (k >= q->limit) {
			m->truncated = 1;
			continue;
		}
		m->tid[g][k] = r->tid;
		m->n[g]++;
	}
}

/* The iterator in pieces of piece events gives the model's list. */
static void
iter_matches(struct store *s, const struct store_query *q, size_t piece)
{
	struct store_iter it;
	struct event ev[8];
	struct model m;
	size_t g = 0, k, n;
	uint32_t pid;

	model_of(s, q, &m);
	assert_int_equal(store_iter_begin(s, q, &it), 0);
	assert_int_equal(it.npids, m.ngroups);
	while (store_iter_group(&it, &pid)) {
		assert_true(g < m.ngroups);
		assert_int_equal(pid, m.pid[g]);
		k = 0;
		while ((n = store_iter_events(s, &it, ev, piece)) > 0) {
			assert_true(n <= piece);
			for (size_t i = 0; i < n; i++, k++) {
				assert_true(k < m.n[g]);
				assert_int_equal(ev[i].tid, m.tid[g][k]);
				assert_int_equal(ev[i].pid, pid);
			}
		}
		assert_int_equal(k, m.n[g]);
		g++;
	}
	assert_int_equal(g, m.ngroups);
	assert_int_equal(it.truncated, m.truncated);
	store_iter_end(&it);
}

static void
test_iter_matches_model(void **state)
{
	struct store_filter f;
	struct store_query q;
	struct event ev[64];
	struct store *s;
	uint32_t seed = 12345, k = 0;
	int round, i;

	(void)state;
	/* Few slots, many pids, colliding hashes, constant eviction. */
	s = new_store(300);
	for (round = 0; round < 200; round++) {
		for (i = 0; i < 64; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Runs of one pid, and pids that collide in the index. */
			ev[i] = inet_ev(round % 7 == 0 ? 4242 : (seed >> 8) % 900 * 1024,
			    "idx", fake_now, k++);
			ev[i].port = (uint16_t)(seed % 3);
		}
		store_add(s, ev, 1 + (size_t)(seed % 64));
		memset(&q, 0, sizeof(q));
		q.limit = 1 + seed % 5;
		iter_matches(s, &q, 8);
		iter_matches(s, &q, 1);
		q.has_pid = 1;
		q.pid = 4242;
		iter_matches(s, &q, 2);
		q.pid = ev[0].pid;
		q.limit = 3;
		iter_matches(s, &q, 3);
		/* A filter: the chains are searched, not just counted. */
		memset(&f, 0, sizeof(f));
		f.has_port = 1;
		f.port = 1;
		q.has_pid = 0;
		q.limit = 2;
		q.filter = &f;
		iter_matches(s, &q, 1);
		assert_true(s->npids <= s->n);
	}
	store_free(s);
}

/*
 * The ring turns over while a list is being read: the cursor is an
 * append number, so a group whose next records were evicted just ends,
 * and nothing appended after the list began shows up in it.
 */
static void
test_iter_survives_eviction(void **state)
{
	struct store_query q;
	struct store_iter it;
	struct event ev[16], out[4];
	struct store *s;
	uint32_t pid, k;
	size_t n, got = 0;

	(void)state;
	s = new_store(16);
	for (k = 0; k < 16; k++)
		ev[k] = inet_ev(k < 8 ? 1 : 2, "ev", fake_now, k);
	store_add(s, ev, 16);
	memset(&q, 0, sizeof(q));
	q.limit = 100;
	assert_int_equal(store_iter_begin(s, &q, &it), 0);
	assert_int_equal(it.npids, 2);
	assert_int_equal(store_iter_group(&it, &pid), 1);
	assert_int_equal(pid, 1);
	/* The first four of pid 1 (tids 7..4), then the ring moves on by 12:
	 * pid 1's tids 0..7 and pid 2's 8..11 are gone, newcomers of pid 1
	 * and 2 arrive. */
	assert_int_equal(store_iter_events(s, &it, out, 4), 4);
	assert_int_equal(out[0].tid, 7);
	assert_int_equal(out[3].tid, 4);
	for (k = 0; k < 12; k++)
		ev[k] = inet_ev(k % 2 ? 1 : 2, "ev", fake_now, 100 + k);
	store_add(s, ev, 12);
	assert_int_equal(store_iter_events(s, &it, out, 4), 0);
	/* Pid 2: only its records from before the list began that are still
	 * there (tids 15..12), none of the newcomers. */
	assert_int_equal(store_iter_group(&it, &pid), 1);
	assert_int_equal(pid, 2);
	while ((n = store_iter_events(s, &it, out, 4)) > 0) {
		for (size_t i = 0; i < n; i++)
			assert_true(out[i].tid >= 12 && out[i].tid <= 15);
		got += n;
	}
	assert_int_equal(got, 4);
	assert_int_equal(store_iter_group(&it, &pid), 0);
	store_iter_end(&it);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iter_matches_model),
		cmocka_unit_test(test_iter_survives_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
