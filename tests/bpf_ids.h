/*
 * The tests' one walk of the kernel's BPF object ids, for the integration
 * tests, the benchmarks and the qemu guests' client alike:
 *
 *	for (id = 0; bpf_next_id(BPF_PROG_GET_NEXT_ID, &id) == 0;)
 *		...
 */
#ifndef TESTS_BPF_IDS_H
#define TESTS_BPF_IDS_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

/* BPF_PROG_GET_NEXT_ID or BPF_LINK_GET_NEXT_ID (cmd): the id after *id
 * into *id and 0, or -errno (-ENOENT past the last). */
static inline int
bpf_next_id(int cmd, uint32_t *id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.start_id = *id;
	if (syscall(__NR_bpf, cmd, &attr, sizeof(attr)) < 0)
		return -errno;
	*id = attr.next_id;
	return 0;
}

#endif
