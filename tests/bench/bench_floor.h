/*
 * The floor under the cgroup backend's cost: an empty connect4 program
 * (r0 = 1: allow), attached to the root of cgroup2 with BPF_LINK_CREATE
 * as the server attaches its own.  A UDP connect() timed with it, in the
 * same round as the stopped and running loops, says how much of what the
 * server adds is the hook's own price (the kernel's run of a cgroup
 * program: taking the cgroup's program array, the context set-up), which
 * no program of ours can go under, and how much is ours.  On a VM where a
 * bare system call costs a microsecond (page-table isolation) every ratio
 * shrinks; the nanoseconds above the floor do not.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

/* The first cgroup2 mount in /proc/self/mountinfo into path; 0 or -1. */
static int
floor_cgroup2(char *path, size_t n)
{
	char line[1024], mnt[512];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int rc = -1;

	if (!f)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mount-point options... - type ... */
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(path, n, "%s", mnt);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* Load the empty program and link it to the root cgroup2's connect4 hook.
 * Returns the link's fd (closing it detaches the program), or -1 with
 * the reason on stderr. */
static int
floor_attach(void)
{
	struct bpf_insn insn[2];
	union bpf_attr a;
	char cg[512], log[4096] = "";
	int prog, cgfd, link;

	memset(insn, 0, sizeof(insn));
	insn[0].code = BPF_ALU64 | BPF_MOV | BPF_K;     /* r0 = 1: allow */
	insn[0].dst_reg = BPF_REG_0;
	insn[0].imm = 1;
	insn[1].code = BPF_JMP | BPF_EXIT;              /* return r0 */
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	a.expected_attach_type = BPF_CGROUP_INET4_CONNECT;
	a.insns = (uint64_t)(uintptr_t)insn;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	snprintf(a.prog_name, sizeof(a.prog_name), "bench_empty");
	if ((prog = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a))) < 0) {
		fprintf(stderr, "bench: empty connect4 program refused: %s\n%s\n",
		    strerror(errno), log);
		return -1;
	}
	if (floor_cgroup2(cg, sizeof(cg)) < 0 ||
	    (cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "bench: no cgroup2 mount for the empty program\n");
		close(prog);
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_fd = (uint32_t)cgfd;
	a.link_create.attach_type = BPF_CGROUP_INET4_CONNECT;
	link = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (link < 0)
		fprintf(stderr, "bench: link the empty program to %s: %s\n", cg,
		    strerror(errno));
	close(cgfd);
	close(prog);
	return link;
}

#endif
