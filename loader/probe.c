/*
 * Feature probes (see probe.h): each is the smallest program that uses
 * one thing, loaded quietly; the verifier's yes or no is the answer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "loader/bpf.h"
#include "loader/probe.h"
#include "loader/sys.h"
#include "prog/asm.h"
#include "prog/insn.h"

enum { L_NULL };

static const struct {
	const char *name;       /* for ld_probe_list() */
	const char *what;       /* for ld_probe_why() */
} feats[LD_F_N] = {
	[LD_F_XCHG] = { "xchg", "the atomic exchange instruction (BPF_XCHG, Linux 5.12)" },
	[LD_F_SA_IDS] = { "sa_ids", "bpf_get_current_pid_tgid(), _uid_gid(), "
	    "_comm() and _cgroup_id() in cgroup socket programs" },
	[LD_F_SA_OUTPUT] = { "sa_output", "bpf_perf_event_output() in cgroup "
	    "socket programs" },
	[LD_F_SA_COARSE] = { "sa_coarse", "bpf_ktime_get_coarse_ns() (Linux 5.11)" },
	[LD_F_SA_TASK_BTF] = { "sa_task_btf", "bpf_get_current_task_btf() in "
	    "cgroup socket programs" },
	[LD_F_SA_TASK] = { "sa_task", "bpf_get_current_task() and "
	    "bpf_probe_read_kernel() in cgroup socket programs" },
	[LD_F_SA_SPILL] = { "sa_spill", "a socket pointer on the stack read by "
	    "a helper, to a privileged program" },
	[LD_F_SA_COOKIE] = { "sa_cookie", "bpf_get_socket_cookie() in cgroup "
	    "socket programs" },
	[LD_F_TP_READ_KERNEL] = { "tp_read_kernel", "bpf_probe_read_kernel() "
	    "(Linux 5.5)" },
	[LD_F_TP_TASK_BTF] = { "tp_task_btf", "bpf_get_current_task_btf() "
	    "(Linux 5.11, and BTF)" },
	[LD_F_TP_PT_REGS] = { "tp_pt_regs", "bpf_task_pt_regs() (Linux 5.15)" },
	[LD_F_SA_CAST] = { "sa_cast", "the bpf_rdonly_cast() kfunc in cgroup "
	    "socket programs (Linux 6.2, and BTF)" },
	[LD_F_TP_CAST] = { "tp_cast", "the bpf_rdonly_cast() kfunc (Linux 6.2, "
	    "and BTF)" },
};

/* The maps and BTF ids some probes name. */
struct probe_maps {
	int array;              /* one u64 */
	int events;             /* a perf event array of one CPU */
	int kf_cast, cast_id;   /* bpf_rdonly_cast()'s BTF id, a struct's */
};

/* Load the program of a (finished) as type/attach; 1 when taken. */
static int
taken(struct prog_asm *a, unsigned type, unsigned attach)
{
	long n = asm_finish(a);
	int fd;

	if (n < 0)
		return 0;
	fd = ld_prog_load_attach(type, attach, 0, "es_probe", a->insn,
	    (size_t)n, NULL);
	if (fd < 0)
		return 0;
	sys_close(fd);
	return 1;
}

/* r0 = 1; exit: the end of every probe (1 is "allow" to a cgroup hook). */
static void
end(struct prog_asm *a)
{
	asm_emit(a, BPF_MOV64_IMM(BPF_REG_0, 1));               /* r0 = 1 */
	asm_emit(a, BPF_EXIT_INSN());                           /* return r0 */
}

/*
 * Emit the body of probe f into a; returns the program type and sets
 * *attach.  r6 = ctx throughout.
 */
