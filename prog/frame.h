/*
 * The stack frame every event program shares (fp = r10), and the emitters
 * that read kernel memory into it:
 *
 *   fp - 200 .. fp - 1   struct kevent e   (EV)
 *   fp - 208             struct kbatch_hdr (HDR) ahead of e, sent with it
 *                        when e goes out on its own
 *   fp - 216             u64 scratch       (SCR) target of probe reads
 *   fp - 224             u64 key           (KEY) pid_tgid
 *   fp - 288 .. fp - 225 u8 span[64]       (SPAN) struct socket fields
 */
#ifndef PROG_FRAME_H
#define PROG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "prog/abi.h"

struct prog_asm;

_Static_assert(sizeof(struct kevent) == 200, "kevent layout changed: fix EV");

#define EV  (-(int)sizeof(struct kevent))
#define HDR (EV - (int)sizeof(struct kbatch_hdr))
#define SCR (HDR - 8)
#define KEY (SCR - 8)
#define SPAN (KEY - SPAN_MAX)
#define SPAN_MAX 64
#define E(field) (EV + (int)offsetof(struct kevent, field))

/* Labels the emitters below place; the programs' own labels stay below
 * 50. */
enum { L_FRAME_DIRECT = 50, L_FRAME_FILL, L_FRAME_FULL, L_FRAME_FULL_SENT,
    L_FRAME_FULL_RESET, L_FRAME_KEEP, L_FRAME_OUT, L_FRAME_ONE, L_FRAME_COPIED, L_FRAME_LONG,
    L_FRAME_SENT, L_FRAME_RESET, L_FRAME_TRIGGER,
    L_FLUSH_SEND, L_FLUSH_RELEASE, L_FLUSH_DONE,
    L_FLUSH_SENT, L_FLUSH_CLEAR };

/*
 * r0 = bpf_get_current_pid_tgid(); with trigger != 0 (the reader thread's
 * pid_tgid, see prog_emit_trigger()) a task whose pid_tgid is trigger
 * goes to label L_FRAME_TRIGGER instead: the program must then end with
 * prog_emit_trigger().  Clobbers r0-r5.
 */
void prog_emit_pid_tgid(struct prog_asm *a, uint64_t trigger);

/*
 * Where the task's ids are, for plain loads from the BTF-typed task
 * (bpf_get_current_task_btf()) rather than three helper calls, which cost
 * about 20 ns more: resolved by the loader from BTF; valid 0 when one is
 * missing or a pointer is not 8 bytes.
 */
struct prog_ids {
	int valid;
	int task_cred;          /* task_struct.cred */
	int cred_uid;           /* cred.uid (kuid_t: the initial namespace's) */
	int cred_gid;           /* cred.gid */
	int task_comm;          /* task_struct.comm (char[16]) */
	int task_cgroups;       /* task_struct.cgroups (struct css_set *) */
	int css_set_dfl_cgrp;   /* css_set.dfl_cgrp: the cgroup2 cgroup */
	int cgroup_kn;          /* cgroup.kn */
	int kernfs_node_id;     /* kernfs_node.id (u64): the cgroup id */
};

/*
 * The record's uid, gid, comm and cgroup_id, at base + off (base r9 for a
 * record in place, r10 for one on the stack): by plain loads from the
 * task in register task when ids->valid, else with the helpers (ids NULL
 * or not valid).  Clobbers r0-r5.
 */
void prog_emit_ids(struct prog_asm *a, const struct prog_ids *ids, int task,
    int base, int off);

/*
 * prog_emit_pid_tgid(), then zero e on the stack (and the HDR ahead of
 * it) and fill its pid, tid (and the KEY slot: pid_tgid), uid, gid,
 * comm, cgroup id (prog_emit_ids(); with ids valid, r7 = the BTF-typed
 * task after it), and size = sizeof(e).  Clobbers r0-r5, and r7 when ids
 * is valid.
 */
void prog_emit_task_ids(struct prog_asm *a, uint64_t trigger,
    const struct prog_ids *ids);

/*
 * Where a program writes its record in place: r9 = the next record of
 * this CPU's batch, owned (r7 = the batch), or when there is no batch
 * map or another program on this CPU holds the batch, r9 = fp + EV with
 * the HDR ahead of it zeroed (r7 = 0).  The program then stores every
 * field of the record through r9 (the batch holds older records' bytes)
 * and ends with prog_emit_commit().  The batch is taken with an atomic
 * exchange when xchg, else with a plain load and store (take_batch() in
 * frame.c says when that is safe).  Clobbers r0-r5; r6 must hold ctx.
 */
void prog_emit_slot(struct prog_asm *a, int events_fd, int batch_fd, int xchg);

/*
 * Hand over the record of size bytes that prog_emit_slot() gave r9 to
 * (or, with size_reg >= 0, of the size in that register, one of at most
 * sizeof(struct kevent)): count it into the batch and send the batch
 * when full, or send it on its own from the stack.  Falls through to
 * what follows; clobbers r0-r5.
 */
void prog_emit_commit(struct prog_asm *a, int events_fd, int batch_fd,
    int size_reg, int size);

/*
 * Hand over the event built at fp + EV (r6 must hold ctx): its first size
 * bytes (KEV_SIZE()) are copied to the slot of prog_emit_slot(), then
 * prog_emit_commit().  Sets e.size; clobbers r0-r5, r7, r9.  With size
 * sizeof(struct kevent), an event whose address fits in 32 bytes (inet)
 * goes out as KEV_SIZE(32) bytes: the rest is unused address room.
 * Clobbers r8 then too.
 */
void prog_emit_event(struct prog_asm *a, int events_fd, int batch_fd, int xchg,
    int size);

/*
 * The trigger path, placed at the end of a program whose
 * prog_emit_pid_tgid() had trigger != 0 (nothing when trigger is 0): the
 * reader thread's own connect, made on each CPU in turn, hands over what
 * waits in that CPU's batch (when batch_fd >= 0) and returns ret (the
 * hook's "allow" or 0) without an event.  r6 must hold ctx.  So no record
 * waits longer than the reader's flush interval, on an idle CPU too, and
 * the reader needs no bpf() to do it.
 */
void prog_emit_trigger(struct prog_asm *a, int events_fd, int batch_fd,
    int xchg, uint64_t trigger, int ret);

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
void prog_read_kernel(struct prog_asm *a, int dst, int size, int src, int off);
/* dst = *(u64 *)(src + off) through the scratch slot; on failure goto
 * label fail.  Clobbers r0-r5 (dst may be one of them). */
void prog_deref(struct prog_asm *a, int dst, int src, int off, int fail);
/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure (goto
 * fail). */
void prog_copy_u16(struct prog_asm *a, int dst, int src, int off, int fail);

#endif
