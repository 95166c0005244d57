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

#endif
