/*
 * Space-Saving.  Entries live in parallel arrays indexed 0..alloc-1; an
 * open-addressing table (linear probing, at most half full, each entry's
 * hash kept) finds a key's entry, and a 4-ary min-heap on the weights
 * finds the lightest one to replace in O(log cap).  See sketch.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/sketch.h"

#define MIN_ALLOC 4

static uint32_t
key_hash(const void *key, uint32_t klen)
{
	const uint8_t *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ klen, x;

	for (; klen >= 8; p += 8, klen -= 8) {
		memcpy(&x, p, 8);
		h = (h ^ x) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (klen) {
		x = 0;
		memcpy(&x, p, klen);
		h = (h ^ x) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

void
sketch_init(struct sketch *k, uint32_t cap, uint32_t klen, uint32_t psize)
{
	memset(k, 0, sizeof(*k));
	k->cap = cap ? cap : 1;
	k->klen = klen ? klen : 1;
	k->psize = psize;
}

void
sketch_clear(struct sketch *k)
{
	free(k->keys);
	free(k->pay);
	free(k->w);
	free(k->err);
	free(k->heap);
	free(k->hw);
	free(k->pos);
	free(k->slot);
	free(k->hv);
	sketch_init(k, k->cap, k->klen, k->psize);
}

static size_t
bytes_at(uint32_t alloc, uint32_t klen, uint32_t psize)
{
	size_t slots = 1;

	if (!alloc)
		return 0;
	while (slots < 2 * (size_t)alloc)
		slots *= 2;
	return (size_t)alloc * (klen + psize + 3 * sizeof(uint64_t) +
	    3 * sizeof(uint32_t)) + slots * sizeof(uint32_t);
}

size_t
sketch_bytes(const struct sketch *k)
{
	return bytes_at(k->alloc, k->klen, k->psize);
}

size_t
sketch_max_bytes(uint32_t cap, uint32_t klen, uint32_t psize)
{
	return bytes_at(cap, klen, psize);
}

/* Put entry i, whose hash is in hv[i], in the hash table (its key is not
 * there yet). */
static void
slot_put(struct sketch *k, uint32_t i)
{
	uint32_t h;

	for (h = k->hv[i] & k->hmask; k->slot[h]; h = (h + 1) & k->hmask)
		;
	k->slot[h] = i + 1;
}

/* Take entry i out of the hash table; backward-shift deletion keeps every
 * probe chain unbroken. */
static void
slot_del(struct sketch *k, uint32_t i)
{
	uint32_t h, j, home;

	for (h = k->hv[i] & k->hmask; k->slot[h] != i + 1; h = (h + 1) & k->hmask)
		;
	for (j = (h + 1) & k->hmask; k->slot[j]; j = (j + 1) & k->hmask) {
		home = k->hv[k->slot[j] - 1] & k->hmask;
		/* Move j into the hole at h unless its home lies in (h, j]. */
		if (((j - home) & k->hmask) >= ((j - h) & k->hmask)) {
			k->slot[h] = k->slot[j];
			h = j;
		}
	}
	k->slot[h] = 0;
}

/* k->f resized to n bytes (with p, grow()'s scratch pointer); a failed
 * realloc() leaves it as it was.  1 on success, else 0. */
#define RESIZE(f, n) ((p = realloc(k->f, (n))) != NULL ? (k->f = p, 1) : 0)

/* Make room for more entries, up to cap.  Returns 0 or -ENOMEM; a failed
 * step leaves the arrays it did not reach as they were and the others
 * larger, which is still consistent (alloc and the slots are unchanged). */
static int
grow(struct sketch *k)
{
	uint32_t na = k->alloc ? k->alloc * 2 : MIN_ALLOC, i;
	uint32_t slots = 1;
	uint32_t *slot;
	void *p;

	if (na > k->cap || na < k->alloc)
		na = k->cap;
	while (slots < 2 * na)
		slots *= 2;
	if (!RESIZE(keys, (size_t)na * k->klen) ||
	    !RESIZE(pay, (size_t)na * k->psize + 1) ||
	    !RESIZE(w, (size_t)na * sizeof(*k->w)) ||
	    !RESIZE(err, (size_t)na * sizeof(*k->err)) ||
	    !RESIZE(heap, (size_t)na * sizeof(*k->heap)) ||
	    !RESIZE(pos, (size_t)na * sizeof(*k->pos)) ||
	    !RESIZE(hv, (size_t)na * sizeof(*k->hv)) ||
	    !RESIZE(hw, (size_t)na * sizeof(*k->hw)) ||
	    (slot = calloc(slots, sizeof(*k->slot))) == NULL)
		return -ENOMEM;
	free(k->slot);
	k->slot = slot;
	k->hmask = slots - 1;
	k->alloc = na;
	for (i = 0; i < k->n; i++)
		slot_put(k, i);
	return 0;
}

