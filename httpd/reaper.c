/*
 * The reaper: a table of the connections that hold a worker, and a
 * thread that looks at it every REAP_TICK_MS.  See reaper.h.
 *
 * A connection is ended with shutdown(SHUT_RDWR) on its socket: the
 * worker's poll() or recv() sees the end at once and civetweb closes the
 * connection the ordinary way.  The socket belongs to civetweb, so the
 * table's lock is held from the moment we pick a socket until shutdown()
 * returns, and civetweb's connection_close callback (reaper_close())
 * takes the same lock before civetweb closes the socket: the number can
 * never be another connection's by then.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "httpd/reaper.h"
#include "util/timefmt.h"

#define REAP_TICK_MS 25
#define NS_PER_MS 1000000ULL

struct slot {
	int used;
	int fd;
	int busy;            /* a request is being answered */
	int answered;        /* it had a reply: left alone from then on */
	int reaped;          /* shut down already */
	uint64_t since;      /* opened (monotonic ns): the first request's
	                      * headers are due REAP_HEADER_MS after */
};

struct reaper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int stop;
	unsigned n, live, reserve;
	struct slot *s;
};

/* End the waiting connections that are due; with the lock held. */
static void
reap(struct reaper *r, uint64_t now)
{
	unsigned i;

	if (r->live + r->reserve < r->n)
		return; /* enough workers free */
	for (i = 0; i < r->n; i++) {
		struct slot *s = &r->s[i];

		/* Kept-alive connections are left alone: the replies' close
		 * at three quarters (http.c) already bounds how many workers
		 * they hold, and ending one races with the client's next
		 * request on it. */
		if (!s->used || s->busy || s->answered || s->reaped || s->fd < 0)
			continue;
		if (now - s->since < REAP_HEADER_MS * NS_PER_MS)
			continue;
		shutdown(s->fd, SHUT_RDWR);
		s->reaped = 1;
	}
}

static void *
run(void *arg)
{
	struct reaper *r = arg;
	struct timespec until;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		until = time_mono_ts(time_mono_ns() + REAP_TICK_MS * 1000000ULL);
		pthread_cond_timedwait(&r->cv, &r->mu, &until);
		if (!r->stop)
			reap(r, time_mono_ns());
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct reaper *
reaper_new(unsigned threads)
{
	struct reaper *r;
	int err;

	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->n = threads ? threads : 1;
	/* Keep an eighth of the workers (at least one) for new clients. */
	r->reserve = r->n / 8 ? r->n / 8 : 1;
	if (!(r->s = calloc(r->n, sizeof(*r->s)))) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	time_mono_cond_init(&r->cv);
	if ((err = pthread_create(&r->th, NULL, run, r)) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r->s);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

void
reaper_free(struct reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->s);
	free(r);
}

void
reaper_open(struct reaper *r, const struct mg_connection *conn, void **slot)
{
	unsigned i;

	*slot = NULL;
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->n && r->s[i].used; i++)
		;
	if (i < r->n) {
		r->s[i] = (struct slot){ 1, ebpf_conn_socket(conn), 0, 0, 0,
		    time_mono_ns() };
		r->live++;
		*slot = &r->s[i];
	}
	pthread_mutex_unlock(&r->mu);
}

void
reaper_busy(struct reaper *r, void *slot, int busy)
{
	struct slot *s = slot;

	if (!s)
		return;
	pthread_mutex_lock(&r->mu);
	s->busy = busy;
	if (!busy)
		s->answered = 1;
	pthread_mutex_unlock(&r->mu);
}

void
reaper_close(struct reaper *r, void *slot)
{
	struct slot *s = slot;

	if (!s)
		return;
	pthread_mutex_lock(&r->mu);
	s->used = 0;
	s->fd = -1;
	r->live--;
	pthread_mutex_unlock(&r->mu);
}
