/*
 * The bytecode of every program the assembler produces, held to a
 * recorded fixture (tests/unit/bytecode.txt), so that reworking prog/ or
 * the loader's choices cannot change what a kernel is given unnoticed.
 * Every entry point the headers in prog/ declare is assembled over the
 * forms the loader (loader/tracepoint.c, fexit.c, sockhook.c, capture.c)
 * chooses between: each system call or hook; batched output taken with
 * BPF_XCHG or by a plain load, or one output per event; with or without
 * the reader's trigger and its socket cookie; bpf_rdonly_cast() or probe
 * reads; the task by BTF-typed loads, probe reads or not at all; the
 * coarse clock; 8- and 4-byte tracepoint arguments; and four kernels'
 * worth of BTF (none, without the ids, a 5.10-like one, a 6.18-like
 * one).  Many forms turn out byte-identical (the trigger is only in
 * connect4's): each is listed all the same, so that one that starts to
 * differ is seen.  The inputs
 * (map fds, offsets, BTF ids, trigger) are fixed, so the bytes are the
 * same on every run.  Each program is one line: its name, its number of
 * instructions and an FNV-1a 64 hash of its instructions, each encoded
 * as code, dst, src, off (2 bytes LE) and imm (4 bytes LE), so that the
 * hash does not depend on the host's byte order or bit-field layout.
 * A missing, extra or different line fails and is named.
 *
 * FIXTURE_RECORD=1 writes the fixture instead of comparing.  A change to
 * the fixture must be explained in its commit: which programs changed and
 * why their bytecode had to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "prog/asm.h"
#include "prog/connect.h"
#include "prog/insn.h"
#include "prog/outcome.h"
#include "prog/sockaddr.h"

#define FIXTURE "tests/unit/bytecode.txt"

#define STASH_FD 3
#define EVENTS_FD 4
#define BATCH_FD 5
#define TRIGGER 0x0000303900003039ULL   /* the reader's pid_tgid */
#define COOKIE 0x1122334455667788ULL    /* its flush socket's cookie */

/* The fixture's text as it grows. */
struct text {
	char *s;
	size_t len, cap;
};

static void
line(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL,
		    t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		assert_non_null(t->s = realloc(t->s, t->cap));
	}
	t->len += (size_t)n;
}

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* One line for the program a holds: "name n=<count> fnv=<hash>". */
static void
record(struct text *t, const char *name, struct prog_asm *a, long n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	long i;

	if (n <= 0)
		fail_msg("%s: assembly failed: %ld", name, n);
	for (i = 0; i < n; i++) {
		const struct bpf_insn *in = &a->insn[i];
		uint32_t imm = (uint32_t)in->imm;
		uint16_t off = (uint16_t)in->off;
		uint8_t b[8] = { in->code, in->dst_reg, in->src_reg,
		    (uint8_t)off, (uint8_t)(off >> 8), (uint8_t)imm,
		    (uint8_t)(imm >> 8), (uint8_t)(imm >> 16) };

		h = fnv(h, b, sizeof(b));
		b[0] = (uint8_t)(imm >> 24);
		h = fnv(h, b, 1);
	}
	line(t, "%s n=%ld fnv=%016llx\n", name, n, (unsigned long long)h);
	asm_free(a);
}

/* The kernels, as capture.c's resolve_kern() would leave prog_kern. */
enum { K_NOBTF, K_NOIDS, K_510, K_618, NKERN };
static const char *const kname[NKERN] = { "nobtf", "noids", "k510", "k618" };

static struct prog_kern
kern(int which)
{
	static const struct prog_ids ids = { 1, 1736, 8, 12, 1752, 2376, 112, 256, 96 };
	static const int regs[6] = { 112, 104, 96, 56, 72, 64 }; /* x86-64 */
	struct prog_kern k;

	memset(&k, 0, sizeof(k));
	k.sock_err = -1;
	if (which == K_NOBTF)
		return k;
	k.valid = 1;
	k.task_files = 2000;
	k.task_real_parent = 1448;
	k.task_tgid = 1436;
	k.files_fdt = 32;
	k.fdt_max_fds = 0;
	k.fdt_fd = 8;
	k.file_private_data = 200;
	k.socket_type = 4;
	k.socket_file = 16;
	k.socket_sk = 24;
	k.sock_protocol = 516;
	k.regs_valid = 1;
	memcpy(k.regs_arg, regs, sizeof(regs));
	if (which == K_NOIDS)
		return k;
	k.ids = ids;
	k.sock_err = 356;
	if (which == K_510)
		return k;
	k.cast_valid = 1;
	k.kf_rdonly_cast = 70001;
	k.file_btf_id = 70002;
	k.socket_btf_id = 70003;
	k.sak_btf_id = 70004;
	k.sak_valid = 1;
	k.sak_uaddr = 8;
	k.sak_uaddrlen = 32;
	return k;
}

