/*
 * What the make test-vm client (client.c) needs beyond its own checks:
 * HTTP over loopback, the kernel's list of BPF programs, its log's
 * seccomp records, /proc/<pid>/status, and the loopback device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <jansson.h>

#include "tests/bpf_ids.h"
#include "tests/vm/vmlib.h"

double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- HTTP over loopback ---------------------------------------------- */

void
reply_free(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* GET path (or POST body when body != NULL); HTTP/1.0, so the server
 * closes and the body is everything after the headers. */
int
http(int port, const char *method, const char *path, const char *body,
    struct reply *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char req[1024], *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (void *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    method, path, body ? strlen(body) : 0, body ? body : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 65536;
			if (!(p = realloc(buf, cap))) {
				free(buf);
				close(fd);
				return -1;
			}
			buf = p;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf)
		return -1;
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1 ||
	    !(p = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return -1;
	}
	r->body = strdup(p + 4);
	free(buf);
	r->json = json_loads(r->body, 0, NULL);
	return 0;
}

/* --- the kernel's view --------------------------------------------- */

/* The ids of every BPF program loaded into the kernel. */
int
prog_ids(uint32_t *ids, int max)
{
	uint32_t id = 0;
	int n = 0, e;

	while ((e = bpf_next_id(BPF_PROG_GET_NEXT_ID, &id)) == 0)
		if (n < max)
			ids[n++] = id;
	return e == -ENOENT ? n : -1;
}

int
has_id(const uint32_t *ids, int n, uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* The kernel log into a malloc'd string. */
static char *
klog(void)
{
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *b;

	if (n <= 0)
		n = 1 << 20;
	if (!(b = malloc((size_t)n + 1)))
		return NULL;
	if ((n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, b, n)) < 0) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	return b;
}

/* How many seccomp records (audit type 1326) of process pid the kernel
 * log holds; each is printed when show. */
int
denials(int pid, int show)
{
	char *log = klog(), *line, *end, pat[32];
	int n = 0;

	if (!log)
		return -1;
	snprintf(pat, sizeof(pat), " pid=%d ", pid);
	for (line = log; *line; line = end + 1) {
		if (!(end = strchr(line, '\n')))
			end = line + strlen(line);
		if (memmem(line, (size_t)(end - line), "type=1326", 9) &&
		    memmem(line, (size_t)(end - line), pat, strlen(pat))) {
			if (show)
				printf("VMFAIL denied: %.*s\n", (int)(end - line), line);
			n++;
		}
		if (!*end)
			break;
	}
	free(log);
	return n;
}

/* A child denied getppid() by its own logging filter: the kernel log
 * must show it, or the absence of the server's denials proves nothing. */
int
denial_is_logged(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	pid_t pid;
	int st, i;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_LOG, &prog) < 0)
			_exit(2);
		_exit(syscall(__NR_getppid) < 0 && errno == EPERM ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return 0;
	/* The record goes out through kauditd: give it a moment. */
	for (i = 0; i < 50; i++) {
		if (denials(pid, 0) > 0)
			return 1;
		usleep(100000);
	}
	return 0;
}

/* The loopback device is down in a fresh guest. */
void
loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
		sleep(1); /* ::1 is added when lo comes up */
	}
	close(fd);
}

int
status_field(pid_t pid, const char *key, char *out, size_t n)
{
	char path[64], line[256];
	FILE *f;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			char *v = line + strlen(key) + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, n, "%s", v);
			found = 0;
		}
	fclose(f);
	return found;
}
