/*
 * The test client inside a qemu guest (make test-vm): static, built with
 * the same cross musl toolchain as the server, and alone with it and
 * busybox in the guest.  For one backend it
 *
 *   - starts /bin/ebpf-server as a user would (-backend NAME -v), after
 *     making a socket the server never saw being created;
 *   - makes every kind of event the integration tests make, from a child
 *     in its own cgroup: TCP v4 ok and refused, TCP v6, UDP connect to :80,
 *     TCP to :53, unix path and abstract, the old socket, sendto, sendmsg;
 *   - asks the server over HTTP on loopback and checks every field;
 *   - checks the sandbox (Seccomp: 2, no denial in the kernel log, which
 *     is first shown to record a deliberate one);
 *   - sends SIGTERM and checks exit 0 and that none of the server's BPF
 *     programs is left in the kernel.
 *
 * It prints "VMRESULT <backend> pass", "VMRESULT <backend> FAIL <why>" or
 * "VMRESULT <backend> skipped <the server's reason>" (the server exits 3
 * when the backend cannot run on this kernel); tests/vm/run.sh turns that
 * into the line make test-vm prints.
 *
 * The word after the backend is "btf" or "no-btf": whether this kernel
 * has /sys/kernel/btf/vmlinux.  /health's "exact_fields" says what the
 * backend knows exactly on this kernel (the tracepoint ones read socket
 * type, protocol and ppid from the kernel's structs, whose layout only BTF
 * gives), and "not_seen" what it misses; fields it does not claim alone
 * are not checked, every other is, and a claimed field must be right.
 *
 * usage: vmclient -backend NAME [-port N]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <jansson.h>

#include "tests/integration/paths.h"
#include "tests/vm/vmlib.h"

#define SERVER "/bin/ebpf-server"
#define COMM "vm-conn"
#define CGROUP "/sys/fs/cgroup/vmtest"
#define NEVENTS 10
#define MAX_IDS 256

static const char *backend;
static const char *asked;       /* -backend as given: "auto" stays so */
static int nobtf, port = 8080;
/* Fields /health's exact_fields does not claim: not checked. */
static int no_proto, no_ppid, no_ret, no_unix, no_syscall;
static char logpath[128];
static int failed;
static char first[256]; /* the first failure, for the result line */

