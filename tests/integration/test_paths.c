/*
 * The paths of tests/integration/paths.h (io_uring connect and sendmsg,
 * sendmmsg(), TCP Fast Open, a v4-mapped destination), made by one
 * process on the real kernel under the backend make test names
 * (ITEST_BACKEND, or auto): each recorded exactly or named in /health's
 * not_seen.  And a v4-mapped destination is the IPv4 address it is to
 * the ip and family filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/prctl.h>

#include "tests/integration/itest.h"
#include "tests/integration/paths.h"

#define COMM "itest-paths"

static struct server srv;
static pid_t child;
static int port[P_N];
static int uring_errno;         /* the child could not use io_uring */

static int
setup(void **state)
{
	int p[2], status, l1, l2, i;

	(void)state;
	if (it_start(&srv, NULL) < 0)
		return -1;
	for (i = 0; i < P_N; i++)
		port[i] = it_free_port();
	port[P_URING_TCP] = it_paths_listener(&l1);
	port[P_TFO] = it_paths_listener(&l2);
	if (pipe(p) < 0)
		return -1;
	if ((child = fork()) == 0) {
		int e;

		prctl(PR_SET_NAME, COMM);
		e = it_paths_make(port);
		write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	read(p[0], &uring_errno, sizeof(uring_errno));
	close(p[0]);
	waitpid(child, &status, 0);
	close(l1);
	close(l2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

static void
test_paths_seen_or_said(void **state)
{
	char path[128], key[32], ns[4096], why[1024];
	struct reply r, h;
	json_t *arr = NULL;
	double t0 = it_now();
	int i, rc;

	(void)state;
	assert_int_equal(it_http(srv.port, "GET", "/health", NULL, &h), 0);
	assert_true(json_is_array(json_object_get(h.json, "not_seen")));
	it_paths_not_seen(h.json, ns, sizeof(ns));
	/* Wait for every path this backend claims to see, a few flush
	 * periods at most. */
	snprintf(path, sizeof(path), "/api/list-connections?pid=%d&limit=1000",
	    (int)child);
	snprintf(key, sizeof(key), "%d", (int)child);
	for (;;) {
		assert_int_equal(it_http(srv.port, "GET", path, NULL, &r), 0);
		arr = json_object_get(json_object_get(r.json, "connections"), key);
		if (it_paths_done(arr, port, ns) || it_now() - t0 > 3)
			break;
		it_reply_free(&r);
		usleep(50000);
	}
	for (i = 0; i < P_N; i++) {
		if (i <= P_URING_SENDMSG && uring_errno) {
			/* No io_uring for us here: nothing to assert. */
			print_message("%s: io_uring refused (%s), not tried\n",
			    it_paths[i].what, strerror(uring_errno));
			continue;
		}
		rc = it_paths_check(i, arr, port, ns, COMM,
		    it_knows(&srv, "syscall"), it_knows(&srv, "socket_type"),
		    why, sizeof(why));
		if (rc < 0)
			fail_msg("backend %s: %s", srv.backend, why);
		print_message("%s: %s %s\n", srv.backend, it_paths[i].what,
		    rc ? "recorded exactly" : "not seen, as /health says");
	}
	/* A v4-mapped destination is the IPv4 address it is to the
	 * filters, while address_family stays the socket's. */
	if (it_paths_event(arr, port[P_MAPPED]) != NULL) {
		struct reply f;
		char q[160];

		snprintf(q, sizeof(q), "/api/list-connections?pid=%d&port=%d&"
		    "ip=127.0.0.0/8&family=inet", (int)child, port[P_MAPPED]);
		assert_int_equal(it_http(srv.port, "GET", q, NULL, &f), 0);
		assert_int_equal(json_array_size(json_object_get(json_object_get(
		    f.json, "connections"), key)), 1);
		it_reply_free(&f);
	}
	it_reply_free(&r);
	it_reply_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_seen_or_said),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
