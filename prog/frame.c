/* Emitters shared by the programs that use the frame of prog/frame.h. */
#include <linux/bpf.h>

#include "prog/asm.h"
#include "prog/frame.h"
#include "prog/insn.h"

/* r0 = bpf_probe_read_kernel(fp + dst, size, src + off); clobbers r1-r5. */
void
prog_read_kernel(struct prog_asm *a, int dst, int size, int src, int off)
{
	asm_emit(a, BPF_MOV64_REG(BPF_REG_3, src));             /* r3 = src */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_3, off));    /* r3 += off */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, dst));    /* r1 += dst */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, size));            /* r2 = size */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* r0 = read() */
}

/* scratch = *(u64 *)(src + off); on failure goto fail.  Leaves the value
 * in dst. */
void
prog_deref(struct prog_asm *a, int dst, int src, int off, int fail)
{
	prog_read_kernel(a, SCR, 8, src, off);                  /* r0 = read(&scr, 8, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_DW, dst, BPF_REG_10, SCR)); /* dst = scr */
}

/* *(u16 *)(fp + dst) = *(u16 *)(src + off), untouched on failure. */
void
prog_copy_u16(struct prog_asm *a, int dst, int src, int off, int fail)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, SCR, 0));    /* scr = 0 */
	prog_read_kernel(a, SCR, 2, src, off);                       /* r0 = read(&scr, 2, src + off) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_0, 0, fail);            /* if (r0) goto fail */
	asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, SCR)); /* r1 = (u16)scr */
	asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_1, dst)); /* *(u16 *)(fp + dst) = r1 */
}

/*
 *	u64 key = bpf_get_current_pid_tgid();
 *	if (TRIGGER && key == TRIGGER)      // the reader's flush connect
 *		goto trigger;                   // prog_emit_trigger()
 */
void
prog_emit_pid_tgid(struct prog_asm *a, uint64_t trigger)
{
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* r0 = pid_tgid */
	if (trigger) {
		asm_ld_imm64(a, BPF_REG_1, trigger);                /* r1 = TRIGGER */
		asm_jmp_reg(a, BPF_JEQ, BPF_REG_0, BPF_REG_1, L_FRAME_TRIGGER); /* if (r0 == r1) goto trigger */
	}
}

/*
 *	if (IDS) {                      // plain loads from the task
 *		rec->uid = task->cred->uid; rec->gid = task->cred->gid;
 *		rec->comm = task->comm;     // 16 bytes, NUL-padded
 *		rec->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
 *	} else {
 *		u64 ug = bpf_get_current_uid_gid();
 *		rec->uid = ug; rec->gid = ug >> 32;
 *		bpf_get_current_comm(rec->comm, 16);
 *		rec->cgroup_id = bpf_get_current_cgroup_id();
 *	}
 *
 * The helpers read the same fields (from_kuid() in the initial namespace
 * is the kernel's own id); the verifier guards each load.
 */