static void
fail(const char *fmt, ...)
{
	va_list ap;

	printf("VMFAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!failed) {
		va_start(ap, fmt);
		vsnprintf(first, sizeof(first), fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	failed++;
}

/* --- the events ------------------------------------------------------ */

static int port4, port6, port_refused, port_udp;
static const char *upath = "/tmp/vm.sock", *abs_name = "vm-abs";
static int presock = -1;
static pid_t child;

static int
listener(int family, int type, void *addr, socklen_t len)
{
	int fd = socket(family, type, 0);

	if (fd < 0 || bind(fd, addr, len) < 0)
		return -1;
	if (type != SOCK_DGRAM && listen(fd, 16) < 0)
		return -1;
	return fd;
}

static int
bound_port(int fd)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (void *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin6_port); /* sin_port is at the same offset */
}

static void
do_connect(int family, int type, const void *addr, socklen_t len)
{
	int fd = socket(family, type, 0);

	connect(fd, addr, len);
	close(fd);
}

static socklen_t
sun_abstract(struct sockaddr_un *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	u->sun_family = AF_UNIX;
	memcpy(u->sun_path + 1, name, strlen(name));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

/* The child: its own cgroup and name, then the events, then exit. */
static void
events(void)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un u;
	struct msghdr mh = { 0 };
	struct iovec iov = { "x", 1 };
	socklen_t ulen;
	int fd;

	if ((fd = open(CGROUP "/cgroup.procs", O_WRONLY)) < 0 || write(fd, "0", 1) != 1)
		_exit(10);
	close(fd);
	prctl(PR_SET_NAME, COMM);
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	a4.sin_port = htons((uint16_t)port4);
	do_connect(AF_INET, SOCK_STREAM, &a4, sizeof(a4));
	a4.sin_port = htons((uint16_t)port_refused);
	do_connect(AF_INET, SOCK_STREAM, &a4, sizeof(a4));
	a6.sin6_port = htons((uint16_t)port6);
	do_connect(AF_INET6, SOCK_STREAM, &a6, sizeof(a6));
	a4.sin_port = htons(80);
	do_connect(AF_INET, SOCK_DGRAM, &a4, sizeof(a4));
	a4.sin_port = htons(53);
	do_connect(AF_INET, SOCK_STREAM, &a4, sizeof(a4));
	memset(&u, 0, sizeof(u));
	u.sun_family = AF_UNIX;
	strcpy(u.sun_path, upath);
	do_connect(AF_UNIX, SOCK_STREAM, &u, sizeof(u));
	ulen = sun_abstract(&u, abs_name);
	do_connect(AF_UNIX, SOCK_DGRAM, &u, ulen);
	a4.sin_port = htons(5353);
	connect(presock, (void *)&a4, sizeof(a4));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	a4.sin_port = htons((uint16_t)port_udp);
	sendto(fd, "x", 1, 0, (void *)&a4, sizeof(a4));
	close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	a6.sin6_port = htons(514);
	mh.msg_name = &a6;
	mh.msg_namelen = sizeof(a6);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	sendmsg(fd, &mh, 0);
	close(fd);
	_exit(0);
}

static int
make_events(void)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	int l4, l6, lu, la, lud, t, st;

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a6.sin6_addr = in6addr_loopback;
	if ((l4 = listener(AF_INET, SOCK_STREAM, &a4, sizeof(a4))) < 0 ||
	    (l6 = listener(AF_INET6, SOCK_STREAM, &a6, sizeof(a6))) < 0 ||
	    (lud = listener(AF_INET, SOCK_DGRAM, &a4, sizeof(a4))) < 0) {
		fail("listeners on loopback: %s", strerror(errno));
		return -1;
	}
	port4 = bound_port(l4);
	port6 = bound_port(l6);
	port_udp = bound_port(lud);
	/* A port that was free a moment ago: the connect is refused. */
	t = listener(AF_INET, SOCK_DGRAM, &a4, sizeof(a4));
	port_refused = bound_port(t);
	close(t);
	unlink(upath);
	strcpy(u.sun_path, upath);
	lu = listener(AF_UNIX, SOCK_STREAM, &u, sizeof(u));
	la = listener(AF_UNIX, SOCK_DGRAM, &u, sun_abstract(&u, abs_name));
	if (lu < 0 || la < 0) {
		fail("unix listeners: %s", strerror(errno));
		return -1;
	}
	if (mkdir(CGROUP, 0755) < 0 && errno != EEXIST) {
		fail("mkdir %s: %s", CGROUP, strerror(errno));
		return -1;
	}
	if ((child = fork()) == 0)
		events();
	if (child < 0 || waitpid(child, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fail("the child making the events failed (status %#x)", st);
		return -1;
	}
	close(l4);
	close(l6);
	close(lud);
	close(lu);
	close(la);
	unlink(upath);
	return 0;
}

/* --- checks ------------------------------------------------------------- */

static json_t *
find(json_t *arr, const char *syscall_, const char *dest)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		const char *d = json_string_value(json_object_get(e, "destination"));
		const char *s = json_string_value(json_object_get(e, "syscall"));

		/* A backend that cannot tell sendto from sendmsg says
		 * "sendto|sendmsg"; a connect is always known. */
		if (d && s && strcmp(d, dest) == 0 && (strcmp(s, syscall_) == 0 ||
		    (no_syscall && strcmp(syscall_, "connect") != 0 &&
		    strcmp(s, "sendto|sendmsg") == 0)))
			return e;
	}
	return NULL;
}

static void
want_str(json_t *e, const char *what, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(e, key));

	if (!v || strcmp(v, want) != 0)
		fail("%s: %s is \"%s\", want \"%s\"", what, key, v ? v : "(missing)", want);
}

