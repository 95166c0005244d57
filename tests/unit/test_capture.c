/*
 * Unit tests for loader/capture.c's record handling: a perf sample is one
 * event or a per-CPU batch behind its header, and events lost are the
 * kernel's count corrected by what the headers say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../loader/capture.c"

static int nsample;
static uint32_t last_pid;
static uint64_t lost;

static void
on_sample(void *ctx, const void *data, uint32_t len)
{
	struct kevent k;

	(void)ctx;
	assert_true(len >= sizeof(k) && len < sizeof(k) + 8);
	memcpy(&k, data, sizeof(k));
	last_pid = k.pid;
	nsample++;
}

static void
on_lost(void *ctx, uint64_t n)
{
	(void)ctx;
	lost += n;
}

static struct capture *
fake(void)
{
	struct capture *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->sample = on_sample;
	c->lost = on_lost;
	nsample = 0;
	lost = 0;
	return c;
}

/* A sample as the kernel pads it: the raw size plus 4 (u32 size + data
 * rounded up to 8 bytes). */
static void
test_split(void **state)
{
	uint8_t buf[sizeof(struct kbatch_hdr) + 3 * sizeof(struct kevent) + 8];
	struct kbatch_hdr h = { 0, 0 };
	struct kevent k;
	struct capture *c = fake();
	int i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memset(&k, 0, sizeof(k));
	/* One event of its own. */
	k.pid = 7;
	memcpy(buf, &k, sizeof(k));
	split(c, buf, sizeof(k) + 4);
	assert_int_equal(nsample, 1);
	assert_int_equal(last_pid, 7);
	/* A batch of three behind its header. */
	memcpy(buf, &h, sizeof(h));
	for (i = 0; i < 3; i++) {
		k.pid = 10 + (uint32_t)i;
		memcpy(buf + sizeof(h) + i * sizeof(k), &k, sizeof(k));
	}
	split(c, buf, sizeof(h) + 3 * sizeof(k) + 4);
	assert_int_equal(nsample, 4);
	assert_int_equal(last_pid, 12);
	assert_int_equal(c->st.records, 4);
	assert_int_equal(lost, 0);
	free(c);
}

/*
 * Two batches of 16 refused: the kernel says 2 records lost, the next
 * header says 32 events in 2 samples.  Either order: 32 lost in all, and
 * never more than the truth on the way.
 */
static void
test_lost_corrected(void **state)
{
	uint8_t buf[sizeof(struct kbatch_hdr) + 8];
	struct kbatch_hdr h = { 32, 2 };
	struct capture *c = fake();

	(void)state;
	memcpy(buf, &h, sizeof(h));
	count_lost(c, 2);
	assert_int_equal(lost, 2);
	split(c, buf, sizeof(h) + 4);       /* a header alone */
	assert_int_equal(lost, 32);
	assert_int_equal(nsample, 0);
	free(c);

	c = fake();
	split(c, buf, sizeof(h) + 4);
	assert_int_equal(lost, 30);
	count_lost(c, 2);
	assert_int_equal(lost, 32);
	/* A refused header alone (nothing in it) is no event: the kernel's
	 * count of it is taken back. */
	h.dropped_events = 0;
	h.dropped_samples = 1;
	memcpy(buf, &h, sizeof(h));
	count_lost(c, 1);
	split(c, buf, sizeof(h) + 4);
	assert_int_equal(lost, 33);         /* said once, never taken back */
	count_lost(c, 1);
	assert_int_equal(lost, 33);         /* ... but the next real one waits */
	count_lost(c, 1);
	assert_int_equal(lost, 34);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_lost_corrected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