void
prog_emit_ids(struct prog_asm *a, const struct prog_ids *ids, int task,
    int base, int off)
{
#define AT(field) (off + (int)offsetof(struct kevent, field))
	if (ids && ids->valid) {
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, task, ids->task_cred)); /* r1 = task->cred */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, ids->cred_uid)); /* r2 = cred->uid */
		asm_emit(a, BPF_STX_MEM(BPF_W, base, BPF_REG_2, AT(uid))); /* rec->uid = r2 */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, ids->cred_gid)); /* r2 = cred->gid */
		asm_emit(a, BPF_STX_MEM(BPF_W, base, BPF_REG_2, AT(gid))); /* rec->gid = r2 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_2, task, ids->task_comm)); /* r2 = task->comm[0..7] */
		asm_emit(a, BPF_STX_MEM(BPF_DW, base, BPF_REG_2, AT(comm))); /* rec->comm[0..7] = r2 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_2, task, ids->task_comm + 8)); /* r2 = task->comm[8..15] */
		asm_emit(a, BPF_STX_MEM(BPF_DW, base, BPF_REG_2, AT(comm) + 8)); /* rec->comm[8..15] = r2 */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, task, ids->task_cgroups)); /* r1 = task->cgroups */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, ids->css_set_dfl_cgrp)); /* r1 = r1->dfl_cgrp */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, ids->cgroup_kn)); /* r1 = r1->kn */
		asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_1, ids->kernfs_node_id)); /* r1 = r1->id */
		asm_emit(a, BPF_STX_MEM(BPF_DW, base, BPF_REG_1, AT(cgroup_id))); /* rec->cgroup_id = r1 */
		return;
	}
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_uid_gid)); /* r0 = uid_gid */
	asm_emit(a, BPF_STX_MEM(BPF_W, base, BPF_REG_0, AT(uid))); /* rec->uid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, base, BPF_REG_0, AT(gid))); /* rec->gid = r0 */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, base));            /* r1 = base */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, AT(comm))); /* r1 = rec->comm */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_COMM_LEN));     /* r2 = 16 */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_comm));  /* get_current_comm(r1, r2) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_cgroup_id)); /* r0 = cgroup id */
	asm_emit(a, BPF_STX_MEM(BPF_DW, base, BPF_REG_0, AT(cgroup_id))); /* rec->cgroup_id = r0 */
#undef AT
}

/*
 * What the programs that build their event on the stack fill first:
 *
 *	u64 key = pid_tgid;                 // prog_emit_pid_tgid()
 *	struct { struct kbatch_hdr h; struct kevent e; } = {0};
 *	e.tid = key; e.pid = key >> 32;
 *	if (IDS)
 *		task = bpf_get_current_task_btf();      // r7
 *	prog_emit_ids(&e);              // uid, gid, comm, cgroup id
 *	e.size = sizeof(e);
 */
void
prog_emit_task_ids(struct prog_asm *a, uint64_t trigger,
    const struct prog_ids *ids)
{
	int off;

	prog_emit_pid_tgid(a, trigger);                         /* r0 = pid_tgid; the reader's? */
	for (off = HDR; off < 0; off += 8)
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, off, 0)); /* *(u64 *)(fp + off) = 0 */

	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, KEY)); /* key = r0 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(tid))); /* e.tid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(pid))); /* e.pid = r0 */

	if (ids && ids->valid) {
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));   /* r7 = task */
	}
	prog_emit_ids(a, ids, BPF_REG_7, BPF_REG_10, EV);       /* uid, gid, comm, cgroup id */
	asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(size), sizeof(struct kevent))); /* e.size = sizeof(e) */
}

/*
 * Hand the batch (b in r7, ctx in r6) over, its header first:
 *
 *	if (bpf_perf_event_output(ctx, &events, CURRENT, &b->hdr,
 *	    sizeof(b->hdr) + b->len) < 0) {
 *		b->hdr.dropped_events += b->n;  // the ring is full: say how
 *		b->hdr.dropped_samples++;       // many the kernel's one lost
 *	} else {                            // record stood for
 *		b->hdr = (struct kbatch_hdr){ 0 };
 *	}
 *	b->n = b->len = 0;
 *
 * sent and reset are the labels it places (one pair per use).
 */
