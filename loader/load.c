/*
 * What the backends (and the batches) share, one floor below capture.c
 * so that none of them calls back into it: messages, program loading
 * with the verifier's log, tracepoint attachment, closing fds.  See
 * backend.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>

#include "loader/backend.h"
#include "loader/bpf.h"
#include "loader/sys.h"
#include "loader/tracefs.h"
#include "prog/asm.h"

void
ld_errf(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

const char *
ld_hint(int e)
{
	if (e == -EPERM || e == -EACCES)
		return " (run as root, or with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
	return "";
}

int
ld_load(const struct ld_env *env, unsigned type, unsigned attach,
    unsigned btf_id, const char *name, struct bpf_insn *insn, size_t n,
    char *err, size_t errlen)
{
	char *log = NULL;
	int fd;

	fd = ld_prog_load_attach(type, attach, btf_id, name, insn, n,
	    env->diag ? &log : NULL);
	if (fd < 0) {
		/* The whole story: the verifier's log and what it was given. */
		if (env->diag) {
			fprintf(env->diag, "ebpf-server: program %s rejected: %s\n"
			    "--- verifier log ---\n%s\n--- program (%zu "
			    "instructions) ---\n", name, strerror(-fd),
			    log ? log : "(none)", n);
			asm_dump(insn, n, env->diag);
		}
		ld_errf(err, errlen, "load BPF program %s: %s%s", name,
		    strerror(-fd), ld_hint(fd));
	}
	free(log);
	return fd;
}

int
ld_tp_attach(const char *tracefs, const char *cat, const char *name,
    int prog_fd, char *err, size_t errlen)
{
	struct perf_event_attr attr;
	int id, fd, e;

	id = ld_tp_id(tracefs, cat, name);
	if (id < 0) {
		ld_errf(err, errlen, "tracepoint %s:%s: %s", cat, name,
		    id == -ENOENT ? "not found (kernel without "
		    "CONFIG_FTRACE_SYSCALLS?)" : strerror(-id));
		return id;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = (uint64_t)id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	/* One event on CPU 0 for all tasks: the program hangs off the
	 * tracepoint itself and runs on every CPU. */
	fd = sys_perf_event_open(&attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		ld_errf(err, errlen, "perf_event_open %s:%s: %s%s", cat, name,
		    strerror(-fd), ld_hint(fd));
		return fd;
	}
	if ((e = sys_ioctl(fd, PERF_EVENT_IOC_SET_BPF, (unsigned long)prog_fd)) < 0 ||
	    (e = sys_ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) < 0) {
		ld_errf(err, errlen, "attach to %s:%s: %s%s", cat, name,
		    strerror(-e), ld_hint(e));
		sys_close(fd);
		return e;
	}
	return fd;
}

static void *
close_one(void *arg)
{
	sys_close((int)(intptr_t)arg);
	return NULL;
}

void
ld_close_parallel(int *fds, int n)
{
	pthread_t t[LD_CLOSE_MAX];
	int started[LD_CLOSE_MAX] = { 0 };
	int i;

	/* One thread per fd (the sandbox allows threads): grace periods
	 * overlap instead of adding up. */
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (i < LD_CLOSE_MAX && pthread_create(&t[i], NULL, close_one,
		    (void *)(intptr_t)fds[i]) == 0)
			started[i] = 1;
		else
			sys_close(fds[i]);
	}
	for (i = 0; i < n && i < LD_CLOSE_MAX; i++)
		if (started[i])
			pthread_join(t[i], NULL);
	for (i = 0; i < n; i++)
		fds[i] = -1;
}

void
ld_close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			sys_close(fds[i]);
		fds[i] = -1;
	}
}
