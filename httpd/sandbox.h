/*
 * Privilege drop after setup, in the manner of OpenBSD's daemons and
 * OpenSSH's seccomp sandbox: no capabilities, no way to gain any, and a
 * deny-by-default system call allow-list on every thread.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The user and group the server runs as after setup: a uid of its own,
 * shared with no other daemon (which could then signal it, ptrace it or
 * prlimit it).  The system user SANDBOX_USER when the host has one (make
 * install creates it where useradd or adduser exists); else
 * SANDBOX_UID:SANDBOX_GID, the highest id that is safe for signed
 * handling (2^31 - 2), which no distribution assigns and which user
 * namespaces' usual ranges leave alone.
 */
#define SANDBOX_USER "ebpf-server"
#define SANDBOX_UID 2147483646
#define SANDBOX_GID 2147483646

/* The uid and gid sandbox_enter() takes (known after sandbox_prepare()). */
void sandbox_ids(uid_t *uid, gid_t *gid);

/*
 * What must happen while the process is still single-threaded, before
 * civetweb starts its workers: drop supplementary groups (musl before
 * 1.2.4 changes them on the calling thread only) and seed jansson's hash
 * function, which would otherwise read /dev/urandom on first use, after
 * the sandbox is in place.  Started without root but with capabilities
 * (CAP_BPF, CAP_PERFMON, ...), there is no uid change to clear the other
 * threads' capabilities later, so they are dropped here, before the
 * threads exist, except CAP_NET_BIND_SERVICE when keep_bind (a port below
 * 1024 is still to be bound).  Returns 0 or -errno with a message in err.
 */
int sandbox_prepare(int keep_bind, char *err, size_t errlen);

/*
 * Enter the sandbox, on every thread of the process: become sandbox_ids() (which
 * clears every capability set on every thread: the C library applies
 * set*id() to all threads), empty the bounding and ambient sets, set
 * PR_SET_NO_NEW_PRIVS, and install the seccomp filter with
 * SECCOMP_FILTER_FLAG_TSYNC.  A system call outside the allow-list fails
 * with EPERM instead of killing the server.  verbose also asks the kernel
 * to log each denied call (SECCOMP_FILTER_FLAG_LOG: see the audit log or
 * dmesg).  connect_fd >= 0 is the one socket connect() is allowed on
 * (the capture's batch flush, which also needs sched_setaffinity() of the
 * calling thread); -1: connect() on none.  Returns 0 or -errno with a
 * message in err.
 */
int sandbox_enter(int verbose, int connect_fd, char *err, size_t errlen);

/*
 * The fleet exporter (httpd/export.c) opens sockets of its own after the
 * sandbox is in place.  Called before sandbox_enter(), sandbox_open_net()
 * adds socket() (IPv4, IPv6, unix; stream or datagram) and connect() on
 * any fd to the filter of every thread.  sandbox_close_net() then takes
 * both away again from the calling thread (connect() stays allowed on
 * the flush socket): main calls it on the reader, and each civetweb
 * worker on its first connection, so that only the exporter's threads
 * (and civetweb's accepting thread) keep them.  It returns 0 at once
 * when there is nothing to take away (no exporter, no sandbox yet, done
 * already), else 0 or -errno.
 */
void sandbox_open_net(void);
int sandbox_close_net(void);

/* Whether the process is root, or holds the capabilities loading and
 * attaching need (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN): checked
 * first, so that the user gets one clear message instead of an EPERM
 * from deep inside.  1 or 0. */
int sandbox_privileged(void);

/* The number of system calls the filter allows, for the log. */
size_t sandbox_allowed(void);

#endif
