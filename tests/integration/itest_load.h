/*
 * Load for the integration tests and the bench: floods of connects with a
 * name each, storms with and without queries, crowds of idle and slow
 * clients (test_bounded.c, test_slow.c, make bench).  Include after
 * itest.h.
 */
#ifndef ITEST_LOAD_H
#define ITEST_LOAD_H

#include "tests/integration/itest.h"

/* --- floods of connects, with a name each (test_bounded.c, make bench) -- */

#define IT_FLOODERS 2

/* Shared with the forked flooders. */
struct it_flood {
	volatile int stop;
	volatile uint64_t made[IT_FLOODERS];
};

/*
 * n connect()s over UDP from IT_FLOODERS processes, to 127.0.0.1 and ports
 * that vary; with rename, each under a name of its own (prefix and a
 * number: about 11 bytes, all distinct).  Returns the connects made; the
 * peak RSS of pid while it ran goes to *peak_kib when pid > 0.
 */
static inline uint64_t
it_flood(const char *prefix, uint64_t n, int rename, pid_t pid, long *peak_kib)
{
	struct it_flood *f;
	pid_t kid[IT_FLOODERS];
	uint64_t total = 0;
	long rss;
	int i, status;

	f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f == MAP_FAILED)
		return 0;
	memset((void *)f, 0, sizeof(*f));
	for (i = 0; i < IT_FLOODERS; i++) {
		if ((kid[i] = fork()) == 0) {
			struct sockaddr_in a = { .sin_family = AF_INET };
			char name[32]; /* the kernel keeps 15 bytes */
			uint64_t k;
			int fd = socket(AF_INET, SOCK_DGRAM, 0);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, prefix);
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			for (k = (uint64_t)i; k < n && !f->stop; k += IT_FLOODERS) {
				if (rename) {
					snprintf(name, sizeof(name), "%s%llu", prefix,
					    (unsigned long long)k);
					prctl(PR_SET_NAME, name);
				}
				a.sin_port = htons((uint16_t)(1024 + k % 60000));
				connect(fd, (void *)&a, sizeof(a));
				f->made[i]++;
			}
			_exit(0);
		}
	}
	if (peak_kib)
		*peak_kib = 0;
	for (i = 0; i < IT_FLOODERS; i++) {
		while (waitpid(kid[i], &status, WNOHANG) == 0) {
			if (pid > 0 && (rss = it_rss_kib(pid)) > *peak_kib)
				*peak_kib = rss;
			usleep(50000);
		}
		total += f->made[i];
	}
	munmap((void *)f, sizeof(*f));
	return total;
}

/* One of the heaviest queries on a store full of distinct keys (which
 * % 4: top by destination, top by command, a filtered list, a filtered
 * summary).  Returns it_http()'s result; the reply is in *r. */
static inline int
it_heavy_query(int port, int which, struct reply *r)
{
	static const char *const get[] = {
		"/api/top?by=destination&duration=3600&limit=1000",
		"/api/top?by=command&duration=3600&limit=1000",
		"/api/list-connections?port=1999&limit=1",
	};

	if (which % 4 == 3)
		return it_http(port, "POST", "/api/connection-summary",
		    "{\"command\":\"nothing-such\",\"duration\":3600,"
		    "\"port\":1999}", r);
	return it_http(port, "GET", get[which % 4], NULL, r);
}

/* A client looping it_heavy_query() number which until *stop; counts,
 * failures and the slowest in its arg. */
struct it_qarg {
	int port;
	atomic_int *stop;
	int which;
	unsigned long n, bad;
	double worst;
};

static inline void *
it_query_loop(void *arg)
{
	struct it_qarg *q = arg;
	struct reply r;
	double t;
	int rc;

	while (!atomic_load(q->stop)) {
		t = it_now();
		rc = it_heavy_query(q->port, q->which, &r);
		t = it_now() - t;
		if (rc != 0 || r.status != 200)
			q->bad++;
		it_reply_free(&r);
		if (t > q->worst)
			q->worst = t;
		q->n++;
	}
	return NULL;
}

/*
 * A storm of n connects alone (it_flood(), no renames), to tell what a
 * loaded machine loses from what queries cost: returns the events it
 * lost, and leaves in *lost_now the server's events_lost after it; -1
 * when the counts did not settle before or after it (it_settle()).
 */
static inline long long
it_storm_alone(const struct server *s, uint64_t n, long long *lost_now)
{
	long long before;

	*lost_now = -1;
	if (it_settle(s, IT_SETTLE_S) < 0)
		return -1;
	before = it_health_int(s, "events_lost");
	it_flood("qstorm", n, 0, 0, NULL);
	if (it_settle(s, IT_SETTLE_S) < 0)
		return -1;
	*lost_now = it_health_int(s, "events_lost");
	return *lost_now - before;
}

/* What it_storm_queried() saw. */
struct it_queried {
	unsigned long queries, bad;  /* answered, and not with 200 */
	double worst;                /* the slowest, in seconds */
	double secs;                 /* the storm's length */
	uint64_t made;               /* its connects */
};

