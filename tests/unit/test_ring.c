/*
 * Unit tests for the perf ring reader (loader/ring.c) on a fake, malloc'd
 * perf_event_mmap_page and data area: records are written the way the
 * kernel writes them (8-byte aligned, straddling the end of the ring), then
 * data_head is published.  No kernel involved.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../loader/ring.c"

#define RING_SIZE 256
#define MAXREC 16

struct seen {
	int nsample;
	uint32_t len[MAXREC];
	uint8_t data[MAXREC][1024];
	int nlost;
	uint64_t lost;
};

struct fake {
	struct ld_ring r;
	uint64_t head;          /* where the producer writes next */
	struct seen seen;
};

static void
on_sample(void *ctx, const void *data, uint32_t len)
{
	struct seen *s = ctx;

	assert_true(s->nsample < MAXREC);
	assert_true(len <= sizeof(s->data[0]));
	s->len[s->nsample] = len;
	memcpy(s->data[s->nsample], data, len);
	s->nsample++;
}

static void
on_lost(void *ctx, uint64_t lost)
{
	struct seen *s = ctx;

	s->nlost++;
	s->lost += lost;
}

static struct fake *
fake_new(uint64_t size, uint64_t start, size_t scratch_len)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->r.fd = -1;
	f->r.meta = calloc(1, sizeof(*f->r.meta));
	f->r.data = malloc(size);
	f->r.scratch = malloc(scratch_len);
	assert_non_null(f->r.meta);
	assert_non_null(f->r.data);
	assert_non_null(f->r.scratch);
	/* Poison the ring so stale bytes are never mistaken for records. */
	memset(f->r.data, 0xa5, size);
	f->r.size = size;
	f->r.scratch_len = scratch_len;
	/* data_head and data_tail are free-running counters. */
	f->r.meta->data_head = start;
	f->r.meta->data_tail = start;
	f->head = start;
	return f;
}

static void
fake_free(struct fake *f)
{
	free(f->r.scratch);
	free(f->r.data);
	free(f->r.meta);
	free(f);
}

static int
setup(void **state)
{
	*state = fake_new(RING_SIZE, 0, 64);
	return 0;
}

static int
teardown(void **state)
{
	fake_free(*state);
	return 0;
}

/* Copy bytes into the ring at the producer position, wrapping. */
static void
put(struct fake *f, const void *src, size_t len)
{
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i < len; i++)
		f->r.data[(f->head + i) & (f->r.size - 1)] = p[i];
	f->head += len;
}

static void
put_header(struct fake *f, uint32_t type, uint16_t size)
{
	struct perf_event_header h = { .type = type, .misc = 0, .size = size };

	put(f, &h, sizeof(h));
}

/* A PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: header, u32 size, data,
 * padded to 8 bytes as the kernel does. */
static void
put_sample(struct fake *f, const void *data, uint32_t len)
{
	static const uint8_t pad[8];
	size_t sz = (sizeof(struct perf_event_header) + 4 + len + 7) & ~(size_t)7;

	put_header(f, PERF_RECORD_SAMPLE, (uint16_t)sz);
	put(f, &len, 4);
	put(f, data, len);
	put(f, pad, sz - sizeof(struct perf_event_header) - 4 - len);
}

static void
put_lost(struct fake *f, uint64_t id, uint64_t lost)
{
	put_header(f, PERF_RECORD_LOST, 24);
	put(f, &id, 8);
	put(f, &lost, 8);
}

static void
publish(struct fake *f)
{
	__atomic_store_n(&f->r.meta->data_head, f->head, __ATOMIC_RELEASE);
}

static long
drain(struct fake *f)
{
	return ld_ring_drain(&f->r, on_sample, on_lost, &f->seen);
}

static void
fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
test_empty(void **state)
{
	struct fake *f = *state;

	assert_int_equal(drain(f), 0);
	assert_int_equal(f->seen.nsample, 0);
	assert_int_equal(f->r.meta->data_tail, 0);
}

static void
test_single_sample(void **state)
{
	struct fake *f = *state;
	uint8_t ev[20];

	fill(ev, sizeof(ev), 1);
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(ld_ring_pending(&f->r), 32);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nsample, 1);
	assert_int_equal(f->seen.len[0], sizeof(ev));
	assert_memory_equal(f->seen.data[0], ev, sizeof(ev));
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
	assert_int_equal(f->r.meta->data_tail, 32);
	assert_int_equal(ld_ring_pending(&f->r), 0);
	/* Nothing new: nothing read again. */
	assert_int_equal(drain(f), 0);
	assert_int_equal(f->seen.nsample, 1);
}

