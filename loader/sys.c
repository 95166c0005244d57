/* The loader's system calls: thin wrappers returning -errno. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>


#include "loader/sys.h"

int
sys_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
	long r = syscall(__NR_bpf, cmd, attr, size);

	return r < 0 ? -errno : (int)r;
}

int
sys_perf_event_open(struct perf_event_attr *attr, int pid, int cpu,
    int group_fd, unsigned long flags)
{
	long r = syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);

	return r < 0 ? -errno : (int)r;
}

int
sys_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

void *
sys_mmap_shared(size_t len, int fd)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

int
sys_munmap(void *p, size_t len)
{
	return munmap(p, len) < 0 ? -errno : 0;
}

int
sys_mount_tracefs(const char *dir)
{
	return mount("tracefs", dir, "tracefs", 0, NULL) < 0 ? -errno : 0;
}

int
sys_mount_cgroup2(const char *dir)
{
	return mount("cgroup2", dir, "cgroup2", 0, NULL) < 0 ? -errno : 0;
}

int
sys_open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int
sys_close(int fd)
{
	return close(fd) < 0 ? -errno : 0;
}

int
sys_epoll_create(void)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int
sys_epoll_add(int epfd, int fd, unsigned tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int
sys_epoll_wait(int epfd, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(epfd, ev, 64, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n;
}

int
sys_udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int
sys_connect_lo(int fd, unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? -errno : 0;
}

int
sys_socket_cookie(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0 ? -errno : 0;
}

int
sys_get_affinity(void *set)
{
	return sched_getaffinity(0, sizeof(cpu_set_t), set) < 0 ? -errno : 0;
}

int
sys_set_affinity(const void *set)
{
	return sched_setaffinity(0, sizeof(cpu_set_t), set) < 0 ? -errno : 0;
}
