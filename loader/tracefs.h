/* tracefs: where it is, tracepoint ids and record layouts. */
#ifndef LD_TRACEFS_H
#define LD_TRACEFS_H

#include <stddef.h>

/*
 * Find tracefs (/sys/kernel/tracing, then /sys/kernel/debug/tracing); when
 * neither has events/, mount tracefs at /sys/kernel/tracing.  Returns 0 and
 * the directory in dir, 1 if we mounted it, or -errno.
 */
int ld_tracefs_find(char *dir, size_t n);

/* Id of tracepoint group:name.  Returns id >= 0 or -errno (-ENOENT when the
 * tracepoint does not exist). */
int ld_tp_id(const char *tracefs, const char *group, const char *name);

/*
 * Offset and size of field in the tracepoint's format file.  Returns 0,
 * -ENOENT if absent, other -errno on read errors.
 */
int ld_tp_field(const char *tracefs, const char *group, const char *name,
    const char *field, int *off, int *size);

/* Parse the text of a format file (exposed for tests). */
int ld_tp_format_field(const char *text, const char *field, int *off, int *size);

#endif
