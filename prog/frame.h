/*
 * The stack frame every event program shares (fp = r10), and the emitters
 * that read kernel memory into it:
 *
 *   fp - 200 .. fp - 1   struct kevent e   (EV)
 *   fp - 208             u64 scratch       (SCR) target of probe reads
 *   fp - 216             u64 key           (KEY) pid_tgid
 *   fp - 280 .. fp - 217 u8 span[64]       (SPAN) struct socket fields
 */
#ifndef PROG_FRAME_H
#define PROG_FRAME_H

#include <stddef.h>

#include "util/event.h"

struct prog_asm;

_Static_assert(sizeof(struct kevent) == 200, "kevent layout changed: fix EV");
_Static_assert(sizeof(struct kevent) % 8 == 0, "kevent must be 8-byte sized");

#define EV  (-(int)sizeof(struct kevent))
#define SCR (EV - 8)
#define KEY (EV - 16)
#define SPAN (KEY - SPAN_MAX)
#define SPAN_MAX 64
#define E(field) (EV + (int)offsetof(struct kevent, field))

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
void prog_read_kernel(struct prog_asm *a, int dst, int size, int src, int off);
/* dst = *(u64 *)(src + off) through the scratch slot; on failure goto
 * label fail.  Clobbers r0-r5 (dst may be one of them). */
void prog_deref(struct prog_asm *a, int dst, int src, int off, int fail);
/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure (goto
 * fail). */
void prog_copy_u16(struct prog_asm *a, int dst, int src, int off, int fail);

#endif