static void
want_int(json_t *e, const char *what, const char *key, long long want)
{
	json_t *v = json_object_get(e, key);

	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail("%s: %s is %lld, want %lld", what, key,
		    json_is_integer(v) ? (long long)json_integer_value(v) : -999999LL, want);
}

#define EITHER 999 /* return code 0 or -111: connect to :53 */

/* One event, every field. */
static void
check(json_t *arr, const char *call, const char *dest, const char *ip,
    int dport, int family, const char *proto, const char *type,
    const char *service, int ret)
{
	json_t *e = find(arr, call, dest);
	const char *ts;
	char what[160];

	snprintf(what, sizeof(what), "%s %s", call, dest);
	if (!e) {
		fail("%s: no such event", what);
		return;
	}
	want_int(e, what, "pid", child);
	want_int(e, what, "tid", child);
	want_int(e, what, "uid", 0);
	want_int(e, what, "gid", 0);
	want_str(e, what, "command", COMM);
	want_str(e, what, "destination_ip", ip);
	want_int(e, what, "destination_port", dport);
	/* A number, as the original server sends it: 2, 10, 1. */
	want_int(e, what, "address_family", family);
	want_str(e, what, "service", service);
	want_int(e, what, "count", 1);
	want_str(e, what, "cgroup", "/vmtest");
	if (!json_is_integer(json_object_get(e, "cgroup_id")) ||
	    json_integer_value(json_object_get(e, "cgroup_id")) == 0)
		fail("%s: cgroup_id missing or 0", what);
	if (no_ret) {
		/* not claimed exact by this backend */
	} else if (ret != EITHER) {
		want_int(e, what, "return_code", ret);
	} else {
		json_int_t r = json_integer_value(json_object_get(e, "return_code"));

		if (r != 0 && r != -111)
			fail("%s: return_code %lld, want 0 or -111", what, (long long)r);
	}
	ts = json_string_value(json_object_get(e, "timestamp"));
	if (!ts || strlen(ts) < 20 || ts[4] != '-' || ts[10] != 'T' ||
	    ts[strlen(ts) - 1] != 'Z')
		fail("%s: timestamp \"%s\" is no RFC 3339 UTC time", what, ts ? ts : "");
	/* Unless /health says this kernel cannot give them. */
	if (!no_ppid)
		want_int(e, what, "ppid", getpid());
	if (!no_proto) {
		want_str(e, what, "protocol", proto);
		want_str(e, what, "socket_type", type);
	}
}

static void
check_events(json_t *arr)
{
	char d[64];

	snprintf(d, sizeof(d), "127.0.0.1:%d", port4);
	check(arr, "connect", d, "127.0.0.1", port4, 2, "TCP", "STREAM", "", 0);
	snprintf(d, sizeof(d), "127.0.0.1:%d", port_refused);
	check(arr, "connect", d, "127.0.0.1", port_refused, 2, "TCP", "STREAM", "", -111);
	snprintf(d, sizeof(d), "[::1]:%d", port6);
	check(arr, "connect", d, "::1", port6, 10, "TCP", "STREAM", "", 0);
	check(arr, "connect", "127.0.0.1:80", "127.0.0.1", 80, 2, "UDP", "DGRAM", "http", 0);
	check(arr, "connect", "127.0.0.1:53", "127.0.0.1", 53, 2, "TCP", "STREAM", "dns", EITHER);
	if (!no_unix) {
		check(arr, "connect", upath, "", 0, 1, "UNIX", "STREAM", "", 0);
		snprintf(d, sizeof(d), "@%s", abs_name);
		check(arr, "connect", d, "", 0, 1, "UNIX", "DGRAM", "", 0);
	}
	/* The socket made before the server started. */
	check(arr, "connect", "127.0.0.1:5353", "127.0.0.1", 5353, 2, "UDP", "DGRAM", "mdns", 0);
	snprintf(d, sizeof(d), "127.0.0.1:%d", port_udp);
	check(arr, "sendto", d, "127.0.0.1", port_udp, 2, "UDP", "DGRAM", "", 1);
	check(arr, "sendmsg", "[::1]:514", "::1", 514, 10, "UDP", "DGRAM", "syslog", 1);
	if (json_array_size(arr) != (size_t)(NEVENTS - 2 * no_unix))
		fail("%zu events, want %d", json_array_size(arr), NEVENTS - 2 * no_unix);
}

