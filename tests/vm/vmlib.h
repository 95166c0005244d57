/* Helpers of the make test-vm client; see vmlib.c. */
#ifndef VMLIB_H
#define VMLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* Seconds on CLOCK_MONOTONIC. */
double now(void);

struct reply {
	int status;
	char *body;     /* malloc'd */
	json_t *json;   /* NULL when the body is no JSON */
};

/* method path (with body when not NULL) to 127.0.0.1:port over HTTP/1.0.
 * Returns 0 with r filled (free it with reply_free()), or -1. */
int http(int port, const char *method, const char *path, const char *body,
    struct reply *r);
void reply_free(struct reply *r);

/* The ids of every BPF program in the kernel (at most max), or -1. */
int prog_ids(uint32_t *ids, int max);
int has_id(const uint32_t *ids, int n, uint32_t id);

/* How many seccomp records (audit type 1326) of process pid the kernel
 * log holds, each printed as a VMFAIL line when show; -1 on error. */
int denials(int pid, int show);
/* 1 when a deliberate denial of a child's own shows in the kernel log. */
int denial_is_logged(void);

/* The value of key in /proc/pid/status into out; 0, or -1 if absent. */
int status_field(pid_t pid, const char *key, char *out, size_t n);
/* Bring lo up (a fresh guest's is down), with ::1. */
void loopback_up(void);

#endif
