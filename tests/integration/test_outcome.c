/*
 * The outcome of TCP connects, on the real kernel: a non-blocking connect
 * to a closed port returns -EINPROGRESS at once, and the backends that
 * follow the socket (cgroup: sock:inet_sock_set_state) still report it
 * refused; one to a listener reports ok.  Backends that see return codes
 * but not the outcome say -115 and unknown, never 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>

#include "tests/integration/itest.h"

static struct server srv;

/* A non-blocking connect from a child named comm to 127.0.0.1:port; the
 * child waits for the outcome before it exits.  Returns its pid. */
static pid_t
nonblocking_connect(const char *comm, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct pollfd pfd;
	pid_t pid;
	int fd, status;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_NAME, comm);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(fd, (void *)&a, sizeof(a)) == 0 || errno != EINPROGRESS)
			_exit(3);
		pfd.fd = fd;
		pfd.events = POLLOUT;
		poll(&pfd, 1, 2000);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return pid;
}

/* The event of pid, waiting up to 2 s for its result to leave unknown
 * when want is not "unknown".  Returns a new reference or NULL. */
static json_t *
event_of(pid_t pid, const char *want)
{
	char path[128], key[32];
	double t0 = it_now();
	struct reply r;
	json_t *e = NULL;

	snprintf(path, sizeof(path), "/api/list-connections?pid=%d", (int)pid);
	snprintf(key, sizeof(key), "%d", (int)pid);
	for (;;) {
		if (it_http(srv.port, "GET", path, NULL, &r) == 0) {
			json_t *arr = json_object_get(json_object_get(r.json,
			    "connections"), key);
			const char *res;

			e = json_array_get(arr, 0);
			res = json_string_value(json_object_get(e, "result"));
			if (e && res && (strcmp(want, "unknown") == 0 ||
			    strcmp(res, "unknown") != 0 || it_now() - t0 > 2)) {
				json_incref(e);
				it_reply_free(&r);
				return e;
			}
		}
		it_reply_free(&r);
		if (it_now() - t0 > 2.5)
			return NULL;
		usleep(50000);
	}
}

static void
check(pid_t pid, const char *want)
{
	const char *expect = it_knows(&srv, "result") ? want : "unknown";
	json_t *e = event_of(pid, expect), *rc;
	const char *res;

	if (e == NULL)
		fail_msg("no event for pid %d", (int)pid);
	res = json_string_value(json_object_get(e, "result"));
	rc = json_object_get(e, "return_code");
	if (strcmp(res, expect) != 0)
		fail_msg("result %s, want %s (backend %s)", res, expect, srv.backend);
	if (it_knows(&srv, "return_code"))
		assert_int_equal(json_integer_value(rc), -115);
	else
		assert_true(json_is_null(rc));
	json_decref(e);
}

static void
test_nonblocking_refused(void **state)
{
	(void)state;
	check(nonblocking_connect("itest-nbref", it_free_port()), "refused");
}

static void
test_nonblocking_ok(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (void *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (void *)&a, &len), 0);
	check(nonblocking_connect("itest-nbok", ntohs(a.sin_port)), "ok");
	close(l);
}

static int
setup(void **state)
{
	(void)state;
	return it_start(&srv, NULL) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return it_stop(&srv, NULL) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonblocking_refused),
		cmocka_unit_test(test_nonblocking_ok),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
