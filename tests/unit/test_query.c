/* Unit tests for util/query.c's internals: the two ways store_list() finds
 * records.  Its public functions are tested with the store in test_store.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../util/query.c"

#include <netinet/in.h>

#include "store_fixtures.h"

/* Both ways of listing (the full scan and the per-pid index) agree. */
static void
lists_agree(struct store *s, const struct store_query *q)
{
	struct scan a, b;
	size_t i, j;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(scan_ring(s, q, NULL, q->limit, &a), 0);
	assert_int_equal(scan_index(s, q, q->limit, &b), 0);
	assert_int_equal(a.ngrp, b.ngrp);
	assert_int_equal(a.nrec, b.nrec);
	for (i = 0; i < a.ngrp; i++) {
		const struct lgroup *x = &a.grp[i], *y = NULL;

		for (j = 0; j < b.ngrp; j++)
			if (b.grp[j].pid == x->pid)
				y = &b.grp[j];
		assert_non_null(y);
		assert_int_equal(x->total, y->total);
		assert_int_equal(x->n, y->n);
	}
	/* Same records, newest first within each pid. */
	for (i = 0; i < a.nrec; i++) {
		uint32_t pid = a.rec[i].r.pid;
		size_t ka = 0, kb = 0;

		for (j = 0; j < i; j++)
			ka += a.rec[j].r.pid == pid;
		for (j = 0; j < b.nrec; j++) {
			if (b.rec[j].r.pid != pid)
				continue;
			if (kb++ == ka) {
				assert_int_equal(a.rec[i].r.tid, b.rec[j].r.tid);
				break;
			}
		}
		assert_true(j < b.nrec);
	}
	scan_free(&a);
	scan_free(&b);
}

static void
test_index_matches_scan(void **state)
{
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
		}
		store_add(s, ev, 1 + (size_t)(seed % 64));
		memset(&q, 0, sizeof(q));
		q.limit = 1 + seed % 5;
		lists_agree(s, &q);
		q.limit = 1000;
		lists_agree(s, &q);
		q.has_pid = 1;
		q.pid = 4242;
		lists_agree(s, &q);
		q.pid = ev[0].pid;
		q.limit = 3;
		lists_agree(s, &q);
		assert_true(s->npids <= s->n);
		assert_true(s->npids * 2 <= s->pidcap || s->pidcap >= 2048);
	}
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_matches_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