static void
test_several_samples(void **state)
{
	struct fake *f = *state;
	uint8_t ev[3][30];
	uint32_t len[3] = { 4, 30, 12 };
	int i;

	for (i = 0; i < 3; i++) {
		fill(ev[i], len[i], (uint8_t)(i * 50));
		put_sample(f, ev[i], len[i]);
	}
	publish(f);
	assert_int_equal(drain(f), 3);
	assert_int_equal(f->seen.nsample, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(f->seen.len[i], len[i]);
		assert_memory_equal(f->seen.data[i], ev[i], len[i]);
	}
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_published_only(void **state)
{
	struct fake *f = *state;
	uint8_t ev[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	put_sample(f, ev, sizeof(ev));
	publish(f);
	/* Written but not yet published: must not be read. */
	put_sample(f, ev, sizeof(ev));
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->r.meta->data_tail, 24);
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nsample, 2);
	assert_int_equal(f->r.meta->data_tail, 48);
}

/* A record that starts near the end of the ring and continues at its
 * beginning arrives intact.  Counters start many laps in. */
static void
wrapped(uint64_t start, uint32_t len)
{
	struct fake *f = fake_new(RING_SIZE, start, 256);
	uint8_t ev[100], after[16];

	assert_true(len <= sizeof(ev));
	fill(ev, len, 9);
	fill(after, sizeof(after), 77);
	put_sample(f, ev, len);
	put_sample(f, after, sizeof(after));
	/* The first record does straddle the end. */
	assert_true((start & (RING_SIZE - 1)) + 16 + len > RING_SIZE);
	publish(f);
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->seen.nsample, 2);
	assert_int_equal(f->seen.len[0], len);
	assert_memory_equal(f->seen.data[0], ev, len);
	assert_int_equal(f->seen.len[1], sizeof(after));
	assert_memory_equal(f->seen.data[1], after, sizeof(after));
	assert_int_equal(f->r.meta->data_tail, f->head);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
	fake_free(f);
}

static void
test_wrapped_sample(void **state)
{
	(void)state;
	/* The body wraps, the header does not. */
	wrapped(5 * RING_SIZE + RING_SIZE - 16, 40);
	/* Only the header fits before the end. */
	wrapped(3 * RING_SIZE + RING_SIZE - 8, 40);
	/* The u32 size fits, the data wraps. */
	wrapped(RING_SIZE - 16, 20);
}

static void
test_wrapped_grows_scratch(void **state)
{
	struct fake *f;
	uint8_t ev[100];

	(void)state;
	f = fake_new(RING_SIZE, RING_SIZE - 24, 16);
	fill(ev, sizeof(ev), 3);
	put_sample(f, ev, sizeof(ev)); /* 112 bytes */
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nsample, 1);
	assert_int_equal(f->seen.len[0], sizeof(ev));
	assert_memory_equal(f->seen.data[0], ev, sizeof(ev));
	assert_true(f->r.scratch_len >= 112);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
	fake_free(f);
}

static void
test_big_unwrapped_sample(void **state)
{
	struct fake *f;
	uint8_t ev[150];

	(void)state;
	/* Bigger than scratch but contiguous: delivered from the ring. */
	f = fake_new(RING_SIZE, 0, 16);
	fill(ev, sizeof(ev), 11);
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.len[0], sizeof(ev));
	assert_memory_equal(f->seen.data[0], ev, sizeof(ev));
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
	fake_free(f);
}

static void
test_lost(void **state)
{
	struct fake *f = *state;
	uint8_t ev[8] = { 0 };

	put_sample(f, ev, sizeof(ev));
	put_lost(f, 42, 1234);
	put_sample(f, ev, sizeof(ev));
	put_lost(f, 42, 6);
	publish(f);
	assert_int_equal(drain(f), 4);
	assert_int_equal(f->seen.nsample, 2);
	assert_int_equal(f->seen.nlost, 2);
	assert_int_equal(f->seen.lost, 1240);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_lost_wrapped(void **state)
{
	struct fake *f;

	(void)state;
	f = fake_new(RING_SIZE, 2 * RING_SIZE - 16, 64);
	put_lost(f, 1, 0x123456789aULL);
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nlost, 1);
	assert_int_equal(f->seen.lost, 0x123456789aULL);
	fake_free(f);
}