static void
output_batch(struct prog_asm *a, int events_fd, int sent, int reset)
{
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, events_fd);                 /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_7));       /* r4 = b */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_4,
	    offsetof(struct kbatch, hdr)));                     /* r4 = &b->hdr */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_5, BPF_REG_7,
	    offsetof(struct kbatch, len)));                     /* r5 = b->len */
	/* len < KBATCH_CAP always (KBATCH_FULL): the mask changes nothing
	 * but tells the verifier so. */
	asm_emit(a, BPF_ALU64_IMM(BPF_AND, BPF_REG_5, KBATCH_CAP - 1)); /* r5 &= CAP - 1 */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_5, sizeof(struct kbatch_hdr))); /* r5 += sizeof(hdr) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* r0 = output(r1..r5) */
	asm_jmp_imm(a, BPF_JSGE, BPF_REG_0, 0, sent);           /* if (r0 >= 0) goto sent */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
	    offsetof(struct kbatch, hdr.dropped_events)));      /* r1 = dropped_events */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_7,
	    offsetof(struct kbatch, n)));                       /* r2 = b->n */
	asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_2)); /* r1 += n */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
	    offsetof(struct kbatch, hdr.dropped_events)));      /* dropped_events = r1 */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
	    offsetof(struct kbatch, hdr.dropped_samples)));     /* r1 = dropped_samples */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));      /* r1 += 1 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
	    offsetof(struct kbatch, hdr.dropped_samples)));     /* dropped_samples = r1 */
	asm_ja(a, reset);                                       /* goto reset */
	asm_label(a, sent);
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_7, offsetof(struct kbatch, hdr), 0)); /* b->hdr = {0} */
	asm_label(a, reset);
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_7, offsetof(struct kbatch, n), 0)); /* b->n = b->len = 0 */
}

/*
 * r7 = this CPU's batch, owned: looked up, then busy taken with an atomic
 * exchange (xchg), or on a kernel without one (before 5.12) with a plain
 * load and store; else goto fail.  Uses the KEY slot for the zero key.
 *
 * The plain form is safe where programs that share a batch cannot
 * interleave: the loader gives the batch only to programs that run in
 * process context (the cgroup hooks, the exit programs) and lets the TCP
 * outcome, which softirqs run, output each event on its own; and up to
 * 5.10 migrate_disable() is preempt_disable() outside PREEMPT_RT, so no
 * other task runs a program on that CPU in between.  (5.11 with full
 * preemption is the one gap: there two tasks could both see busy 0.)
 */
static void
take_batch(struct prog_asm *a, int batch_fd, int xchg, int fail)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY, 0));    /* key = 0 */
	asm_ld_map_fd(a, BPF_REG_1, batch_fd);                  /* r1 = &batch */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, KEY));    /* r2 = &key */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));   /* r0 = this CPU's batch */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, fail);            /* if (!r0) goto fail */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = b */
	if (!xchg) {
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, busy)));                /* r1 = b->busy */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_1, 0, fail);        /* if (r1) goto fail: not ours */
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7,
		    offsetof(struct kbatch, busy), 1));             /* b->busy = 1 */
		return;
	}
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_1, 1));               /* r1 = 1 */
	asm_emit(a, BPF_ATOMIC_XCHG(BPF_W, BPF_REG_7, BPF_REG_1,
	    offsetof(struct kbatch, busy)));                    /* r1 = xchg(&b->busy, r1) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, 0, fail);            /* if (r1) goto fail: not ours */
}

/*
 * Without a batch map:
 *	b = NULL; rec = &e;                 // on the stack, HDR zeroed
 *
 * With one:
 *	struct kbatch *b = bpf_map_lookup_elem(&batch, &zero);
 *	if (!b || xchg(&b->busy, 1)) {      // someone on this CPU holds it
 *		b = NULL; rec = &e;
 *		goto fill;
 *	}
 *	if (b->len > KBATCH_FULL)           // cannot happen (commit sends
 *		output_batch(b);            // it first); for the verifier
 *	rec = b->buf + b->len;
 * fill:
 *
 * Why this is safe: cgroup and tracing programs run with migration
 * disabled but may be preempted (PREEMPT kernels) or interrupted by a
 * softirq that runs another (sock:inet_sock_set_state, the TCP outcome,
 * on an incoming packet), so two programs can interleave on one CPU but
 * never run on two CPUs at once on the same batch: a per-CPU array gives
 * each program the batch of the CPU it runs on.  The flush is no
 * exception: it is a program too, run by the reader thread's own connect
 * after it moved itself to that CPU (prog_emit_trigger()), so it takes
 * the batch of the CPU it runs on, as a writer does.  The atomic exchange
 * makes exactly one of them the owner; the other does not wait (it may
 * have preempted the owner) but sends its record on its own (a flush
 * leaves the batch to the next one), so no record is lost or torn.  The
 * owner's plain store of busy = 0 (prog_emit_commit()) comes after its
 * stores to the batch in program order, which is all another program on
 * the same CPU can observe.
 */