/* Where the programs put an event: one output each (taking the batch
 * is then never needed, xchg as the loader passes it on a 6.x kernel),
 * or a per-CPU batch taken with BPF_XCHG or by a plain load, with the
 * reader's trigger, and for the cgroup hooks also its socket's cookie. */
enum { OUT_DIRECT, OUT_XCHG, OUT_PLAIN, OUT_COOKIE, NOUT };
static const char *const oname[NOUT] = { "direct", "batch-xchg", "batch-plain",
    "batch-xchg-cookie" };

static void
out(int o, int *batch_fd, int *xchg, uint64_t *trigger, uint64_t *cookie)
{
	*batch_fd = o == OUT_DIRECT ? -1 : BATCH_FD;
	*xchg = o != OUT_PLAIN;
	*trigger = o == OUT_DIRECT ? 0 : TRIGGER;
	if (cookie)
		*cookie = o == OUT_COOKIE ? COOKIE : 0;
}

static const char *const sysname[3] = { "connect", "sendto", "sendmsg" };

/* The sys_enter_* field offsets (fd, addr, addrlen) and sys_exit_*'s ret
 * for 8- and 4-byte arguments, as tracefs format files give them. */
static void
tp_fields(struct prog_conf *c, int call, int arg_size)
{
	static const int addr[2][3] = { { 24, 48, 24 }, { 16, 28, 16 } };
	static const int addrlen[2][3] = { { 32, 56, 0 }, { 20, 32, 0 } };
	int w = arg_size == 4;

	c->syscall = call;
	c->arg_size = arg_size;
	c->enter_fd = w ? 12 : 16;
	c->enter_addr = addr[w][call];
	c->enter_addrlen = addrlen[w][call];
	c->exit_ret = w ? 12 : 16;
}

/* The enter/exit pair (tp_pair_open()): a stash, one output per event. */
static void
pair(struct text *t)
{
	int call, k, w, exit;

	for (call = 0; call < 3; call++)
		for (k = 0; k < NKERN; k++)
			for (w = 0; w < 2; w++)
				for (exit = 0; exit < 2; exit++) {
					struct prog_conf c;
					struct prog_asm a;
					char name[128];

					memset(&c, 0, sizeof(c));
					c.k = kern(k);
					c.stash_fd = STASH_FD;
					c.events_fd = EVENTS_FD;
					c.batch_fd = -1;
					tp_fields(&c, call, w ? 4 : 8);
					snprintf(name, sizeof(name), "tp_%s_%s %s arg=%d",
					    exit ? "exit" : "enter", sysname[call],
					    kname[k], w ? 4 : 8);
					assert_int_equal(asm_init(&a), 0);
					record(t, name, &a, exit ? prog_connect_exit(&a, &c) :
					    prog_connect_enter(&a, &c));
				}
}

/* The exit-only programs: the sys_exit tracepoint (tp_exit_open()) and
 * fexit on __sys_<call> (fx_open()), both needing BTF. */
static void
exit_only(struct text *t, int fexit)
{
	static const int nargs[3] = { 3, 6, 4 };
	int call, k, cast, o;

	for (call = 0; call < 3; call++)
		for (k = K_NOIDS; k < NKERN; k++)
			for (cast = 0; cast <= (k == K_618); cast++)
				for (o = 0; o < OUT_COOKIE; o++) {
					struct prog_conf c;
					struct prog_asm a;
					char name[128];

					memset(&c, 0, sizeof(c));
					c.k = kern(k);
					c.stash_fd = -1;
					c.events_fd = EVENTS_FD;
					out(o, &c.batch_fd, &c.xchg, &c.trigger, NULL);
					c.cast = cast;
					if (fexit) {
						c.syscall = call;
						c.fexit = 1;
						c.fexit_nargs = nargs[call];
					} else {
						tp_fields(&c, call, 8);
					}
					snprintf(name, sizeof(name), "%s_%s %s cast=%d out=%s",
					    fexit ? "fexit" : "tp_exit_only", sysname[call],
					    kname[k], cast, oname[o]);
					assert_int_equal(asm_init(&a), 0);
					record(t, name, &a, fexit ? prog_fexit(&a, &c) :
					    prog_call_exit(&a, &c));
				}
}

/* The cgroup hooks (hook_open()): the task by BTF-typed loads, by probe
 * reads, or not walked (no BTF, or neither helper: k.valid 0). */
