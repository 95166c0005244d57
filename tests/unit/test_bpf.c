/*
 * Unit tests for loader/bpf.c through a sys_bpf() seam: bpf.c is included
 * with sys_bpf renamed to fake_bpf(), which plays a kernel that answers
 * EAGAIN (the verifier interrupted), ENOSPC (the log buffer too small) or
 * a rejection, and records what each call was given.
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

#include <linux/bpf.h>

#define sys_bpf fake_bpf
#include "../../loader/bpf.c"
#undef sys_bpf

#define MAXCALL 16

/* The script: what the nth BPF_PROG_LOAD returns. */
static int answer[MAXCALL];
static int nanswer;
/* What each call was given. */
static struct {
	int cmd;
	uint32_t log_size, log_level;
	int has_log;
	char name[BPF_OBJ_NAME_LEN];
	uint32_t attach, btf_id;
	int zero_tail;          /* every byte past the fields is zero */
} call[MAXCALL];
static int ncall;

int
fake_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
	size_t i, end = offsetof(union bpf_attr, attach_btf_id) +
	    sizeof(attr->attach_btf_id);
	int r;

	assert_int_equal(size, sizeof(*attr));
	assert_true(ncall < MAXCALL);
	call[ncall].cmd = cmd;
	call[ncall].log_size = attr->log_size;
	call[ncall].log_level = attr->log_level;
	call[ncall].has_log = attr->log_buf != 0;
	memcpy(call[ncall].name, attr->prog_name, sizeof(attr->prog_name));
	call[ncall].attach = attr->expected_attach_type;
	call[ncall].btf_id = attr->attach_btf_id;
	call[ncall].zero_tail = 1;
	for (i = end; i < sizeof(*attr); i++)
		if (((const unsigned char *)attr)[i])
			call[ncall].zero_tail = 0;
	r = ncall < nanswer ? answer[ncall] : -EINVAL;
	/* A rejection with the log on writes the log. */
	if (r < 0 && r != -ENOSPC && r != -EAGAIN && attr->log_buf)
		snprintf((char *)(uintptr_t)attr->log_buf, attr->log_size,
		    "0: R1 invalid mem access 'scalar'");
	ncall++;
	return r;
}

static void
script(int n, ...)
{
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		answer[i] = va_arg(ap, int);
	va_end(ap);
	nanswer = n;
	ncall = 0;
	memset(call, 0, sizeof(call));
}

static const struct bpf_insn prog[2] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int
load_it(char **log)
{
	return ld_prog_load_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, 1234,
	    "es_test", prog, 2, log);
}

/* EAGAIN is retried, up to five loads; the fields reach the kernel and
 * the rest of the attr is zero. */
static void
test_eagain_retried(void **state)
{
	char *log = (char *)1;

	(void)state;
	script(3, -EAGAIN, -EAGAIN, 7);
	assert_int_equal(load_it(&log), 7);
	assert_null(log);
	assert_int_equal(ncall, 3);
	assert_int_equal(call[0].cmd, BPF_PROG_LOAD);
	assert_string_equal(call[2].name, "es_test");
	assert_int_equal(call[2].attach, BPF_TRACE_FEXIT);
	assert_int_equal(call[2].btf_id, 1234);
	assert_int_equal(call[2].has_log, 0);
	assert_int_equal(call[2].log_level, 0);
	assert_true(call[2].zero_tail);

	/* Interrupted every time: given up after five loads. */
	script(10, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN,
	    -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN, -EAGAIN);
	assert_int_equal(load_it(NULL), -EAGAIN);
	assert_int_equal(ncall, 5);
}

/* A rejection is loaded again with the log on, the buffer four times
 * larger after each ENOSPC, and the whole log comes back. */
static void
test_enospc_grows_log(void **state)
{
	char *log = NULL;

	(void)state;
	script(4, -EACCES, -ENOSPC, -ENOSPC, -EACCES);
	assert_int_equal(load_it(&log), -EACCES);
	assert_int_equal(ncall, 4);
	assert_int_equal(call[0].has_log, 0);
	assert_int_equal(call[1].log_size, LOG_MIN);
	assert_int_equal(call[1].log_level, 1);
	assert_int_equal(call[2].log_size, LOG_MIN * 4);
	assert_int_equal(call[3].log_size, LOG_MIN * 16);
	assert_non_null(log);
	assert_string_equal(log, "0: R1 invalid mem access 'scalar'");
	free(log);

	/* Never enough room: it stops at LOG_MAX and keeps the first error. */
	script(8, -EPERM, -ENOSPC, -ENOSPC, -ENOSPC, -ENOSPC, -ENOSPC,
	    -ENOSPC, -ENOSPC);
	assert_int_equal(load_it(&log), -EPERM);
	assert_int_equal(call[ncall - 1].log_size, LOG_MAX);
	assert_int_equal(ncall, 6);
	free(log);

	/* Without a log pointer, no second load. */
	script(1, -EACCES);
	assert_int_equal(load_it(NULL), -EACCES);
	assert_int_equal(ncall, 1);
}

/* Loaded on the second try (the log load): the fd, and no log. */
static void
test_loads_with_log(void **state)
{
	char *log = (char *)1;

	(void)state;
	script(2, -EINVAL, 9);
	assert_int_equal(load_it(&log), 9);
	assert_null(log);
	assert_int_equal(call[1].log_level, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eagain_retried),
		cmocka_unit_test(test_enospc_grows_log),
		cmocka_unit_test(test_loads_with_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
