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
 * What every event program fills first:
 *
 *	u64 key = bpf_get_current_pid_tgid();
 *	if (TRIGGER && key == TRIGGER)      // the reader's flush connect
 *		goto trigger;                   // prog_emit_trigger()
 *	struct kevent e = {0};
 *	e.tid = key; e.pid = key >> 32;
 *	u64 ug = bpf_get_current_uid_gid();
 *	e.uid = ug; e.gid = ug >> 32;
 *	bpf_get_current_comm(e.comm, 16);
 *	e.cgroup_id = bpf_get_current_cgroup_id();
 */
void
prog_emit_task_ids(struct prog_asm *a, uint64_t trigger)
{
	int off;

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* r0 = pid_tgid */
	if (trigger) {
		asm_ld_imm64(a, BPF_REG_1, trigger);                /* r1 = TRIGGER */
		asm_jmp_reg(a, BPF_JEQ, BPF_REG_0, BPF_REG_1, L_FRAME_TRIGGER); /* if (r0 == r1) goto trigger */
	}
	for (off = EV; off < 0; off += 8)
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, off, 0)); /* *(u64 *)(fp + off) = 0 */

	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, KEY)); /* key = r0 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(tid))); /* e.tid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(pid))); /* e.pid = r0 */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_uid_gid)); /* r0 = uid_gid */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(uid))); /* e.uid = r0 */
	asm_emit(a, BPF_ALU64_IMM(BPF_RSH, BPF_REG_0, 32));     /* r0 >>= 32 */
	asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_0, E(gid))); /* e.gid = r0 */

	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));      /* r1 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, E(comm))); /* r1 += &e.comm */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, EV_COMM_LEN));     /* r2 = 16 */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_comm));  /* get_current_comm(r1, r2) */

	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_cgroup_id)); /* r0 = cgroup id */
	asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, E(cgroup_id))); /* e.cgroup_id = r0 */
}

/*
 * Hand the batch (b in r7, r8 records, ctx in r6) over, its header first:
 *
 *	if (bpf_perf_event_output(ctx, &events, CURRENT, &b->hdr,
 *	    sizeof(b->hdr) + n * sizeof(e)) < 0) {
 *		b->hdr.dropped_events += n;     // the ring is full: say how
 *		b->hdr.dropped_samples++;       // many the kernel's one lost
 *	} else {                            // record stood for
 *		b->hdr = (struct kbatch_hdr){ 0 };
 *	}
 *	b->n = 0;
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
	asm_emit(a, BPF_MOV64_REG(BPF_REG_5, BPF_REG_8));       /* r5 = n */
	asm_emit(a, BPF_ALU64_IMM(BPF_MUL, BPF_REG_5, sizeof(struct kevent))); /* r5 = n * sizeof(e) */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_5, sizeof(struct kbatch_hdr))); /* r5 += sizeof(hdr) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* r0 = output(r1..r5) */
	asm_jmp_imm(a, BPF_JSGE, BPF_REG_0, 0, sent);           /* if (r0 >= 0) goto sent */
	asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
	    offsetof(struct kbatch, hdr.dropped_events)));      /* r1 = dropped_events */
	asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_8)); /* r1 += n */
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
	asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, n), 0)); /* b->n = 0 */
}

/* r7 = this CPU's batch, owned: looked up, then busy taken with an atomic
 * exchange; else goto fail.  Uses the KEY slot for the zero key. */
static void
take_batch(struct prog_asm *a, int batch_fd, int fail)
{
	asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, KEY, 0));    /* key = 0 */
	asm_ld_map_fd(a, BPF_REG_1, batch_fd);                  /* r1 = &batch */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));      /* r2 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, KEY));    /* r2 = &key */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));   /* r0 = this CPU's batch */
	asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, fail);            /* if (!r0) goto fail */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_7, BPF_REG_0));       /* r7 = b */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_1, 1));               /* r1 = 1 */
	asm_emit(a, BPF_ATOMIC_XCHG(BPF_W, BPF_REG_7, BPF_REG_1,
	    offsetof(struct kbatch, busy)));                    /* r1 = xchg(&b->busy, r1) */
	asm_jmp_imm(a, BPF_JNE, BPF_REG_1, 0, fail);            /* if (r1) goto fail: not ours */
}

/*
 * Without a batch map:
 *	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
 *
 * With one:
 *	struct kbatch *b = bpf_map_lookup_elem(&batch, &zero);
 *	if (!b || xchg(&b->busy, 1))        // someone on this CPU holds it
 *		goto direct;
 *	n = b->n;
 *	if (n >= KBATCH_N) {                // cannot happen; for the verifier
 *		b->n = 0;
 *		goto release_direct;
 *	}
 *	b->rec[n] = e;                      // 25 moves of 8 bytes
 *	b->n = ++n;
 *	if (n == KBATCH_N)
 *		output_batch(b, n);         // see there; b->n = 0
 *	b->busy = 0;
 *	goto out;
 * release_direct:
 *	b->busy = 0;
 * direct:
 *	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
 * out:
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
 * owner's plain store of busy = 0 comes after its stores to the batch in
 * program order, which is all another program on the same CPU can
 * observe.
 */