static void
show_log(void)
{
	char line[512];
	FILE *f = fopen(logpath, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("VMLOG %s", line);
	fclose(f);
}

/* The server's last line of output, without its name: why it stopped. */
static void
last_line(char *out, size_t n)
{
	char line[512];
	FILE *f = fopen(logpath, "r");

	snprintf(out, n, "no reason given");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		line[strcspn(line, "\n")] = '\0';
		if (!*p)
			continue;
		if (strncmp(p, "ebpf-server: ", 13) == 0)
			p += 13;
		snprintf(out, n, "%s", p);
	}
	fclose(f);
}

static pid_t
start_server(void)
{
	char portarg[32];
	pid_t pid;
	int fd;

	snprintf(portarg, sizeof(portarg), "127.0.0.1:%d", port);
	snprintf(logpath, sizeof(logpath), "/tmp/server-%s.log", backend);
	if ((pid = fork()) == 0) {
		if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execl(SERVER, SERVER, "-addr", portarg, "-backend", backend, "-v",
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The server's "kernel takes: ..." line (its feature probes), as a note
 * of what this guest's kernel gave. */
static void
note_kernel(void)
{
	char line[512];
	FILE *f;

	if ((f = fopen(logpath, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "kernel takes:")) {
			line[strcspn(line, "\n")] = '\0';
			printf("VMNOTE %s: %s\n", backend, strstr(line, "kernel takes:"));
			break;
		}
	fclose(f);
}

/*
 * The paths of tests/integration/paths.h, made by a child of their own
 * name: each recorded exactly or named in not_seen (ns), as itest_paths
 * asks on the build machine; this is the proof on each guest kernel.
 */
static void
check_paths(const char *ns)
{
	int pp[P_N], i, rc, l1, l2, p[2], uerr = 0, st;
	char q[128], key[32], why[1024];
	struct reply r;
	json_t *arr = NULL;
	pid_t c;
	double t0;

	for (i = 0; i < P_N; i++)
		pp[i] = 20000 + i;
	pp[P_URING_TCP] = it_paths_listener(&l1);
	pp[P_TFO] = it_paths_listener(&l2);
	if (pipe(p) < 0 || (c = fork()) < 0) {
		fail("paths: fork: %s", strerror(errno));
		return;
	}
	if (c == 0) {
		prctl(PR_SET_NAME, "vm-paths");
		uerr = it_paths_make(pp);
		write(p[1], &uerr, sizeof(uerr));
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &uerr, sizeof(uerr)) != sizeof(uerr))
		uerr = EIO;
	close(p[0]);
	waitpid(c, &st, 0);
	close(l1);
	close(l2);
	snprintf(q, sizeof(q), "/api/list-connections?pid=%d&limit=1000", (int)c);
	snprintf(key, sizeof(key), "%d", (int)c);
	memset(&r, 0, sizeof(r));
	for (t0 = now();; usleep(200000)) {
		reply_free(&r);
		if (http(port, "GET", q, NULL, &r) == 0 && r.status == 200)
			arr = json_object_get(json_object_get(r.json, "connections"), key);
		if (it_paths_done(arr, pp, ns) || now() - t0 > 10)
			break;
	}
	for (i = 0; i < P_N; i++) {
		if (i <= P_URING_SENDMSG && uerr) {
			printf("VMNOTE %s: %s not made: io_uring refused (%s)\n",
			    backend, it_paths[i].what, strerror(uerr));
			continue;
		}
		rc = it_paths_check(i, arr, pp, ns, "vm-paths", !no_syscall,
		    !no_proto, why, sizeof(why));
		if (rc < 0)
			fail("paths: %s", why);
		else if (rc == 0)
			printf("VMNOTE %s: %s not seen, as not_seen says\n",
			    backend, it_paths[i].what);
	}
	reply_free(&r);
}

static int
run(void)
{
	uint32_t before[MAX_IDS], during[MAX_IDS], after[MAX_IDS];
	int nbefore, nduring, nafter, st, i, ours = 0;
	char why[512], v[128], q[128], key[32], ns[4096];
	struct reply r;
	json_t *arr = NULL;
	pid_t srv;
	double t0;

	loopback_up();
	if (!denial_is_logged()) {
		fail("a deliberate seccomp denial does not show in the kernel log: "
		    "the sandbox check would be blind");
		return -1;
	}
	if ((nbefore = prog_ids(before, MAX_IDS)) < 0) {
		fail("BPF_PROG_GET_NEXT_ID: %s", strerror(errno));
		return -1;
	}
	/* Made before the server starts: its type must still be known. */
	presock = socket(AF_INET, SOCK_DGRAM, 0);
	if ((srv = start_server()) < 0) {
		fail("fork: %s", strerror(errno));
		return -1;
	}

	/* Up when /health answers; software emulation is slow. */
	for (t0 = now();; usleep(200000)) {
		if (waitpid(srv, &st, WNOHANG) == srv) {
			last_line(why, sizeof(why));
			if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
				printf("VMRESULT %s %s skipped (%s)\n", asked,
				    nobtf ? "no-btf" : "btf", why);
				return 1;
			}
			fail("server exited (status %#x) before serving: %s", st, why);
			denials(srv, 1);
			show_log();
			return -1;
		}
		if (http(port, "GET", "/health", NULL, &r) == 0 && r.status == 200)
			break;
		reply_free(&r);
		if (now() - t0 > 60) {
			fail("no /health after 60 s");
			kill(srv, SIGKILL);
			show_log();
			return -1;
		}
	}
	want_str(r.json, "/health", "status", "healthy");
	note_kernel();
	if (strcmp(backend, "auto") == 0) {
		/* The cheapest backend runs on every kernel we support. */
		want_str(r.json, "/health", "backend", "cgroup");
		if (json_object_size(json_object_get(r.json, "refused")) != 0)
			fail("/health: auto passed over cheaper backends: %s", r.body);
		backend = "cgroup";
	}
	want_str(r.json, "/health", "backend", backend);
	/* Every batched backend runs with its per-CPU batches. */
	if (strcmp(backend, "tracepoint") != 0 &&
	    !json_is_true(json_object_get(r.json, "batches")))
		fail("/health: per-CPU batches off: %s", r.body);
	it_paths_not_seen(r.json, ns, sizeof(ns));
	{
		json_t *ex = json_object_get(r.json, "exact_fields"), *f;
		int sock = 0, ppid = 0, ret = 0, unx = 0, sys = 0;
		size_t j;

		if (!json_is_array(ex))
			fail("/health: no exact_fields array: %s", r.body);
		json_array_foreach(ex, j, f) {
			const char *t = json_string_value(f);

			sock |= t && !strcmp(t, "socket_type");
			ppid |= t && !strcmp(t, "ppid");
			ret |= t && !strcmp(t, "return_code");
			unx |= t && !strcmp(t, "unix");
			sys |= t && !strcmp(t, "syscall");
		}
		no_proto = !sock, no_ppid = !ppid, no_ret = !ret;
		no_unix = !unx, no_syscall = !sys;
		/* What a kernel without BTF costs must be said, with its cause. */
		if (nobtf && no_proto && !strstr(ns, "BTF"))
			fail("/health: not_seen does not say what no BTF costs: %s", r.body);
	}
	reply_free(&r);

	/* The sandbox: seccomp filter mode, nobody, no new privileges. */
	if (status_field(srv, "Seccomp", v, sizeof(v)) < 0 || strcmp(v, "2") != 0)
		fail("server Seccomp: %s, want 2", v);
	if (status_field(srv, "NoNewPrivs", v, sizeof(v)) < 0 || strcmp(v, "1") != 0)
		fail("server NoNewPrivs: %s, want 1", v);
	if (status_field(srv, "CapEff", v, sizeof(v)) < 0 || strtoull(v, NULL, 16) != 0)
		fail("server CapEff: %s, want 0", v);
	if ((nduring = prog_ids(during, MAX_IDS)) < 0)
		nduring = 0;
	for (i = 0; i < nduring; i++)
		ours += !has_id(before, nbefore, during[i]);
	if (ours == 0)
		fail("no BPF program of the server's is loaded while it runs");

	if (make_events() < 0) {
		kill(srv, SIGKILL);
		return -1;
	}
	snprintf(q, sizeof(q), "/api/list-connections?pid=%d&limit=1000", (int)child);
	snprintf(key, sizeof(key), "%d", (int)child);
	for (t0 = now();; usleep(200000)) {
		if (http(port, "GET", q, NULL, &r) == 0 && r.status == 200 &&
		    (arr = json_object_get(json_object_get(r.json, "connections"), key)) &&
		    json_array_size(arr) >= (size_t)(NEVENTS - 2 * no_unix))
			break;
		if (now() - t0 > 20) {
			fail("only %zu of %d events after 20 s: %s",
			    arr ? json_array_size(arr) : 0, NEVENTS - 2 * no_unix,
			    r.body ? r.body : "");
			break;
		}
		reply_free(&r);
	}
	if (arr)
		check_events(arr);
	reply_free(&r);
	check_paths(ns);
	if (no_proto || no_ppid || no_ret || no_unix || no_syscall)
		printf("VMNOTE %s:%s%s%s%s%s not checked: not in /health's "
		    "exact_fields here\n", backend,
		    no_proto ? " protocol socket_type" : "", no_ppid ? " ppid" : "",
		    no_ret ? " return_code" : "", no_unix ? " unix" : "",
		    no_syscall ? " syscall" : "");

	/* A filter the server refuses: the error contract holds here too. */
	if (http(port, "GET", "/api/list-connections?port=notaport", NULL, &r) < 0 ||
	    r.status != 400 || !json_is_string(json_object_get(r.json, "error")))
		fail("bad filter: status %d body %s, want 400 with an error",
		    r.status, r.body ? r.body : "");
	reply_free(&r);

	/* SIGTERM: exit 0, nothing left in the kernel. */
	kill(srv, SIGTERM);
	for (t0 = now(); waitpid(srv, &st, WNOHANG) != srv; usleep(100000))
		if (now() - t0 > 20) {
			fail("still running 20 s after SIGTERM");
			kill(srv, SIGKILL);
			waitpid(srv, &st, 0);
			break;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("server exit status %#x after SIGTERM, want 0", st);
	usleep(500000); /* programs are freed after an RCU grace period */
	if ((nafter = prog_ids(after, MAX_IDS)) < 0)
		fail("BPF_PROG_GET_NEXT_ID: %s", strerror(errno));
	for (i = 0; i < nafter; i++)
		if (!has_id(before, nbefore, after[i]))
			fail("BPF program id %u is still loaded after the server exited", after[i]);
	usleep(300000);
	if ((i = denials(srv, 1)) != 0)
		fail("%d seccomp denials of the server in the kernel log", i);
	if (failed)
		show_log();
	close(presock);
	return failed ? -1 : 0;
}

int
main(int argc, char **argv)
{
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-backend") == 0 && i + 1 < argc)
			backend = argv[++i];
		else if (strcmp(argv[i], "-port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else
			backend = NULL;
	}
	if (!backend) {
		fprintf(stderr, "usage: vmclient -backend name [-port n]\n");
		return 2;
	}
	asked = backend;
	nobtf = access("/sys/kernel/btf/vmlinux", R_OK) != 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = run();
	if (rc == 0)
		printf("VMRESULT %s %s pass\n", asked, nobtf ? "no-btf" : "btf");
	else if (rc < 0)
		printf("VMRESULT %s %s FAIL %s (%d problems)\n", asked,
		    nobtf ? "no-btf" : "btf", first, failed ? failed : 1);
	return rc < 0;
}
