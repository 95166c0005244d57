/*
 * The loader's kernel-facing system calls (bpf(), perf_event_open() and
 * the ioctls on their fds) go through here, in one place, so that a test
 * can replace them: tests/unit/test_bpf.c includes bpf.c with sys_bpf
 * renamed to a fake kernel that answers EAGAIN, ENOSPC or a rejection.
 * The other unit tests feed the pure parts (ring.c on a fake mmap page,
 * btf.c and tracefs.c on buffers).  ring.c, tracefs.c and btf.c make
 * their plain file calls (open, read, mmap) themselves.  All return the
 * result (an fd, 0, or a pointer) or -errno.
 */
#ifndef SYS_H
#define SYS_H

#include <stddef.h>
#include <stdint.h>

union bpf_attr;
struct perf_event_attr;

int sys_bpf(int cmd, union bpf_attr *attr, unsigned size);
int sys_perf_event_open(struct perf_event_attr *attr, int pid, int cpu,
    int group_fd, unsigned long flags);
int sys_ioctl(int fd, unsigned long req, unsigned long arg);
/* Returns the mapping or NULL (errno set). */
void *sys_mmap_shared(size_t len, int fd);
int sys_munmap(void *p, size_t len);
int sys_mount_tracefs(const char *dir);
int sys_mount_cgroup2(const char *dir);
/* open(path, O_RDONLY | O_DIRECTORY): returns the fd. */
int sys_open_dir(const char *path);
int sys_close(int fd);
/* epoll: create, add fd with EPOLLIN and data.u32 = tag, wait (returns the
 * number of ready fds, 0 on time-out or EINTR). */
int sys_epoll_create(void);
int sys_epoll_add(int epfd, int fd, unsigned tag);
int sys_epoll_wait(int epfd, int timeout_ms);

/* The reader's batch flush (loader/capture.c): a UDP socket, a connect()
 * of it to 127.0.0.1:port (a UDP connect sends nothing), and the calling
 * thread's CPU affinity (sched_getaffinity/sched_setaffinity with pid 0).
 * set is a cpu_set_t of CPU_SETSIZE bits. */
int sys_udp_socket(void);
int sys_connect_lo(int fd, unsigned port);
/* The socket's cookie (getsockopt SO_COOKIE), what bpf_get_socket_cookie()
 * returns for it in a program.  0 or -errno. */
int sys_socket_cookie(int fd, uint64_t *cookie);
int sys_get_affinity(void *set);
int sys_set_affinity(const void *set);

#endif