static void
sock_addr(struct text *t)
{
	static const char *const hname[HOOK_N] = { "connect4", "connect6",
	    "sendmsg4", "sendmsg6", "connect_unix", "sendmsg_unix" };
	static const char *const task[3] = { "none", "probe", "btf" };
	int hook, k, tk, cast, o, coarse;

	for (hook = 0; hook < HOOK_N; hook++)
		for (k = 0; k < NKERN; k++)
			for (tk = 0; tk < 3; tk++)
				for (cast = 0; cast <= (k == K_618); cast++)
					for (o = 0; o < NOUT; o++)
						for (coarse = 0; coarse < 2; coarse++) {
							struct prog_sa_conf c;
							struct prog_asm a;
							char name[128];

							memset(&c, 0, sizeof(c));
							c.k = kern(k);
							if (!c.k.sak_valid &&
							    hook >= HOOK_CONNECT_UNIX)
								continue;
							if ((k == K_NOBTF) != (tk == 0))
								continue;
							c.hook = hook;
							c.events_fd = EVENTS_FD;
							out(o, &c.batch_fd, &c.xchg, &c.trigger,
							    &c.trigger_cookie);
							c.task_btf = tk == 2;
							c.coarse_time = coarse;
							c.cast = cast;
							snprintf(name, sizeof(name), "sock_addr_%s "
							    "%s task=%s cast=%d out=%s coarse=%d",
							    hname[hook], kname[k], task[tk], cast,
							    oname[o], coarse);
							assert_int_equal(asm_init(&a), 0);
							record(t, name, &a, prog_sock_addr(&a, &c));
						}
}

/* The TCP outcome program (open_outcome()): batched only with xchg. */
static void
outcome(struct text *t)
{
	int err, o;

	for (err = 0; err < 2; err++)
		for (o = 0; o < 2; o++) {
			struct prog_outcome_conf c = { .events_fd = EVENTS_FD,
			    .skaddr = 8, .oldstate = 16, .newstate = 20,
			    .protocol = 30 };
			struct prog_asm a;
			char name[128];

			c.batch_fd = o ? BATCH_FD : -1;
			c.xchg = o;
			c.sock_err = err ? 356 : -1;
			snprintf(name, sizeof(name), "tcp_outcome sk_err=%s out=%s",
			    err ? "known" : "unknown", o ? "batch-xchg" : "direct");
			assert_int_equal(asm_init(&a), 0);
			record(t, name, &a, prog_tcp_outcome(&a, &c));
		}
}

/* The line of text t[0..len) whose name (up to " n=") is name's, or NULL. */
static const char *
find(const char *text, size_t len, const char *name, size_t nlen)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > nlen && memcmp(p, name, nlen) == 0 &&
		    memcmp(p + nlen, " n=", 3) == 0)
			return p;
		p = nl + 1;
	}
	return NULL;
}

/* Every line of a whose name b lacks, printed as what; with changed,
 * also every line that b has otherwise.  b is NUL-terminated.  Returns
 * their number. */
static int
differ(const char *a, size_t alen, const char *b, size_t blen,
    const char *what, int changed)
{
	const char *p = a, *end = a + alen;
	int bad = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *o, *n;
		size_t len, olen;

		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if ((n = memmem(p, len, " n=", 3)) != NULL) {
			o = find(b, blen, p, (size_t)(n - p));
			olen = o ? strcspn(o, "\n") : 0;
			if (o == NULL) {
				printf("  %s: %.*s\n", what, (int)len, p);
				bad++;
			} else if (changed && (olen != len || memcmp(o, p, len))) {
				printf("  changed: %.*s (fixture: %.*s)\n", (int)len,
				    p, (int)olen, o);
				bad++;
			}
		}
		p = nl + 1;
	}
	return bad;
}

static void
test_bytecode(void **state)
{
	struct text t = { NULL, 0, 0 };
	char *want;
	size_t wl;
	int bad;
	FILE *f;

	(void)state;
	pair(&t);
	exit_only(&t, 0);
	exit_only(&t, 1);
	sock_addr(&t);
	outcome(&t);
	if (getenv("FIXTURE_RECORD")) {
		assert_non_null(f = fopen(FIXTURE, "w"));
		assert_int_equal(fwrite(t.s, 1, t.len, f), t.len);
		fclose(f);
		free(t.s);
		return;
	}
	assert_non_null(f = fopen(FIXTURE, "r"));
	assert_non_null(want = malloc(t.len + 65536));
	wl = fread(want, 1, t.len + 65535, f);
	want[wl] = '\0';
	fclose(f);
	bad = differ(t.s, t.len, want, wl, "new (not in the fixture)", 1);
	bad += differ(want, wl, t.s, t.len, "gone (in the fixture only)", 0);
	free(want);
	free(t.s);
	fflush(stdout);
	if (bad)
		fail_msg("%d programs differ from %s (FIXTURE_RECORD=1 rewrites "
		    "it; say why in the commit)", bad, FIXTURE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytecode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
