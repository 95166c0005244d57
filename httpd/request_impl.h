/*
 * What the three files of request parsing share, all of it in filter.c,
 * the one below request.c (JSON bodies) and qs.c (query strings);
 * everyone else sees request.h.
 */
#ifndef REQUEST_IMPL_H
#define REQUEST_IMPL_H

#include <stddef.h>

struct req_filter;

/* Write the message for the client into err and return -EINVAL, so that
 * every error path is one line. */
int req_reject(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A decimal query value in [min, max] into *out; 0 or -EINVAL. */
int req_query_uint(const char *name, const char *s, unsigned long min,
    unsigned long max, unsigned long *out, char *err, size_t errlen);

/* A command name of n bytes (1 to REQ_COMM_MAX, no NUL) into out, field
 * naming it in the message; 0 or
 * -EINVAL. */
int req_check_name(const char *field, const char *s, size_t n, char *out,
    char *err, size_t errlen);

/* The names of the shared filters, and whether name is one. */
#define REQ_NFILTER 7
extern const char *const req_filter_names[REQ_NFILTER];
int req_is_filter(const char *name);

/* Filter name = v (its query-string spelling) into f; 0 or -EINVAL. */
int req_filter_parse(struct req_filter *f, const char *name, const char *v,
    char *err, size_t errlen);

#endif