/*
 * nq (at most 16) clients looping it_heavy_query() on port while a storm
 * of n connects (it_flood(), no renames) runs; their figures in *out.
 * Returns 0, or -1 when a client thread could not start.
 */
static inline int
it_storm_queried(int port, int nq, uint64_t n, struct it_queried *out)
{
	struct it_qarg q[16];
	pthread_t th[16];
	atomic_int stop = 0;
	int i, started, rc = 0;

	memset(out, 0, sizeof(*out));
	if (nq > 16)
		nq = 16;
	for (started = 0; started < nq; started++) {
		q[started] = (struct it_qarg){ port, &stop, started, 0, 0, 0 };
		if (pthread_create(&th[started], NULL, it_query_loop, &q[started])) {
			rc = -1;
			break;
		}
	}
	usleep(200000);         /* deliberate: the clients are querying */
	out->secs = it_now();
	out->made = it_flood("qstorm", n, 0, 0, NULL);
	out->secs = it_now() - out->secs;
	atomic_store(&stop, 1);
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		out->queries += q[i].n;
		out->bad += q[i].bad;
		if (q[i].worst > out->worst)
			out->worst = q[i].worst;
	}
	return rc;
}

/* --- crowds of idle and slow clients (test_slow.c, make bench) ------------ */

#define IT_CROWD_MAX 1024

/* A new client's GET /health in seconds; 5 when it got no answer. */
static inline double
it_health_time(int port)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n";
	double t = it_now();
	int fd, ok;

	if ((fd = it_dial(port)) < 0)
		return 5;
	ok = write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1 &&
	    it_read_reply(fd) == 0;
	close(fd);
	return ok ? it_now() - t : 5;
}

/* The slowest new client's GET /health over secs seconds, one every
 * 200 ms. */
static inline double
it_worst_health(int port, double secs)
{
	double t0 = it_now(), worst = 0, t;

	while (it_now() - t0 < secs) {
		if ((t = it_health_time(port)) > worst)
			worst = t;
		usleep(200000);
	}
	return worst;
}

/* n clients that each make one request and then stay connected, idle.
 * Returns how many got their answer; fd[] to close with it_close_all(). */
static inline int
it_idle_crowd(int port, int *fd, int n)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
	int i, answered = 0;

	for (i = 0; i < n; i++) {
		fd[i] = it_dial(port);
		if (fd[i] >= 0 && write(fd[i], req, sizeof(req) - 1) ==
		    (ssize_t)sizeof(req) - 1 && it_read_reply(fd[i]) == 0)
			answered++;
	}
	return answered;
}

static inline void
it_close_all(int *fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* n clients sending their headers a byte every 100 ms, never finishing,
 * each reconnecting as soon as the server drops it; on a thread of its
 * own between it_trickle_start() and it_trickle_stop(). */
struct it_trickle {
	int port, n;
	atomic_int stop;
	atomic_long reconnects;
	pthread_t th;
};

static inline void *
it_trickle_run(void *arg)
{
	static const char start[] = "GET /health HTTP/1.1\r\nHost: localhost\r\n"
	    "X-Slow: ";
	struct it_trickle *t = arg;
	int fd[IT_CROWD_MAX], i;
	char c;

	for (i = 0; i < t->n; i++)
		if ((fd[i] = it_dial(t->port)) >= 0)
			(void)!write(fd[i], start, sizeof(start) - 1);
	while (!atomic_load(&t->stop)) {
		usleep(100000);
		for (i = 0; i < t->n; i++) {
			struct pollfd p = { .fd = fd[i], .events = POLLIN };

			/* Dropped (the server's time-out, or its 408): again. */
			if (fd[i] >= 0 && !(poll(&p, 1, 0) == 1 && read(fd[i], &c, 1) <= 0) &&
			    send(fd[i], "a", 1, MSG_NOSIGNAL) == 1)
				continue;
			if (fd[i] >= 0)
				close(fd[i]);
			if ((fd[i] = it_dial(t->port)) >= 0)
				(void)!write(fd[i], start, sizeof(start) - 1);
			atomic_fetch_add(&t->reconnects, 1);
		}
	}
	it_close_all(fd, t->n);
	return NULL;
}

/* Start n (at most IT_CROWD_MAX) tricklers and give them half a second to
 * connect.  Returns 0 or -1. */
static inline int
it_trickle_start(struct it_trickle *t, int port, int n)
{
	memset(t, 0, sizeof(*t));
	t->port = port;
	t->n = n < IT_CROWD_MAX ? n : IT_CROWD_MAX;
	if (pthread_create(&t->th, NULL, it_trickle_run, t) != 0)
		return -1;
	usleep(500000);
	return 0;
}

/* Stop them; returns how often they reconnected. */
static inline long
it_trickle_stop(struct it_trickle *t)
{
	atomic_store(&t->stop, 1);
	pthread_join(t->th, NULL);
	return atomic_load(&t->reconnects);
}

#endif
