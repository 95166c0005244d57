/*
 * A busy or hostile host against the real server with the default flags:
 * a flood of a million distinct process names keeps the resident memory
 * under the README's bound (BOUND_MIB); and sixteen clients looping the
 * heaviest queries on a full store during a connect storm cost capture
 * nothing (no event lost) and answer within their own time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/integration/itest.h"
#include "tests/integration/itest_load.h"

#define BOUND_MIB 96      /* README "Bounded", default flags */
#define NAMES 1000000     /* the name flood */
#define QUERIERS 16
#define STORM 1000000     /* connects during the queries */

static void
test_name_flood(void **state)
{
	struct server s;
	long peak, rss;
	long long added0, added;
	uint64_t made;
	double t0;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	added0 = it_health_int(&s, "events_seen");
	t0 = it_now();
	made = it_flood("nf", NAMES, 1, s.pid, &peak);
	if (it_settle(&s, IT_SETTLE_S) < 0)
		fail_msg("the name flood's events were still coming in %d s "
		    "after it", IT_SETTLE_S);
	rss = it_rss_kib(s.pid);
	added = it_health_int(&s, "events_seen") - added0;
	print_message("name flood: %llu distinct names in %.1f s, %lld events "
	    "read; server RSS peak %.1f MiB, after %.1f MiB (bound %d MiB)\n",
	    (unsigned long long)made, it_now() - t0, added, peak / 1024.0,
	    rss / 1024.0, BOUND_MIB);
	/* The flood must have reached the store, or this proves nothing. */
	assert_true(added >= (long long)made / 2);
	assert_true(peak <= BOUND_MIB * 1024L && rss <= BOUND_MIB * 1024L);
	assert_int_equal(it_stop(&s, NULL), 0);
}

/*
 * A full store of distinct destinations and names; then a storm of
 * connects while 16 clients loop top by destination and by command, a
 * filtered list and a filtered summary.  Nothing is lost.
 */
static void
test_queries_during_storm(void **state)
{
	struct it_queried qd;
	struct server s;
	long long lost0, lost, alone;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	/* Fill the store (262 144 events) with distinct names and ports. */
	it_flood("qf", 300000, 1, 0, NULL);
	/* The storm alone first: on a machine busy with other work the reader
	 * can lose events to the CPU alone, and that is not the queries'.
	 * It starts once the fill is all in (it_settle()). */
	if ((alone = it_storm_alone(&s, STORM, &lost0)) < 0)
		fail_msg("the counts did not settle around the storm alone "
		    "within %d s", IT_SETTLE_S);
	assert_int_equal(it_storm_queried(s.port, QUERIERS, STORM, &qd), 0);
	if (it_settle(&s, IT_SETTLE_S) < 0)
		fail_msg("the counts did not settle within %d s of the storm "
		    "under queries", IT_SETTLE_S);
	lost = it_health_int(&s, "events_lost") - lost0;
	print_message("storm of %llu connects in %.1f s under %d querying "
	    "clients: %lu queries (%lu not 200), slowest %.3f s; %lld events "
	    "lost (%lld by the same storm alone)\n",
	    (unsigned long long)qd.made, qd.secs, QUERIERS, qd.queries, qd.bad,
	    qd.worst, lost, alone);
	assert_true(qd.queries >= QUERIERS);
	assert_int_equal(qd.bad, 0);
	/* Zero on a quiet machine; on a loaded one, no more than the storm
	 * loses alone (give or take 1 %). */
	if (lost > alone + STORM / 100)
		fail_msg("%lld events lost while %d clients queried, %lld by the "
		    "storm alone", lost, QUERIERS, alone);
	assert_int_equal(it_stop(&s, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_flood),
		cmocka_unit_test(test_queries_during_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