void
prog_emit_event(struct prog_asm *a, int events_fd, int batch_fd)
{
	int off;

	if (batch_fd >= 0) {
		take_batch(a, batch_fd, L_FRAME_DIRECT);            /* r7 = b, owned */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_8, BPF_REG_7,
		    offsetof(struct kbatch, n)));                   /* r8 = b->n */
		asm_jmp_imm(a, BPF_JLT, BPF_REG_8, KBATCH_N, L_FRAME_N_OK); /* if (r8 < 16) goto n_ok */
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, n), 0)); /* b->n = 0 */
		asm_ja(a, L_FRAME_RELEASE);                         /* goto release_direct */
		asm_label(a, L_FRAME_N_OK);
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_8));   /* r1 = n */
		asm_emit(a, BPF_ALU64_IMM(BPF_MUL, BPF_REG_1, sizeof(struct kevent))); /* r1 = n * sizeof(e) */
		asm_emit(a, BPF_ALU64_REG(BPF_ADD, BPF_REG_1, BPF_REG_7)); /* r1 = (void *)b + r1 */
		for (off = 0; off < (int)sizeof(struct kevent); off += 8) {
			asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_10, EV + off)); /* r2 = ((u64 *)&e)[i] */
			asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_1, BPF_REG_2,
			    (int)offsetof(struct kbatch, rec) + off)); /* ((u64 *)&b->rec[n])[i] = r2 */
		}
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_8, 1));  /* r8 = n + 1 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_8,
		    offsetof(struct kbatch, n)));                   /* b->n = r8 */
		asm_jmp_imm(a, BPF_JLT, BPF_REG_8, KBATCH_N, L_FRAME_KEEP); /* if (r8 < 16) goto keep */
		output_batch(a, events_fd, L_FRAME_SENT, L_FRAME_RESET); /* output(b->rec, 16); b->n = 0 */
		asm_label(a, L_FRAME_KEEP);
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, busy), 0)); /* b->busy = 0 */
		asm_ja(a, L_FRAME_OUT);                             /* goto out */
		asm_label(a, L_FRAME_RELEASE);
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, busy), 0)); /* b->busy = 0 */
		asm_label(a, L_FRAME_DIRECT);
	}
	asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));       /* r1 = ctx */
	asm_ld_map_fd(a, BPF_REG_2, events_fd);                 /* r2 = &events */
	asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));              /* r3 = BPF_F_CURRENT_CPU */
	asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_10));      /* r4 = fp */
	asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, EV));     /* r4 = &e */
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_5, sizeof(struct kevent))); /* r5 = sizeof(e) */
	asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* output(r1..r5) */
	if (batch_fd >= 0)
		asm_label(a, L_FRAME_OUT);
}

/*
 * The trigger path, the reader's connect (r6 = ctx):
 *
 * trigger:
 *	struct kbatch *b = bpf_map_lookup_elem(&batch, &zero);
 *	if (!b || xchg(&b->busy, 1))        // the owner hands it over itself
 *		return RET;                     // or the next flush does
 *	b->flushes++;                       // read back by the start-up check
 *	n = b->n;
 *	if (n > KBATCH_N)                   // cannot happen; for the verifier
 *		goto reset;                     // in output_batch(): b->n = 0
 *	if (n || b->hdr.dropped_samples)    // drops are said even alone
 *		output_batch(b, n);             // b->n = 0
 *	b->busy = 0;
 *	return RET;                         // allow, no event
 */
void
prog_emit_trigger(struct prog_asm *a, int events_fd, int batch_fd,
    uint64_t trigger, int ret)
{
	if (!trigger)
		return;
	asm_label(a, L_FRAME_TRIGGER);
	if (batch_fd >= 0) {
		take_batch(a, batch_fd, L_FLUSH_DONE);              /* r7 = b, owned */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, flushes)));             /* r1 = b->flushes */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, 1));  /* r1 += 1 */
		asm_emit(a, BPF_STX_MEM(BPF_W, BPF_REG_7, BPF_REG_1,
		    offsetof(struct kbatch, flushes)));             /* b->flushes = r1 */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_8, BPF_REG_7,
		    offsetof(struct kbatch, n)));                   /* r8 = b->n */
		asm_jmp_imm(a, BPF_JGT, BPF_REG_8, KBATCH_N, L_FLUSH_CLEAR); /* if (r8 > 16) goto reset */
		asm_jmp_imm(a, BPF_JNE, BPF_REG_8, 0, L_FLUSH_SEND); /* if (r8) goto send */
		asm_emit(a, BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_7,
		    offsetof(struct kbatch, hdr.dropped_samples))); /* r1 = dropped_samples */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_1, 0, L_FLUSH_RELEASE); /* if (!r1) goto release: nothing */
		asm_label(a, L_FLUSH_SEND);
		output_batch(a, events_fd, L_FLUSH_SENT, L_FLUSH_CLEAR); /* output(hdr, b->rec, n); reset: b->n = 0 */
		asm_label(a, L_FLUSH_RELEASE);
		asm_emit(a, BPF_ST_MEM(BPF_W, BPF_REG_7, offsetof(struct kbatch, busy), 0)); /* b->busy = 0 */
		asm_label(a, L_FLUSH_DONE);
	}
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, ret));             /* r0 = RET */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
}
