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
 * Load a program.  Returns its fd or -errno.  On failure, when log is not
 * NULL, the load is retried with the verifier log on (the buffer grows on
 * ENOSPC) and *log receives the whole log, NUL-terminated, to be freed by
 * the caller.
 */
int ld_prog_load(unsigned type, const char *name, const struct bpf_insn *insn,
    size_t n, char **log);

#endif