static unsigned
emit(struct prog_asm *a, enum ld_feature f, const struct probe_maps *m,
    unsigned *attach)
{
	*attach = BPF_CGROUP_INET4_CONNECT;
	asm_emit(a, BPF_MOV64_REG(BPF_REG_6, BPF_REG_1));       /* r6 = ctx */
	switch (f) {
	case LD_F_XCHG:
		/*	u64 *v = bpf_map_lookup_elem(&array, &zero);
		 *	if (v) xchg((u32 *)v, 1);                      */
		asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0)); /* key = 0 */
		asm_ld_map_fd(a, BPF_REG_1, m->array);              /* r1 = &array */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_2, BPF_REG_10));  /* r2 = fp */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, -8)); /* r2 = &key */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem)); /* r0 = v */
		asm_jmp_imm(a, BPF_JEQ, BPF_REG_0, 0, L_NULL);      /* if (!v) goto null */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_1, 1));           /* r1 = 1 */
		asm_emit(a, BPF_ATOMIC_XCHG(BPF_W, BPF_REG_0, BPF_REG_1, 0)); /* r1 = xchg(v, r1) */
		asm_label(a, L_NULL);
		break;
	case LD_F_SA_IDS:
		/*	bpf_get_current_pid_tgid(); bpf_get_current_uid_gid();
		 *	bpf_get_current_cgroup_id();
		 *	bpf_get_current_comm(fp - 16, 16);             */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_pid_tgid)); /* pid_tgid */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_uid_gid)); /* uid_gid */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_cgroup_id)); /* cgroup id */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));  /* r1 = fp */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -16)); /* r1 = fp - 16 */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 16));          /* r2 = 16 */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_comm)); /* comm(r1, r2) */
		break;
	case LD_F_SA_OUTPUT:
	case LD_F_SA_SPILL:
		/*	*(u64 *)(fp - 8) = SPILL ? ctx->sk : 0;
		 *	bpf_perf_event_output(ctx, &events, CURRENT, fp - 8, 8); */
		if (f == LD_F_SA_SPILL) {
			asm_emit(a, BPF_LDX_MEM(BPF_DW, BPF_REG_1, BPF_REG_6,
			    offsetof(struct bpf_sock_addr, sk)));   /* r1 = ctx->sk */
			asm_emit(a, BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_1, -8)); /* *(fp - 8) = r1 */
		} else {
			asm_emit(a, BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0)); /* *(fp - 8) = 0 */
		}
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));   /* r1 = ctx */
		asm_ld_map_fd(a, BPF_REG_2, m->events);             /* r2 = &events */
		asm_emit(a, BPF_MOV32_IMM(BPF_REG_3, -1));          /* r3 = BPF_F_CURRENT_CPU */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_4, BPF_REG_10));  /* r4 = fp */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, -8)); /* r4 = fp - 8 */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_5, 8));           /* r5 = 8 */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_perf_event_output)); /* output(r1..r5) */
		break;
	case LD_F_SA_COARSE:
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_ktime_get_coarse_ns)); /* r0 = coarse time */
		break;
	case LD_F_SA_TASK_BTF:
	case LD_F_TP_TASK_BTF:
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
		break;
	case LD_F_SA_TASK:
	case LD_F_TP_READ_KERNEL:
		/*	bpf_probe_read_kernel(fp - 8, 8, bpf_get_current_task()); */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_3, BPF_REG_0));   /* r3 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_10));  /* r1 = fp */
		asm_emit(a, BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8)); /* r1 = fp - 8 */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, 8));           /* r2 = 8 */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_probe_read_kernel)); /* read(r1, r2, r3) */
		break;
	case LD_F_SA_COOKIE:
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));   /* r1 = ctx */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_socket_cookie)); /* r0 = cookie */
		break;
	case LD_F_TP_PT_REGS:
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_get_current_task_btf)); /* r0 = task */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_0));   /* r1 = task */
		asm_emit(a, BPF_EMIT_CALL(BPF_FUNC_task_pt_regs));  /* r0 = its pt_regs */
		break;
	case LD_F_SA_CAST:
	case LD_F_TP_CAST:
		/*	bpf_rdonly_cast(ctx, CAST_ID);  (the socket walks cast
		 *	values they read; the object is not checked: obj__ign) */
		asm_emit(a, BPF_MOV64_REG(BPF_REG_1, BPF_REG_6));   /* r1 = ctx */
		asm_emit(a, BPF_MOV64_IMM(BPF_REG_2, m->cast_id));  /* r2 = the struct's BTF id */
		asm_emit(a, BPF_KFUNC_CALL(m->kf_cast));            /* r0 = (struct *)r1 */
		break;
	case LD_F_N:
		break;
	}
	end(a);
	if (f >= LD_F_TP_READ_KERNEL) {
		*attach = 0;
		return BPF_PROG_TYPE_TRACEPOINT;
	}
	return BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
}

int
ld_probe(struct ld_features *f, int kf_cast, int cast_id)
{
	struct probe_maps m;
	struct prog_asm a;
	unsigned type, attach;
	int i, e = 0;

	memset(f, 0, sizeof(*f));
	if ((m.array = ld_map_create(BPF_MAP_TYPE_ARRAY, "es_probe", 4, 8, 1)) < 0)
		return m.array;
	if ((m.events = ld_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "es_probe",
	    4, 4, 1)) < 0) {
		e = m.events;
		sys_close(m.array);
		return e;
	}
	m.kf_cast = kf_cast;
	m.cast_id = cast_id;
	for (i = 0; i < LD_F_N; i++) {
		/* No BTF ids, no kfunc to call. */
		if ((i == LD_F_SA_CAST || i == LD_F_TP_CAST) &&
		    (kf_cast <= 0 || cast_id <= 0))
			continue;
		if ((e = asm_init(&a)) < 0)
			break;
		type = emit(&a, (enum ld_feature)i, &m, &attach);
		if (taken(&a, type, attach))
			f->have |= 1u << i;
		asm_free(&a);
	}
	sys_close(m.events);
	sys_close(m.array);
	f->probed = 1;
	return e < 0 ? e : 0;
}

int
ld_has(const struct ld_features *f, enum ld_feature feat)
{
	return (f->have >> feat) & 1;
}

const char *
ld_probe_why(enum ld_feature feat)
{
	return feat < LD_F_N ? feats[feat].what : "?";
}

int
ld_need(const struct ld_features *f, enum ld_feature feat,
    const char *backend, char *err, size_t errlen)
{
	if (ld_has(f, feat))
		return 0;
	snprintf(err, errlen, "backend %s needs %s", backend, ld_probe_why(feat));
	return -EOPNOTSUPP;
}

void
ld_probe_list(const struct ld_features *f, char *buf, size_t n)
{
	size_t len = 0;
	int i;

	if (n)
		buf[0] = '\0';
	for (i = 0; i < LD_F_N && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s=%d",
		    i ? " " : "", feats[i].name, ld_has(f, (enum ld_feature)i));
}
