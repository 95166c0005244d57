/* Records to events (decode.c). */
#ifndef LD_DECODE_H
#define LD_DECODE_H

#include <stddef.h>
#include <stdint.h>

struct event;

/*
 * Decode a raw record of len bytes (KEV_HEAD to sizeof(struct kevent); an
 * address past len is cut).  mono_to_real is added to the kernel's
 * monotonic timestamp to get wall-clock time.  Returns 0, or -EINVAL when
 * the record is too short.
 */
int ld_decode(const void *raw, size_t len, int64_t mono_to_real, struct event *ev);

/* What pairs a TCP connect with the later record of its outcome, read
 * from either kind of record. */
struct ld_link {
	uint64_t sk;      /* the socket, 0: none (no outcome will follow) */
	uint64_t ts;      /* the kernel's monotonic time of the record */
	int outcome;      /* 1: an outcome record (KEV_OUTCOME), not an event */
	uint32_t state;   /* outcome: the TCP state the socket moved to */
	int32_t err;      /* outcome: the socket's error (sk_err), 0: none */
};

/* The link fields of a raw record of len bytes.  Returns 0, or -EINVAL
 * when the record is too short (ld_decode() refuses it too). */
int ld_link(const void *raw, size_t len, struct ld_link *l);

#endif
