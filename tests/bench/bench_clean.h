/*
 * Is the "server stopped" baseline clean?  Any enabled syscall tracepoint
 * puts every task on the syscall-tracing slow path, and any tracing BPF
 * program (tracepoint, raw_tp, perf_event, kprobe, fentry/fexit) or a
 * leftover ebpf-server taxes the calls we time; a ratio against such a
 * baseline lies.  bench_contaminated() says why, or returns NULL.
 * Include after tests/integration/itest.h (it_bpf_info()).
 */
#ifndef BENCH_CLEAN_H
#define BENCH_CLEAN_H

#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "tests/bpf_ids.h"

/* A bare getppid() takes ~170 ns on this machine's usual VM, ~1000 ns on
 * one with page-table isolation (every kernel entry switches page
 * tables); over these something else taxes it. */
#define BENCH_GETPPID_MAX_NS 400.0
#define BENCH_GETPPID_MAX_NS_PTI 1600.0

/* Whether the kernel isolates its page tables (Meltdown's mitigation). */
static int
bench_pti(void)
{
	char s[128] = "";
	FILE *f = fopen("/sys/devices/system/cpu/vulnerabilities/meltdown", "re");

	if (f) {
		if (!fgets(s, sizeof(s), f))
			s[0] = '\0';
		fclose(f);
	}
	return strstr(s, "PTI") != NULL;
}

/* The first enabled event under tracefs' syscalls/, into why. */
static int
bench_syscall_tp_enabled(char *why, size_t n)
{
	static const char *const pat[] = {
		"/sys/kernel/tracing/events/syscalls/*/enable",
		"/sys/kernel/debug/tracing/events/syscalls/*/enable",
	};
	glob_t g;
	size_t i, j;

	for (j = 0; j < 2; j++) {
		if (glob(pat[j], 0, NULL, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc; i++) {
			FILE *f = fopen(g.gl_pathv[i], "re");
			int c = f ? fgetc(f) : EOF;

			if (f)
				fclose(f);
			if (c == '1') {
				snprintf(why, n, "%s is 1", g.gl_pathv[i]);
				globfree(&g);
				return 1;
			}
		}
		globfree(&g);
	}
	return 0;
}

/* A loaded BPF program of a tracing type, into why. */
static int
bench_tracing_prog(char *why, size_t n)
{
	struct bpf_prog_info info;
	uint32_t id = 0;

	while (bpf_next_id(BPF_PROG_GET_NEXT_ID, &id) == 0) {
		if (it_bpf_info(BPF_PROG_GET_FD_BY_ID, id, &info, sizeof(info)) < 0)
			continue;
		switch (info.type) {
		case BPF_PROG_TYPE_TRACEPOINT:
		case BPF_PROG_TYPE_RAW_TRACEPOINT:
		case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		case BPF_PROG_TYPE_KPROBE:
		case BPF_PROG_TYPE_TRACING:
			snprintf(why, n, "BPF program %u \"%s\" (type %u) is loaded",
			    id, info.name, info.type);
			return 1;
		case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
			/* Ours, from another ebpf-server. */
			if (strncmp(info.name, "es_", 3) == 0) {
				snprintf(why, n, "another ebpf-server's program %u "
				    "\"%s\" is attached", id, info.name);
				return 1;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

/* NULL when the baseline looks clean, else why not (in why).  bare_ns is
 * the stopped getppid() time of the round, or 0 when not measured. */
static const char *
bench_contaminated(double bare_ns, char *why, size_t n)
{
	if (bench_syscall_tp_enabled(why, n) || bench_tracing_prog(why, n))
		return why;
	if (bare_ns > (bench_pti() ? BENCH_GETPPID_MAX_NS_PTI :
	    BENCH_GETPPID_MAX_NS)) {
		snprintf(why, n, "bare getppid() took %.0f ns (clean: ~170, ~1000 "
		    "with page-table isolation%s)", bare_ns, bench_pti() ? ", on here" : "");
		return why;
	}
	return NULL;
}

#endif
