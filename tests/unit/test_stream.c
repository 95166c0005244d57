/* Unit tests for the stream hub (httpd/stream.c) without a network: the
 * bounded queue, drop counting, folded events, filters, the client limit
 * and shutdown.  The handler itself is tested in tests/integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../httpd/stream.c"

#include <netinet/in.h>
#include <sys/socket.h>

static struct client *
client_new(uint32_t pid)
{
	struct client *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->has_pid = pid != 0;
	c->pid = pid;
	return c;
}

static void
client_free(struct client *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void
test_queue_and_gap(void **state)
{
	struct event *ev = calloc(1500, sizeof(*ev));
	unsigned char folded[1500] = { 0 };
	struct client *all, *seven, *third;
	struct hub *h;
	unsigned n;
	uint64_t dropped;
	size_t i;

	(void)state;
	assert_non_null(h = hub_new(2, 0));
	assert_int_equal(h->keepalive_ms, STREAM_KEEPALIVE_MS);
	/* Nobody connected: publishing costs nothing and keeps nothing. */
	hub_publish(h, ev, 10, NULL);
	all = client_new(0);
	seven = client_new(7);
	third = client_new(0);
	assert_int_equal(attach(h, all), 0);
	assert_int_equal(attach(h, seven), 0);
	assert_int_equal(attach(h, third), -EBUSY);
	for (i = 0; i < 1500; i++) {
		ev[i].pid = i % 2 ? 7 : 8;
		ev[i].family = AF_INET;
		ev[i].tid = (uint32_t)i;
	}
	folded[1] = folded[3] = 1; /* folded into earlier records: not sent */
	hub_publish(h, ev, 1500, folded);
	/* all: 1498 offered, the first 1024 kept, the rest dropped. */
	assert_true(all->head - all->tail == STREAM_QUEUE);
	assert_int_equal(all->dropped, 1498 - STREAM_QUEUE);
	assert_int_equal(all->q[0].tid, 0);
	assert_int_equal(all->q[1].tid, 2);
	/* seven: pid 7 only, 748 of them, all kept. */
	assert_int_equal(seven->head - seven->tail, 748);
	assert_int_equal(seven->dropped, 0);
	assert_int_equal(seven->q[0].tid, 5);
	hub_stats(h, &n, &dropped);
	assert_int_equal(n, 2);
	assert_int_equal(dropped, 1498 - STREAM_QUEUE);
	/* Once read, the queue takes events again. */
	all->tail = all->head;
	hub_publish(h, ev, 1, NULL);
	assert_int_equal(all->head - all->tail, 1);
	detach(h, seven);
	hub_stats(h, &n, &dropped);
	assert_int_equal(n, 1);
	assert_int_equal(attach(h, third), 0);
	/* Shutdown: handlers see it at their next look. */
	hub_shutdown(h);
	assert_true(atomic_load(&h->stopping));
	detach(h, all);
	detach(h, third);
	client_free(all);
	client_free(seven);
	client_free(third);
	hub_free(h);
	free(ev);
}

static void
test_filters(void **state)
{
	struct event ev[3];
	struct client *c;
	struct hub *h;

	(void)state;
	memset(ev, 0, sizeof(ev));
	strcpy(ev[0].comm, "dig");
	ev[0].family = AF_INET;
	ev[0].protocol = IPPROTO_UDP;
	ev[0].port = 53;
	ev[0].syscall = EV_SENDTO;
	strcpy(ev[1].comm, "dig");
	ev[1].family = AF_INET;
	ev[1].protocol = IPPROTO_TCP;
	ev[1].port = 53;
	strcpy(ev[2].comm, "curl");
	ev[2].family = AF_INET;
	ev[2].protocol = IPPROTO_UDP;
	ev[2].port = 53;
	assert_non_null(h = hub_new(1, 1000));
	c = client_new(0);
	strcpy(c->command, "dig");
	strcpy(c->rf.f.protocol, "UDP");
	c->rf.f.has_protocol = 1;
	api_store_filter(&c->rf, 0, &c->f);
	assert_int_equal(attach(h, c), 0);
	hub_publish(h, ev, 3, NULL);
	assert_int_equal(c->head - c->tail, 1);
	assert_string_equal(c->q[0].comm, "dig");
	assert_int_equal(c->q[0].protocol, IPPROTO_UDP);
	detach(h, c);
	client_free(c);
	hub_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_and_gap),
		cmocka_unit_test(test_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
