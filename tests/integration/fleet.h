/*
 * The engines of README "Fleet" for tests/integration/test_fleet.c and
 * make bench's section 8: each started here, in the background, on
 * loopback and free ports, with its data and its log under fl_dir (never
 * the packaged service), and stopped by the caller; and the programs
 * whose connects they count.  Header-only, after itest.h.
 */
#ifndef FLEET_H
#define FLEET_H

#include <sys/prctl.h>

static char fl_dir[400];    /* absolute: engines chdir and read configs */

/* An engine in the background, its output in fl_dir/<name>.log.  Dies
 * with the caller. */
static inline pid_t
fl_spawn(const char *name, const char *const *argv)
{
	char log[600];
	pid_t pid;
	int fd;

	snprintf(log, sizeof(log), "%s/%s.log", fl_dir, name);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* SIGTERM, then SIGKILL after 10 s. */
static inline void
fl_stop(pid_t pid)
{
	double t0 = it_now();
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (it_now() - t0 > 10) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		usleep(20000);
	}
}

/* Until GET path on port answers 200, for at most secs; 0 or -1. */
static inline int
fl_wait_ok(int port, const char *path, double secs)
{
	double t0 = it_now();
	struct reply r;
	int ok;

	while (it_now() - t0 < secs) {
		ok = it_http(port, "GET", path, NULL, &r) == 0 && r.status == 200;
		it_reply_free(&r);
		if (ok)
			return 0;
		usleep(100000);
	}
	return -1;
}

static inline void
fl_show_log(const char *name)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "tail -n 15 '%s/%s.log' >&2", fl_dir, name);
	if (system(cmd) != 0)
		fprintf(stderr, "(no %s log)\n", name);
}

/* fl_dir/name holds text; 0 or -1. */
static inline int
fl_write_file(const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fl_dir, name);
	if (!(f = fopen(path, "w")))
		return -1;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* %-encode s for a query string. */
static inline void
fl_urlenc(const char *s, char *enc, size_t n)
{
	size_t o = 0;

	for (; *s && o + 4 < n; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.~", *s))
			enc[o++] = *s;
		else
			o += (size_t)snprintf(enc + o, n - o, "%%%02X",
			    (unsigned char)*s);
	}
	enc[o] = '\0';
}

/* The table of README "Fleet", exactly. */
static const char FL_TABLE[] =
    "CREATE TABLE ebpf_events (\n"
    "  host String, time DateTime, time_ns UInt32,\n"
    "  pid UInt32, tid UInt32, ppid UInt32, uid UInt32, gid UInt32,\n"
    "  command String, destination String, destination_ip String,\n"
    "  destination_port UInt16, address_family UInt16, protocol String,\n"
    "  socket_type String, service String, syscall String, count UInt32,\n"
    "  return_code Nullable(Int32), result String, cgroup_id UInt64,\n"
    "  timestamp String, cgroup String\n"
    ") ENGINE = MergeTree() PARTITION BY toYYYYMMDD(time)\n"
    "ORDER BY (host, time, time_ns)";

/* ClickHouse's configuration in fl_dir: HTTP on http, its native
 * protocol on tcp, 127.0.0.1 only, data in fl_dir/ch.  0 or -1. */