static void
test_no_callbacks(void **state)
{
	struct fake *f = *state;
	uint8_t ev[8] = { 0 };

	put_sample(f, ev, sizeof(ev));
	put_lost(f, 1, 2);
	publish(f);
	assert_int_equal(ld_ring_drain(&f->r, NULL, NULL, NULL), 2);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_unknown_type_skipped(void **state)
{
	struct fake *f = *state;
	uint8_t ev[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, junk[24];

	memset(junk, 0xee, sizeof(junk));
	put_sample(f, ev, sizeof(ev));
	put_header(f, PERF_RECORD_MMAP, 32);
	put(f, junk, 24);
	put_header(f, 0x7777, 8);
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(drain(f), 4);
	assert_int_equal(f->seen.nsample, 2);
	assert_int_equal(f->seen.nlost, 0);
	assert_memory_equal(f->seen.data[1], ev, sizeof(ev));
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_corrupt_size_zero(void **state)
{
	struct fake *f = *state;
	uint8_t ev[8] = { 0 }, junk[32];

	memset(junk, 0, sizeof(junk));
	put_sample(f, ev, sizeof(ev));
	put_header(f, PERF_RECORD_SAMPLE, 0);
	put(f, junk, sizeof(junk));
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(drain(f), -EINVAL);
	/* What came before the corruption was delivered; the rest skipped. */
	assert_int_equal(f->seen.nsample, 1);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
	/* The reader recovers with the next records. */
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nsample, 2);
}

static void
test_corrupt_size_too_big(void **state)
{
	struct fake *f = *state;

	/* Claims 64 bytes, only 16 published. */
	put_header(f, PERF_RECORD_SAMPLE, 64);
	put(f, "\x08\0\0\0abcd", 8);
	publish(f);
	assert_int_equal(drain(f), -EINVAL);
	assert_int_equal(f->seen.nsample, 0);
	assert_int_equal(f->r.meta->data_tail, 16);
}

static void
test_corrupt_size_unaligned(void **state)
{
	struct fake *f = *state;

	put_header(f, PERF_RECORD_SAMPLE, 12);
	put(f, "\0\0\0\0\0\0\0\0", 8);
	publish(f);
	assert_int_equal(drain(f), -EINVAL);
	assert_int_equal(f->seen.nsample, 0);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_corrupt_lost_short(void **state)
{
	struct fake *f = *state;

	/* A LOST record too short for its count is not reported. */
	put_header(f, PERF_RECORD_LOST, 16);
	put(f, "\0\0\0\0\0\0\0\0", 8);
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nlost, 0);
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_sample_inner_size_too_big(void **state)
{
	struct fake *f = *state;
	uint32_t inner = 100;
	uint8_t ev[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };

	/* A 24-byte record whose raw size claims 100 bytes. */
	put_header(f, PERF_RECORD_SAMPLE, 24);
	put(f, &inner, 4);
	put(f, "abcdefghijkl", 12);
	put_sample(f, ev, sizeof(ev));
	publish(f);
	assert_int_equal(drain(f), 2);
	assert_int_equal(f->seen.nsample, 1);
	assert_int_equal(f->seen.len[0], sizeof(ev));
	assert_memory_equal(f->seen.data[0], ev, sizeof(ev));
	assert_int_equal(f->r.meta->data_tail, f->r.meta->data_head);
}

static void
test_sample_too_short_for_size(void **state)
{
	struct fake *f = *state;

	/* A sample record of only a header has no room for its u32 size. */
	put_header(f, PERF_RECORD_SAMPLE, 8);
	publish(f);
	assert_int_equal(drain(f), 1);
	assert_int_equal(f->seen.nsample, 0);
}

static void
test_parse_cpus(void **state)
{
	int c[16], n;

	(void)state;
	assert_int_equal(ld_parse_cpus("0", c, 16), 1);
	assert_int_equal(c[0], 0);

	assert_int_equal(ld_parse_cpus("0-3", c, 16), 4);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 1);
	assert_int_equal(c[2], 2);
	assert_int_equal(c[3], 3);

	n = ld_parse_cpus("0-1,4,6-7\n", c, 16);
	assert_int_equal(n, 5);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[1], 1);
	assert_int_equal(c[2], 4);
	assert_int_equal(c[3], 6);
	assert_int_equal(c[4], 7);

	assert_int_equal(ld_parse_cpus("12\n", c, 16), 1);
	assert_int_equal(c[0], 12);
	assert_int_equal(ld_parse_cpus("", c, 16), 0);
	assert_int_equal(ld_parse_cpus("\n", c, 16), 0);
}

static void
test_parse_cpus_bad(void **state)
{
	int c[16];

	(void)state;
	assert_int_equal(ld_parse_cpus("abc", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("0-x", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("1-", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("0;1", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("0,,1", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("-1", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("3-1", c, 16), -EINVAL);
	assert_int_equal(ld_parse_cpus("0-3", c, 3), -E2BIG);
	assert_int_equal(ld_parse_cpus("0-1,2", c, 2), -E2BIG);
	/* A huge range stops at n, not after billions of iterations. */
	assert_int_equal(ld_parse_cpus("0-2000000000", c, 16), -E2BIG);
	assert_int_equal(ld_parse_cpus("0", c, 0), -E2BIG);
}

static void
test_possible_cpus(void **state)
{
	int c[1024], n, i;

	(void)state;
	n = ld_possible_cpus(c, 1024);
	if (n == -ENOENT)
		skip();
	assert_true(n >= 1);
	assert_int_equal(c[0], 0);
	for (i = 1; i < n; i++)
		assert_true(c[i] > c[i - 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_sample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_published_only, setup, teardown),
		cmocka_unit_test(test_wrapped_sample),
		cmocka_unit_test(test_wrapped_grows_scratch),
		cmocka_unit_test(test_big_unwrapped_sample),
		cmocka_unit_test_setup_teardown(test_lost, setup, teardown),
		cmocka_unit_test(test_lost_wrapped),
		cmocka_unit_test_setup_teardown(test_no_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_size_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_size_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_size_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_lost_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_inner_size_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_too_short_for_size, setup, teardown),
		cmocka_unit_test(test_parse_cpus),
		cmocka_unit_test(test_parse_cpus_bad),
		cmocka_unit_test(test_possible_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