static void
heap_swap(struct sketch *k, uint32_t a, uint32_t b)
{
	uint32_t t = k->heap[a];
	uint64_t tw = k->hw[a];

	k->heap[a] = k->heap[b];
	k->heap[b] = t;
	k->hw[a] = k->hw[b];
	k->hw[b] = tw;
	k->pos[k->heap[a]] = a;
	k->pos[k->heap[b]] = b;
}

/*
 * The heap is 4-ary: a replaced key sinks from the root on almost every
 * add once the summary is full of equal weights (a flood of distinct
 * keys), and half the levels of a binary heap halve that walk.
 */
#define ARITY 4

/* The weight at heap place h grew: move it down. */
static void
sift_down(struct sketch *k, uint32_t h)
{
	uint32_t c, m, end;

	for (;;) {
		m = h;
		c = ARITY * h + 1;
		end = c + ARITY < k->n ? c + ARITY : k->n;
		for (; c < end; c++)
			if (k->hw[c] < k->hw[m])
				m = c;
		if (m == h)
			return;
		heap_swap(k, h, m);
		h = m;
	}
}

static void
sift_up(struct sketch *k, uint32_t h)
{
	while (h && k->hw[h] < k->hw[(h - 1) / ARITY]) {
		heap_swap(k, h, (h - 1) / ARITY);
		h = (h - 1) / ARITY;
	}
}

/* The entry of key, whose hash is hash, or -1. */
static long
find_hashed(const struct sketch *k, const void *key, uint32_t hash)
{
	uint32_t h, e;

	if (!k->alloc)
		return -1;
	for (h = hash & k->hmask; k->slot[h]; h = (h + 1) & k->hmask) {
		e = k->slot[h] - 1;
		if (k->hv[e] == hash && !memcmp(sketch_key(k, e), key, k->klen))
			return (long)e;
	}
	return -1;
}

long
sketch_find(const struct sketch *k, const void *key)
{
	return find_hashed(k, key, key_hash(key, k->klen));
}

void
sketch_bump(struct sketch *k, uint32_t i, uint64_t w)
{
	k->w[i] = k->w[i] + w < k->w[i] ? UINT64_MAX : k->w[i] + w;
	k->hw[k->pos[i]] = k->w[i];
	sift_down(k, k->pos[i]);
}

long
sketch_victim(const struct sketch *k)
{
	return k->n == k->cap ? (long)k->heap[0] : -1;
}

void
sketch_decay(struct sketch *k)
{
	uint32_t i;

	/* x -> x / 2 never reorders: the heap stays a heap. */
	for (i = 0; i < k->n; i++) {
		k->w[i] /= 2;
		k->err[i] /= 2;
		k->hw[i] /= 2;
	}
}

long
sketch_add(struct sketch *k, const void *key, uint64_t w, int *fresh)
{
	uint32_t hash = key_hash(key, k->klen), i;
	long e = find_hashed(k, key, hash);
	uint64_t min;

	if (e >= 0) {
		sketch_bump(k, (uint32_t)e, w);
		if (fresh)
			*fresh = 0;
		return e;
	}
	if (fresh)
		*fresh = 1;
	if (k->n == k->alloc && k->alloc < k->cap && grow(k) < 0)
		return -ENOMEM;
	if (k->n < k->alloc) {
		i = k->n++;
		memcpy(k->keys + (size_t)i * k->klen, key, k->klen);
		memset(sketch_payload(k, i), 0, k->psize);
		k->w[i] = w;
		k->err[i] = 0;
		k->heap[i] = i;
		k->pos[i] = i;
		k->hw[i] = w;
		k->hv[i] = hash;
		slot_put(k, i);
		sift_up(k, i);
		return i;
	}
	/* Full: the lightest key makes room, and its weight is what the new
	 * one may have had before (its error). */
	i = k->heap[0];
	min = k->w[i];
	slot_del(k, i);
	memcpy(k->keys + (size_t)i * k->klen, key, k->klen);
	memset(sketch_payload(k, i), 0, k->psize);
	k->w[i] = min + w < min ? UINT64_MAX : min + w;
	k->hw[0] = k->w[i];
	k->err[i] = min;
	k->hv[i] = hash;
	slot_put(k, i);
	sift_down(k, 0);
	k->replaced++;
	return i;
}
