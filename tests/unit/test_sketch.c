/* Unit tests for util/sketch.c: Space-Saving against exact counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../util/sketch.c"

#define NKEYS 5000

/* Fewer keys than fit: every weight exact, nothing replaced. */
static void
test_exact(void **state)
{
	struct sketch k;
	uint32_t i, key;
	long e;

	(void)state;
	sketch_init(&k, 1000, sizeof(key), sizeof(uint64_t));
	for (i = 0; i < 100000; i++) {
		key = i % 999;
		assert_true(sketch_add(&k, &key, key + 1, NULL) >= 0);
	}
	assert_true(k.n == 999 && k.replaced == 0 && sketch_floor(&k) == 0);
	for (key = 0; key < 999; key++) {
		e = sketch_find(&k, &key);
		assert_true(e >= 0);
		assert_true(k.w[e] == (uint64_t)(key + 1) * (100000 / 999 +
		    (key < 100000 % 999)));
		assert_true(k.err[e] == 0);
	}
	key = 5000;
	assert_true(sketch_find(&k, &key) == -1);
	assert_true(sketch_bytes(&k) <= sketch_max_bytes(1000, 4, 8));
	sketch_clear(&k);
	assert_true(sketch_bytes(&k) == 0 && k.n == 0);
}

/*
 * A skewed stream of NKEYS keys into 64 places: every kept key's truth is
 * in [w - err, w], every other key weighs at most the floor, the payload
 * of a key follows it, and the heaviest keys are all kept.
 */
static void
test_bounds(void **state)
{
	static uint64_t truth[NKEYS];
	struct sketch k;
	uint32_t key, x = 12345, i;
	uint64_t *pay;
	int fresh;
	long e;

	(void)state;
	memset(truth, 0, sizeof(truth));
	sketch_init(&k, 64, sizeof(key), sizeof(uint64_t));
	for (i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		/* Keys 0..9 take half the stream. */
		key = (x >> 8) % 2 ? (x >> 12) % 10 : (x >> 12) % NKEYS;
		truth[key]++;
		e = sketch_add(&k, &key, 1, &fresh);
		assert_true(e >= 0);
		pay = sketch_payload(&k, (uint32_t)e);
		if (fresh)
			assert_true(*pay == 0);
		++*pay;
	}
	assert_true(k.n == 64 && k.replaced > 0);
	for (key = 0; key < NKEYS; key++) {
		e = sketch_find(&k, &key);
		if (e < 0) {
			assert_true(truth[key] <= sketch_floor(&k));
			continue;
		}
		assert_true(k.w[e] >= truth[key]);
		assert_true(k.w[e] - k.err[e] <= truth[key]);
		/* What was added since the key was kept. */
		pay = sketch_payload(&k, (uint32_t)e);
		assert_true(*pay <= truth[key] && *pay + k.err[e] >= k.w[e] - 0);
	}
	for (key = 0; key < 10; key++)
		assert_true(sketch_find(&k, &key) >= 0);
	assert_true(sketch_bytes(&k) == sketch_max_bytes(64, 4, 8));
	sketch_clear(&k);
}

/* Long keys, many replacements: the hash table stays consistent (every
 * kept key is found, at its own entry). */
static void
test_churn(void **state)
{
	struct sketch k;
	char key[40];
	uint32_t i;
	long e;

	(void)state;
	sketch_init(&k, 37, sizeof(key), 0);
	for (i = 0; i < 50000; i++) {
		memset(key, 0, sizeof(key));
		snprintf(key, sizeof(key), "destination-%u", i * 7919u % 3001u);
		assert_true(sketch_add(&k, key, 1 + i % 3, NULL) >= 0);
	}
	for (i = 0; i < k.n; i++) {
		memcpy(key, sketch_key(&k, i), sizeof(key));
		e = sketch_find(&k, key);
		assert_true(e == (long)i);
	}
	/* The heap's top is the lightest. */
	for (i = 0; i < k.n; i++)
		assert_true(k.w[k.heap[0]] <= k.w[i]);
	sketch_clear(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