static inline int
fl_ch_config(int http, int tcp)
{
	char conf[8192], cmd[600];
	const char *d = fl_dir;

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/ch'", d);
	if (system(cmd) != 0)
		return -1;
	snprintf(conf, sizeof(conf),
	    "<?xml version=\"1.0\"?>\n<yandex>\n"
	    " <logger><level>warning</level><log>%s/ch/server.log</log>"
	    "<errorlog>%s/ch/error.log</errorlog></logger>\n"
	    " <http_port>%d</http_port><tcp_port>%d</tcp_port>\n"
	    " <listen_host>127.0.0.1</listen_host>\n"
	    " <path>%s/ch/data/</path><tmp_path>%s/ch/tmp/</tmp_path>\n"
	    " <user_files_path>%s/ch/files/</user_files_path>\n"
	    " <format_schema_path>%s/ch/schema/</format_schema_path>\n"
	    " <mark_cache_size>67108864</mark_cache_size>\n"
	    " <uncompressed_cache_size>67108864</uncompressed_cache_size>\n"
	    " <users_config>%s/ch-users.xml</users_config>\n"
	    " <default_profile>default</default_profile>\n"
	    " <default_database>default</default_database>\n"
	    " <timezone>UTC</timezone><mlock_executable>false</mlock_executable>\n"
	    "</yandex>\n", d, d, http, tcp, d, d, d, d, d);
	if (fl_write_file("ch-config.xml", conf) < 0)
		return -1;
	return fl_write_file("ch-users.xml", "<?xml version=\"1.0\"?>\n<yandex>\n"
	    " <profiles><default></default></profiles>\n"
	    " <users><default><password></password><networks><ip>127.0.0.1</ip>"
	    "</networks><profile>default</profile><quota>default</quota>"
	    "</default></users>\n <quotas><default></default></quotas>\n"
	    "</yandex>\n");
}

/* Start ClickHouse as fl_ch_config() set it up and wait for its /ping on
 * http, at most 30 s.  Returns its pid (the seconds it took in *secs), or
 * -1 with its log shown. */
static inline pid_t
fl_ch_start(int http, double *secs)
{
	char conf[600];
	const char *argv[] = { "clickhouse-server", conf, NULL };
	double t0 = it_now();
	pid_t pid;

	snprintf(conf, sizeof(conf), "--config-file=%s/ch-config.xml", fl_dir);
	pid = fl_spawn("clickhouse", argv);
	if (fl_wait_ok(http, "/ping", 30) < 0) {
		fl_show_log("clickhouse");
		fl_stop(pid);
		return -1;
	}
	*secs = it_now() - t0;
	return pid;
}

/* A query's answer (malloc'd), or NULL with the reason on stderr. */
static inline char *
fl_ch_query(int http, const char *sql)
{
	struct reply r;
	char *answer = NULL;

	if (it_http(http, "POST", "/", sql, &r) < 0)
		fprintf(stderr, "ClickHouse: %s: no answer\n", sql);
	else if (r.status != 200)
		fprintf(stderr, "ClickHouse: %s: HTTP %d: %s\n", sql, r.status,
		    r.body);
	else
		answer = strdup(r.body);
	it_reply_free(&r);
	return answer;
}

/*
 * A port nothing listens on and no connect can take as its own: bound on
 * every address (never listening) by the socket *fd, so that the
 * kernel's choice of source ports skips it.  Without that a connect to
 * 127.1.x.y:port from the ephemeral range now and then picks that very
 * port as its source and connects to itself.  Close *fd when done.
 * Returns the port or -1.
 */
static inline int
fl_closed_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(*fd, (void *)&a, sizeof(a)) < 0 ||
	    getsockname(*fd, (void *)&a, &len) < 0)
		return -1;
	return ntohs(a.sin_port);
}

/* A program named comm: n TCP connects, each to its own address
 * 127.1.x.y (so that ClickHouse can count them apart even when two share
 * a timestamp), all refused; pace_us between them.  Returns its pid;
 * wait with waitpid(). */
static inline pid_t
fl_connects(const char *comm, int n, int port, unsigned pace_us)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	pid_t pid;
	int i, fd;

	if ((pid = fork()) == 0) {
		prctl(PR_SET_NAME, comm);
		for (i = 0; i < n; i++) {
			a.sin_addr.s_addr = htonl(0x7f010000u + (unsigned)i);
			if ((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0) {
				connect(fd, (void *)&a, sizeof(a));
				close(fd);
			}
			if (pace_us)
				usleep(pace_us);
		}
		_exit(0);
	}
	return pid;
}

#endif
