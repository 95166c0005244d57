/* bpf(2) commands: maps, program load and links. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "loader/bpf.h"
#include "loader/sys.h"

#define LOG_MIN (64 * 1024)
#define LOG_MAX (16 * 1024 * 1024)

static void
setname(char *dst, const char *name)
{
	if (name)
		strncpy(dst, name, BPF_OBJ_NAME_LEN - 1);
}

int
ld_map_create(unsigned type, const char *name, unsigned key_size,
    unsigned value_size, unsigned max_entries)
{
	union bpf_attr attr;

	/* Zero all of it: the kernel rejects non-zero bytes past the fields
	 * of the command, padding included. */
	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = max_entries;
	setname(attr.map_name, name);
	return sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
}

int
ld_map_update(int fd, const void *key, const void *value, uint64_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	attr.flags = flags;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr));
}

static int
load(unsigned type, unsigned attach, unsigned btf_id, const char *name,
    const struct bpf_insn *insn, size_t n, char *log, size_t logsz)
{
	union bpf_attr attr;
	int fd, tries = 0;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.expected_attach_type = attach;
	attr.attach_btf_id = btf_id;
	attr.insns = (uint64_t)(uintptr_t)insn;
	attr.insn_cnt = (uint32_t)n;
	/* GPL-compatible: the helpers we call (probe_read_kernel,
	 * perf_event_output) are GPL-only. */
	attr.license = (uint64_t)(uintptr_t)"Dual MIT/GPL";
	setname(attr.prog_name, name);
	if (log) {
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)logsz;
		attr.log_level = 1;
		log[0] = '\0';
	}
	/* The verifier may return EAGAIN when interrupted; libbpf retries. */
	do
		fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
	while (fd == -EAGAIN && ++tries < 5);
	return fd;
}

int
ld_prog_load_attach(unsigned type, unsigned attach, unsigned btf_id,
    const char *name, const struct bpf_insn *insn, size_t n, char **logp)
{
	size_t sz;
	char *log = NULL;
	int fd, err;

	if (logp)
		*logp = NULL;
	fd = load(type, attach, btf_id, name, insn, n, NULL, 0);
	if (fd >= 0 || logp == NULL)
		return fd;
	err = fd;
	/* Load again with the verifier log, growing the buffer until the
	 * whole log fits. */
	for (sz = LOG_MIN; sz <= LOG_MAX; sz *= 4) {
		char *p = realloc(log, sz);

		if (p == NULL)
			break;
		log = p;
		fd = load(type, attach, btf_id, name, insn, n, log, sz);
		if (fd >= 0) {
			/* Loaded this time after all. */
			free(log);
			return fd;
		}
		if (fd != -ENOSPC) {
			err = fd;
			break;
		}
	}
	*logp = log;
	return err;
}

int
ld_link_create(int prog_fd, int target_fd, unsigned attach)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (uint32_t)prog_fd;
	attr.link_create.target_fd = (uint32_t)target_fd;
	attr.link_create.attach_type = attach;
	return sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

int
ld_tracing_attach(int prog_fd, unsigned attach)
{
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (uint32_t)prog_fd;
	attr.link_create.attach_type = attach;
	if ((fd = sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr))) >= 0 ||
	    (fd != -EINVAL && fd != -EOPNOTSUPP))
		return fd;
	/* Kernels whose BPF_LINK_CREATE does not take tracing programs
	 * attach them through BPF_RAW_TRACEPOINT_OPEN, which returns a link
	 * too. */
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = (uint32_t)prog_fd;
	return sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
}

int
ld_map_lookup(int fd, const void *key, void *value)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)fd;
	attr.key = (uint64_t)(uintptr_t)key;
	attr.value = (uint64_t)(uintptr_t)value;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr));
}

