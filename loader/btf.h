/* A small reader for the kernel's BTF (/sys/kernel/btf/vmlinux): just
 * enough to find the byte offset of a struct member and the ids of a
 * function or a struct. */
#ifndef LD_BTF_H
#define LD_BTF_H

#include <stddef.h>

struct btf;

/* Where the running kernel's BTF is. */
#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"

/* Parse BTF from a buffer (copied).  Returns 0 and *out, or -EINVAL for a
 * malformed blob, -ENOMEM. */
int ld_btf_parse(const void *data, size_t len, struct btf **out);
/* Read and parse a file.  Returns 0 or -errno. */
int ld_btf_load(const char *path, struct btf **out);
void ld_btf_free(struct btf *b);

/*
 * Byte offset and size of member `member` of `struct sname`, looking through
 * anonymous structs and unions.  Returns 0, -ENOENT when the struct or
 * member does not exist, -EOPNOTSUPP for a bitfield.
 */
int ld_btf_member(const struct btf *b, const char *sname, const char *member,
    int *off, int *size);

/* The type id of function `name` (BTF_KIND_FUNC), for attaching fentry/
 * fexit programs, and its number of arguments in *nargs.  Returns the id,
 * -ENOENT when there is no such function. */
int ld_btf_func(const struct btf *b, const char *name, int *nargs);

/* The type id of `struct name` (BTF_KIND_STRUCT), for bpf_rdonly_cast().
 * Returns the id, -ENOENT when there is none. */
int ld_btf_struct(const struct btf *b, const char *name);

#endif
