/*
 * Unit tests for loader/capture.c's record handling: a perf sample is a
 * header and records of their own sizes (one event sent alone, or a
 * per-CPU batch), and events lost are the kernel's count corrected by
 * what the headers say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../loader/capture.c"

static int nsample, nbad;
static uint32_t last_pid, last_len;
static uint64_t lost;

static void
on_sample(void *ctx, const void *data, uint32_t len)
{
	struct kevent k;

	(void)ctx;
	if (len == 0) {                 /* what does not parse */
		nbad++;
		return;
	}
	assert_true(len >= (uint32_t)KEV_HEAD && len <= sizeof(k));
	memcpy(&k, data, len);
	assert_int_equal(k.size, len);
	last_pid = k.pid;
	last_len = len;
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

/* Put a record of size bytes with pid at buf + off; returns off + size. */
static size_t
put(uint8_t *buf, size_t off, uint32_t pid, uint16_t size)
{
	struct kevent k;

	memset(&k, 0, sizeof(k));
	k.pid = pid;
	k.size = size;
	memcpy(buf + off, &k, size);
	return off + size;
}

/* A sample as the kernel pads it: the raw size plus 4 (u32 size + data
 * rounded up to 8 bytes). */
static void
test_split(void **state)
{
	uint8_t buf[sizeof(struct kbatch_hdr) + 3 * sizeof(struct kevent) + 8];
	struct kbatch_hdr h = { 0, 0 };
	struct capture *c = fake();
	size_t off;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	/* One event of its own, behind its header. */
	off = put(buf, sizeof(h), 7, sizeof(struct kevent));
	split(c, buf, (uint32_t)off + 4);
	assert_int_equal(nsample, 1);
	assert_int_equal(last_pid, 7);
	assert_int_equal(last_len, sizeof(struct kevent));
	/* A batch of three of different sizes: inet4, outcome, unix. */
	off = put(buf, sizeof(h), 10, KEV_SIZE(16));
	off = put(buf, off, 11, KEV_HEAD);
	off = put(buf, off, 12, sizeof(struct kevent));
	split(c, buf, (uint32_t)off + 4);
	assert_int_equal(nsample, 4);
	assert_int_equal(last_pid, 12);
	assert_int_equal(c->st.records, 4);
	assert_int_equal(nbad, 0);
	assert_int_equal(lost, 0);
	free(c);
}

/* A record whose size is impossible (too small, not a multiple of 8,
 * past the sample's end) ends the sample: the good ones before it are
 * delivered, the rest once, as a bad record. */
static void
test_split_bad(void **state)
{
	static const uint16_t bad[] = { 0, KEV_HEAD - 8, KEV_HEAD + 4,
	    sizeof(struct kevent) + 8, KEV_SIZE(16) + 16 };
	uint8_t buf[sizeof(struct kbatch_hdr) + 3 * sizeof(struct kevent) + 8];
	struct kbatch_hdr h = { 0, 0 };
	size_t i, off;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct capture *c = fake();
		struct kevent k;

		nbad = 0;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &h, sizeof(h));
		off = put(buf, sizeof(h), 20, KEV_SIZE(16));
		memset(&k, 0, sizeof(k));
		k.size = bad[i];
		memcpy(buf + off, &k, KEV_SIZE(16));
		/* The sample ends after a second inet4 record's room. */
		split(c, buf, (uint32_t)(off + KEV_SIZE(16)) + 4);
		assert_int_equal(nsample, 1);
		assert_int_equal(last_pid, 20);
		assert_int_equal(nbad, 1);
		assert_int_equal(c->st.records, 2);
		free(c);
	}
}

/*
 * Two batches of 16 events each refused: the kernel says 2 records
 * lost, the next header says 32 events in 2 samples.  Either order: 32 lost in all, and
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
		cmocka_unit_test(test_split_bad),
		cmocka_unit_test(test_lost_corrected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