void
prog_emit_slot(struct prog_asm *a, int events_fd, int batch_fd, int xchg)
{
	if (batch_fd >= 0) {
		take_batch(a, batch_fd, xchg, L_FRAME_DIRECT);           /* r7 = b, owned */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, len)));                 /* r1 = b->len */
		asm_jmp_imm(a, BPF_JGT, BPF_REG_1, KBATCH_FULL, L_FRAME_FULL); /* if (r1 > FULL) goto full */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_9, BPF_REG_7));   /* r9 = b */
		asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_9, BPF_REG_1)); /* r9 += len */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_9,
		    offsetof(struct kbatch, buf)));                 /* r9 = b->buf + len */
		asm_ja(a, L_FRAME_FILL);                            /* goto fill */
		asm_label(a, L_FRAME_FULL);
		output_batch(a, events_fd, L_FRAME_FULL_SENT, L_FRAME_FULL_RESET); /* output(b); b->len = 0 */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_9, BPF_REG_7));   /* r9 = b */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_9,
		    offsetof(struct kbatch, buf)));                 /* r9 = b->buf */
		asm_ja(a, L_FRAME_FILL);                            /* goto fill */
		asm_label(a, L_FRAME_DIRECT);
	}
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_7, 0));               /* r7 = NULL: no batch */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_9, BPF_REG_10));      /* r9 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_9, EV));     /* r9 = &e */
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, HDR, 0));    /* hdr = {0} */
	if (batch_fd >= 0)
		asm_label(a, L_FRAME_FILL);
}

/*
 *	if (b) {
 *		b->len += SIZE;
 *		b->n++;
 *		if (b->len > KBATCH_FULL)   // the next record might not fit
 *			output_batch(b);        // see there; b->len = 0
 *		b->busy = 0;
 *	} else {
 *		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &hdr,
 *		    sizeof(hdr) + SIZE);    // hdr, then e
 *	}
 */
void
prog_emit_commit(struct prog_asm *a, int events_fd, int batch_fd,
    int size_reg, int size)
{
	if (batch_fd >= 0) {
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_FRAME_ONE); /* if (!b) goto one */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, len)));                 /* r1 = b->len */
		if (size_reg >= 0)
			asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_1, size_reg)); /* r1 += SIZE */
		else
			asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, size)); /* r1 += SIZE */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
		    offsetof(struct kbatch, len)));                 /* b->len = r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_7,
		    offsetof(struct kbatch, n)));                   /* r2 = b->n */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, 1));  /* r2 += 1 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_2,
		    offsetof(struct kbatch, n)));                   /* b->n = r2 */
		asm_jmp_imm(a, BPF_JLE, BPF_REG_1, KBATCH_FULL, L_FRAME_KEEP); /* if (r1 <= FULL) goto keep */
		output_batch(a, events_fd, L_FRAME_SENT, L_FRAME_RESET); /* output(b); b->len = 0 */
		asm_label(a, L_FRAME_KEEP);
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, busy), 0)); /* b->busy = 0 */
		asm_ja(a, L_FRAME_OUT);                             /* goto out */
		asm_label(a, L_FRAME_ONE);
	}
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, events_fd);                 /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_10));      /* r4 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, HDR));    /* r4 = &hdr, e after it */
	if (size_reg >= 0) {
		asm_emit(a, BPF_MOV64_REG(BPF_REG_5, size_reg));    /* r5 = SIZE */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_5,
		    sizeof(struct kbatch_hdr)));                    /* r5 += sizeof(hdr) */
	} else {
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_5,
		    (int)sizeof(struct kbatch_hdr) + size));        /* r5 = sizeof(hdr) + SIZE */
	}
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* output(r1..r5) */
	if (batch_fd >= 0)
		asm_label(a, L_FRAME_OUT);
}

