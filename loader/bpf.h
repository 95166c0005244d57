/* bpf(2) commands the server uses, in the manner of libbpf's bpf.c. */
#ifndef LD_BPF_H
#define LD_BPF_H

#include <stddef.h>
#include <stdint.h>

struct bpf_insn;

/* Create a map.  Returns its fd or -errno. */
int ld_map_create(unsigned type, const char *name, unsigned key_size,
    unsigned value_size, unsigned max_entries);

/* Returns 0 or -errno. */
int ld_map_update(int fd, const void *key, const void *value, uint64_t flags);

/*
 * Load a program of type, with expected_attach_type attach (which cgroup
 * socket-address programs need: BPF_CGROUP_INET4_CONNECT, ...; 0 for
 * none) and for tracing programs the BTF id of the kernel function they
 * attach to (0: none).  Returns its fd or -errno.  EAGAIN (the verifier
 * interrupted) is retried.  On failure, when log is not NULL, the load is
 * retried with the verifier log on (the buffer grows on ENOSPC) and *log
 * receives the whole log, NUL-terminated, to be freed by the caller.
 */
int ld_prog_load_attach(unsigned type, unsigned attach, unsigned btf_id,
    const char *name, const struct bpf_insn *insn, size_t n, char **log);

/* Attach a BPF_PROG_TYPE_TRACING program (fentry/fexit) to the function
 * it was loaded for, with a link.  Returns the link fd or -errno. */
int ld_tracing_attach(int prog_fd, unsigned attach);

/* Attach prog_fd to target_fd (a cgroup directory, ...) with a link: it
 * dies with its last fd, so nothing stays attached after a crash.  Returns
 * the link fd or -errno. */
int ld_link_create(int prog_fd, int target_fd, unsigned attach);

/* Look key up in map fd into value (of a per-CPU map: one value per
 * possible CPU, each rounded up to 8 bytes).  Returns 0 or -errno. */
int ld_map_lookup(int fd, const void *key, void *value);

#endif
