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

#include <sys/mman.h>

#include "tests/integration/itest.h"

#define BOUND_MIB 96      /* README "Bounded", default flags */
#define NAMES 1000000     /* the name flood */
#define FLOODERS 2
#define QUERIERS 16
#define STORM 1000000     /* connects during the queries */

/* Shared with the forked flooders. */
struct flood {
	volatile int stop;
	volatile uint64_t made[FLOODERS];
};

/*
 * n connect()s over UDP from FLOODERS processes, to 127.0.0.1 and ports
 * that vary; with rename, each under a name of its own (prefix and a
 * number: about 11 bytes, all distinct).  Returns the connects made; the
 * peak RSS of pid while it ran goes to *peak_kib when pid > 0.
 */
static uint64_t
flood(const char *prefix, uint64_t n, int rename, pid_t pid, long *peak_kib)
{
	struct flood *f;
	pid_t kid[FLOODERS];
	uint64_t total = 0;
	long rss;
	int i, status;

	f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f != MAP_FAILED);
	memset((void *)f, 0, sizeof(*f));
	for (i = 0; i < FLOODERS; i++) {
		if ((kid[i] = fork()) == 0) {
			struct sockaddr_in a = { .sin_family = AF_INET };
			char name[32]; /* the kernel keeps 15 bytes */
			uint64_t k;
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, prefix);
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			for (k = (uint64_t)i; k < n && !f->stop; k += FLOODERS) {
				if (rename) {
					snprintf(name, sizeof(name), "%s%llu", prefix,
					    (unsigned long long)k);
					prctl(PR_SET_NAME, name);
				}
				a.sin_port = htons((uint16_t)(1024 + k % 60000));
				connect(fd, (void *)&a, sizeof(a));
				f->made[i]++;
			}
			_exit(0);
		}
	}
	if (peak_kib)
		*peak_kib = 0;
	for (i = 0; i < FLOODERS; i++) {
		while (waitpid(kid[i], &status, WNOHANG) == 0) {
			if (pid > 0 && (rss = it_rss_kib(pid)) > *peak_kib)
				*peak_kib = rss;
			usleep(50000);
		}
		total += f->made[i];
	}
	munmap((void *)f, sizeof(*f));
	return total;
}

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
	made = flood("nf", NAMES, 1, s.pid, &peak);
	usleep(500000);
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

/* The querying clients. */
struct qarg {
	int port;
	atomic_int *stop;
	int which;
	unsigned long n, bad;
	double worst;
};

static void *
query_loop(void *arg)
{
	static const char *const get[] = {
		"/api/top?by=destination&duration=3600&limit=1000",
		"/api/top?by=command&duration=3600&limit=1000",
		"/api/list-connections?port=1999&limit=1",
	};
	struct qarg *q = arg;
	struct reply r;
	double t;
	int rc;

	while (!atomic_load(q->stop)) {
		t = it_now();
		if (q->which % 4 == 3)
			rc = it_http(q->port, "POST", "/api/connection-summary",
			    "{\"command\":\"nothing-such\",\"duration\":3600,"
			    "\"port\":1999}", &r);
		else
			rc = it_http(q->port, "GET", get[q->which % 4], NULL, &r);
		t = it_now() - t;
		if (rc != 0 || r.status != 200)
			q->bad++;
		it_reply_free(&r);
		if (t > q->worst)
			q->worst = t;
		q->n++;
	}
	return NULL;
}

/*
 * A full store of distinct destinations and names; then a storm of
 * connects while 16 clients loop top by destination and by command, a
 * filtered list and a filtered summary.  Nothing is lost.
 */
static void
test_queries_during_storm(void **state)
{
	struct qarg q[QUERIERS];
	pthread_t th[QUERIERS];
	atomic_int stop = 0;
	struct server s;
	long long lost0, lost;
	unsigned long n = 0, bad = 0;
	double worst = 0, t0;
	uint64_t made;
	int i;

	(void)state;
	assert_int_equal(it_start(&s, NULL), 0);
	/* Fill the store (262 144 events) with distinct names and ports. */
	flood("qf", 300000, 1, 0, NULL);
	usleep(500000);
	it_flush_lost();
	usleep(300000);
	lost0 = it_health_int(&s, "events_lost");
	for (i = 0; i < QUERIERS; i++) {
		q[i] = (struct qarg){ s.port, &stop, i, 0, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, query_loop, &q[i]), 0);
	}
	usleep(200000);
	t0 = it_now();
	made = flood("qstorm", STORM, 0, 0, NULL);
	t0 = it_now() - t0;
	atomic_store(&stop, 1);
	for (i = 0; i < QUERIERS; i++) {
		pthread_join(th[i], NULL);
		n += q[i].n;
		bad += q[i].bad;
		if (q[i].worst > worst)
			worst = q[i].worst;
	}
	it_flush_lost();
	usleep(500000);
	lost = it_health_int(&s, "events_lost") - lost0;
	print_message("storm of %llu connects in %.1f s under %d querying "
	    "clients: %lu queries (%lu not 200), slowest %.3f s; %lld events "
	    "lost\n", (unsigned long long)made, t0, QUERIERS, n, bad, worst,
	    lost);
	assert_true(n >= QUERIERS);
	assert_int_equal(bad, 0);
	if (lost)
		fail_msg("%lld events lost while %d clients queried", lost,
		    QUERIERS);
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
