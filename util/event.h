/* Connection events: the decoded form the store and the HTTP API use of
 * the record the BPF programs write (prog/abi.h; loader/decode.c decodes
 * it). */
#ifndef EVENT_H
#define EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "prog/abi.h"

#define EV_PATH_MAX 108   /* sizeof(sun_path) */

/* What became of a call, for the "result" field. */
enum ev_result {
	EV_RESULT_UNKNOWN = 0,
	EV_RESULT_OK,
	EV_RESULT_REFUSED,
	EV_RESULT_TIMEOUT,
	EV_RESULT_RESET,
	EV_RESULT_ERROR,        /* failed otherwise (ret has the errno) */
	EV_RESULT_PENDING,      /* in progress; internal, shown as unknown */
};

/*
 * A decoded event.  Addresses are in host order where numeric, the unix path
 * is NUL-terminated ('@' first for abstract names, as ss(8) prints them).
 */
struct event {
	uint64_t ts;            /* wall clock, ns since the epoch (UTC) */
	uint64_t cgroup_id;
	uint32_t pid, tid, ppid, uid, gid;
	int32_t ret;            /* meaningless when ret_unknown */
	uint32_t count;
	uint8_t ret_unknown;    /* the backend does not see return codes */
	uint8_t result;         /* enum ev_result */
	uint16_t family;        /* AF_INET, AF_INET6, AF_UNIX, or other */
	uint16_t port;          /* host order; 0 for unix */
	uint16_t sock_type;     /* SOCK_* or EV_UNKNOWN */
	uint16_t protocol;      /* IPPROTO_* (0 for unix) or EV_UNKNOWN */
	uint8_t syscall;        /* enum ev_syscall */
	char comm[EV_COMM_LEN]; /* raw kernel bytes, NUL-terminated */
	uint8_t ip[16];         /* v4 in the first 4 bytes, network order */
	char path[EV_PATH_MAX + 2]; /* unix only */
};

/* Names for the JSON fields.  Never NULL. */
const char *ev_family_name(const struct event *ev);   /* "AF_INET", ... */
const char *ev_protocol_name(const struct event *ev); /* "TCP", "UDP", "UNIX", ... */

/* The protocol names, the one table of them: ev_protocol() is the index
 * of ev's in ev_protocols[] (EV_NPROTO - 1 is "UNKNOWN"), for counting. */
#define EV_NPROTO 8
extern const char *const ev_protocols[EV_NPROTO];
unsigned ev_protocol(const struct event *ev);
const char *ev_type_name(const struct event *ev);     /* "STREAM", "DGRAM", ... */
const char *ev_syscall_name(const struct event *ev);  /* "connect", ... */
/* 1 when an event of syscall have matches a filter for want: the same
 * call, or a datagram of unknown call (EV_SEND) for sendto or sendmsg. */
int ev_syscall_matches(unsigned want, unsigned have);
const char *ev_result_name(const struct event *ev);   /* "ok", "refused", ... */
/* Whether a call failed: its return code when known, else its result. */
int ev_failed(int32_t ret, int ret_unknown, uint8_t result);
/* The result a return code means for call (enum ev_syscall). */
uint8_t ev_result_of(int syscall, int32_t ret);
/* The result of a connect that failed with err (a positive errno). */
uint8_t ev_result_of_errno(int err);
/* Application protocol guessed from the port only ("http", "dns", ...), "" if none. */
const char *ev_service(const struct event *ev);

/*
 * Formatting into caller buffers; each returns the length written (like
 * snprintf, truncating).  destination is "1.2.3.4:80", "[::1]:80" or the
 * unix path; ip is "1.2.3.4", "::1" or "".
 */
int ev_destination(const struct event *ev, char *buf, size_t n);
int ev_ip(const struct event *ev, char *buf, size_t n);

#endif
