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
#include <stdint.h>

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

/*
 * A CPU's batch of events, the value of a one-entry BPF_MAP_TYPE_PERCPU_ARRAY:
 * programs gather records here and hand KBATCH_N of them at once to
 * bpf_perf_event_output(), whose cost per call is about that of the rest
 * of the program.  See prog_emit_event() for how two programs on one CPU
 * (preemption, interrupts) stay out of each other's way.
 */
#define KBATCH_N 16
struct kbatch {
	uint32_t busy;          /* 1 while a program owns the batch */
	uint32_t n;             /* records in rec */
	/* Runs of the flush on this CPU (prog_emit_trigger()), which the
	 * loader reads back once at start-up to see that its trigger works. */
	uint32_t flushes;
	uint32_t spare;
	struct kbatch_hdr {     /* sent ahead of the records */
		/* Batches the perf ring refused since the last one that got
		 * through: the kernel counts each as one lost record, but it
		 * held this many events. */
		uint32_t dropped_events;
		uint32_t dropped_samples;
	} hdr;
	struct kevent rec[KBATCH_N];
};
/* The header and the records go out in one piece: no padding between. */
_Static_assert(offsetof(struct kbatch, rec) ==
    offsetof(struct kbatch, hdr) + sizeof(struct kbatch_hdr),
    "kbatch: hdr must be right before rec");

/* Labels prog_emit_event() and prog_emit_trigger() use; the programs'
 * own labels stay below. */
enum { L_FRAME_DIRECT = 50, L_FRAME_RELEASE, L_FRAME_KEEP, L_FRAME_OUT,
    L_FRAME_N_OK, L_FRAME_SENT, L_FRAME_RESET, L_FRAME_TRIGGER,
    L_FLUSH_SEND, L_FLUSH_RELEASE, L_FLUSH_DONE,
    L_FLUSH_SENT, L_FLUSH_CLEAR };

/*
 * Zero e, then its pid, tid (and the KEY slot: pid_tgid), uid, gid,
 * comm and cgroup id.  Clobbers r0-r5.  With trigger != 0 (the reader
 * thread's pid_tgid, see prog_emit_trigger()) a task whose pid_tgid is
 * trigger goes to label L_FRAME_TRIGGER instead, right after
 * bpf_get_current_pid_tgid(): the program must then end with
 * prog_emit_trigger().
 */
void prog_emit_task_ids(struct prog_asm *a, uint64_t trigger);

/*
 * Emit the tail that hands the event at fp + EV over (r6 must hold ctx):
 * straight to the perf event array when batch_fd < 0, else through the
 * CPU's batch.  Falls through to what follows; clobbers r0-r5, r7, r8.
 */
void prog_emit_event(struct prog_asm *a, int events_fd, int batch_fd);

/*
 * The trigger path, placed at the end of a program whose
 * prog_emit_task_ids() had trigger != 0 (nothing when trigger is 0): the
 * reader thread's own connect, made on each CPU in turn, hands over what
 * waits in that CPU's batch (when batch_fd >= 0) and returns ret (the
 * hook's "allow" or 0) without an event.  r6 must hold ctx.  So no record
 * waits longer than the reader's flush interval, on an idle CPU too, and
 * the reader needs no bpf() to do it.
 */
void prog_emit_trigger(struct prog_asm *a, int events_fd, int batch_fd,
    uint64_t trigger, int ret);

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
void prog_read_kernel(struct prog_asm *a, int dst, int size, int src, int off);
/* dst = *(u64 *)(src + off) through the scratch slot; on failure goto
 * label fail.  Clobbers r0-r5 (dst may be one of them). */
void prog_deref(struct prog_asm *a, int dst, int src, int off, int fail);
/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure (goto
 * fail). */
void prog_copy_u16(struct prog_asm *a, int dst, int src, int off, int fail);

#endif
