/*
 * A heavy-hitter summary: Space-Saving (Metwally, Agrawal, El Abbadi
 * 2005).  It keeps at most cap keys of klen bytes each, with a weight and
 * a payload of psize bytes per key.  While fewer than cap distinct keys
 * were added every weight is exact.  After that, a new key takes the
 * place of the lightest one and inherits its weight as its error: each
 * kept key's true weight is in [w - err, w], and a key not kept weighed
 * at most sketch_floor().  Memory grows with the keys held and stops at
 * cap (sketch_bytes()).  Not thread-safe.
 */
#ifndef SKETCH_H
#define SKETCH_H

#include <stddef.h>
#include <stdint.h>

struct sketch {
	uint32_t cap;        /* most keys kept */
	uint32_t klen;       /* bytes of a key */
	uint32_t psize;      /* bytes of payload per key */
	uint32_t n;          /* keys kept */
	uint32_t alloc;      /* entries allocated, <= cap */
	uint32_t hmask;      /* hash slots - 1 */
	uint64_t replaced;   /* keys that took the place of another */
	uint8_t *keys;       /* alloc * klen */
	uint8_t *pay;        /* alloc * psize, zeroed for a new key */
	uint64_t *w, *err;   /* per entry */
	uint32_t *heap;      /* entries, a min-heap on w */
	uint64_t *hw;        /* w of heap[h], beside it: no indirection while
	                      * sifting */
	uint32_t *pos;       /* entry -> its place in heap */
	uint32_t *slot;      /* hash slots: entry + 1, 0 free */
	uint32_t *hv;        /* each entry's key hash */
};

/* Set up an empty summary (nothing is allocated before the first add).
 * cap >= 1, klen >= 1. */
void sketch_init(struct sketch *k, uint32_t cap, uint32_t klen, uint32_t psize);

/* Give back the memory; the summary is empty again, with the same cap. */
void sketch_clear(struct sketch *k);

/*
 * Add w to key.  Returns its entry (>= 0), or -ENOMEM.  The entry's
 * payload is zeroed when the key is new to the summary (*fresh = 1),
 * otherwise kept (*fresh = 0).  fresh may be NULL.
 */
long sketch_add(struct sketch *k, const void *key, uint64_t w, int *fresh);

/* The entry of key, or -1. */
long sketch_find(const struct sketch *k, const void *key);

/* Add w to entry i (from sketch_add() or sketch_find()). */
void sketch_bump(struct sketch *k, uint32_t i, uint64_t w);

/* The entry a new key would replace, or -1 while there is room. */
long sketch_victim(const struct sketch *k);

/* Halve every weight and error, so that the summary favours what is
 * recent; the order of the weights, and so the heap, is kept (the
 * error bounds then describe the decayed weights). */
void sketch_decay(struct sketch *k);

/* The most a key that is not kept may weigh, which is also the most any
 * kept weight is over: the lightest kept weight once a key was replaced,
 * 0 before (every weight exact). */
static inline uint64_t
sketch_floor(const struct sketch *k)
{
	return k->replaced ? k->w[k->heap[0]] : 0;
}

static inline void *
sketch_payload(const struct sketch *k, uint32_t i)
{
	return k->pay + (size_t)i * k->psize;
}

static inline const void *
sketch_key(const struct sketch *k, uint32_t i)
{
	return k->keys + (size_t)i * k->klen;
}

/* Bytes held now, and the most it can hold at cap keys. */
size_t sketch_bytes(const struct sketch *k);
size_t sketch_max_bytes(uint32_t cap, uint32_t klen, uint32_t psize);

#endif