/*
 *	if (SIZE == sizeof(e))          // short: inet addresses
 *		size = e.addrlen <= 32 ? KEV_SIZE(32) : sizeof(e);
 *	e.size = size;
 *	rec = slot();                       // prog_emit_slot()
 *	if (rec != &e)
 *		memcpy(rec, &e, size);          // size / 8 moves of 8 bytes
 *	commit(rec, size);                  // prog_emit_commit()
 */
void
prog_emit_event(struct prog_asm *a, int events_fd, int batch_fd, int xchg,
    int size)
{
	int off, sized = size == (int)sizeof(struct kevent), short_size = KEV_SIZE(32);

	if (sized) {
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_8, size));        /* r8 = sizeof(e) */
		asm_emit(a, BPF_LDX_MEM(BPF_H, BPF_REG_1, BPF_REG_10, E(addrlen))); /* r1 = e.addrlen */
		asm_jmp_imm(a, BPF_JGT, BPF_REG_1, 32, L_FRAME_LONG); /* if (r1 > 32) goto long */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_8, short_size));  /* r8 = KEV_SIZE(32) */
		asm_label(a, L_FRAME_LONG);
		asm_emit(a, BPF_STX_MEM(BPF_H, BPF_REG_10, BPF_REG_8, E(size))); /* e.size = r8 */
	} else {
		asm_emit(a, BPF_ST_MEM(BPF_H, BPF_REG_10, E(size), size)); /* e.size = SIZE */
	}
	prog_emit_slot(a, events_fd, batch_fd, xchg);           /* r9 = rec, r7 = b or NULL */
	if (batch_fd >= 0) {
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_7, 0, L_FRAME_COPIED); /* if (!b) goto copied: rec is e */
		for (off = 0; off < size; off += 8) {
			if (sized && off == short_size)
				asm_jmp_imm(a, BPF_JEQ, BPF_REG_8, short_size,
				    L_FRAME_COPIED);                        /* if (size == short) goto copied */
			asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_10, EV + off)); /* r1 = ((u64 *)&e)[i] */
			asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_9, BPF_REG_1, off)); /* ((u64 *)rec)[i] = r1 */
		}
		asm_label(a, L_FRAME_COPIED);
	}
	prog_emit_commit(a, events_fd, batch_fd, sized ? BPF_REG_8 : -1, size); /* count it in, or send it */
}

/*
 * The trigger path, the reader's connect (r6 = ctx):
 *
 * trigger:
 *	struct kbatch *b = bpf_map_lookup_elem(&batch, &zero);
 *	if (!b || xchg(&b->busy, 1))        // the owner hands it over itself
 *		return RET;                     // or the next flush does
 *	b->flushes++;                       // read back by the start-up check
 *	if (b->n || b->hdr.dropped_samples) // drops are said even alone
 *		output_batch(b);                // b->len = 0
 *	b->busy = 0;
 *	return RET;                         // allow, no event
 */
void
prog_emit_trigger(struct prog_asm *a, int events_fd, int batch_fd, int xchg,
    uint64_t trigger, int ret)
{
	if (!trigger)
		return;
	asm_label(a, L_FRAME_TRIGGER);
	if (batch_fd >= 0) {
		take_batch(a, batch_fd, xchg, L_FLUSH_DONE);        /* r7 = b, owned */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, flushes)));             /* r1 = b->flushes */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));  /* r1 += 1 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
		    offsetof(struct kbatch, flushes)));             /* b->flushes = r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, n)));                   /* r1 = b->n */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_1, 0, L_FLUSH_SEND); /* if (r1) goto send */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, hdr.dropped_samples))); /* r1 = dropped_samples */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_1, 0, L_FLUSH_RELEASE); /* if (!r1) goto release: nothing */
		asm_label(a, L_FLUSH_SEND);
		output_batch(a, events_fd, L_FLUSH_SENT, L_FLUSH_CLEAR); /* output(hdr, b->buf, len); b->len = 0 */
		asm_label(a, L_FLUSH_RELEASE);
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, busy), 0)); /* b->busy = 0 */
		asm_label(a, L_FLUSH_DONE);
	}
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, ret));             /* r0 = RET */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
}
