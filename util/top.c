/*
 * store_top(): the heaviest keys among the stored events of a window.
 * The ring is walked in chunks (scan_chunk(), so the reader never waits
 * on it for long) into a Space-Saving summary of TOP_KEYS keys (sketch.h):
 * exact while the window has at most TOP_KEYS distinct keys, and
 * otherwise the heaviest with a known error bound, in bounded memory.  At
 * most STORE_SCANS_MAX run at once (scan_turn_take()), so that a crowd of
 * clients asking cannot multiply that memory by the number of workers;
 * the others wait for a turn, on its own lock, not on the store's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/event.h"
#include "util/sketch.h"
#include "util/store.h"
#include "util/store_impl.h"

/* A key: a command, a port, or a destination (family, port and address,
 * or for a unix socket two independent 64-bit hashes of its path: 20
 * bytes, not 110, since every record of the walk hashes its key, and two
 * paths that collided in 128 bits would only share a row). */
struct topkey {
	uint16_t family, port;
	union {
		char comm[EV_COMM_LEN];
		uint8_t ip[16];
		uint64_t path[2];
	} u;
};

static void
path_key(const char *p, uint64_t out[2])
{
	uint64_t a = 0xcbf29ce484222325ull, b = 0x9e3779b97f4a7c15ull;

	/* FNV-1a, and a multiply-xorshift of its own. */
	for (; *p; p++) {
		a = (a ^ (uint8_t)*p) * 0x100000001b3ull;
		b = (b + (uint8_t)*p) * 0xff51afd7ed558ccdull;
		b ^= b >> 29;
	}
	out[0] = a;
	out[1] = b;
}

/* What a key keeps beside its weight: its newest record, and how many
 * records it had. */
struct toppay {
	struct rec r;
	char path[EV_PATH_MAX + 2];
	uint64_t events;
};

static void
top_key(enum store_top_by by, const struct srec *c, struct topkey *k)
{
	memset(k, 0, sizeof(*k));
	switch (by) {
	case STORE_TOP_COMMAND:
		memcpy(k->u.comm, c->r.comm, EV_COMM_LEN);
		return;
	case STORE_TOP_PORT:
		k->port = c->r.port;
		return;
	case STORE_TOP_DESTINATION:
		break;
	}
	k->family = c->r.family;
	k->port = c->r.port;
	if (c->r.family == AF_UNIX)
		path_key(c->path, k->u.path);
	else
		memcpy(k->u.ip, c->r.a.ip, sizeof(k->u.ip));
}

static int
top_cmp(const void *a, const void *b)
{
	const struct store_top_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	/* Ties: the most recently seen first, so the order is stable. */
	return (x->ev->ts < y->ev->ts) - (x->ev->ts > y->ev->ts);
}

/* Count the records of one chunk that the query wants.  Returns 0 or
 * -ENOMEM. */
static int
top_chunk(struct sketch *k, enum store_top_by by, const char *key,
    const struct store_filter *f, uint64_t from, uint64_t to,
    const struct srec *c, size_t n, uint64_t *total)
{
	struct toppay *p;
	struct topkey tk;
	size_t i;
	long e;
	int fresh;

	for (i = 0; i < n; i++) {
		const struct rec *r = &c[i].r;

		if (r->ts < from || r->ts > to)
			continue;
		if (key && memcmp(r->comm, key, EV_COMM_LEN))
			continue;
		if (f && !store_rec_match(f, r))
			continue;
		/* Unix sockets have no port to rank. */
		if (by == STORE_TOP_PORT && r->family != AF_INET &&
		    r->family != AF_INET6)
			continue;
		top_key(by, &c[i], &tk);
		if ((e = sketch_add(k, &tk, r->count, &fresh)) < 0)
			return (int)e;
		p = sketch_payload(k, (uint32_t)e);
		if (fresh) {
			/* Newest first: the first seen stays. */
			p->r = *r;
			strcpy(p->path, c[i].path);
		}
		p->events++;
		*total += r->count;
	}
	return 0;
}

int
store_top(struct store *s, enum store_top_by by, const char *command,
    const struct store_filter *f, uint64_t now_ns, unsigned duration_s,
    size_t limit, struct store_top *out)
{
	struct srec *chunk;
	struct sketch k;
	struct scan sc;
	char key[EV_COMM_LEN];
	const struct toppay *p;
	uint64_t from;
	size_t n, i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (command) {
		if (strnlen(command, EV_COMM_LEN) >= EV_COMM_LEN)
			return 0;
		comm_key(key, command);
	}
	from = now_ns > (uint64_t)duration_s * NS_PER_S ?
	    now_ns - (uint64_t)duration_s * NS_PER_S : 0;
	scan_turn_take();
	sketch_init(&k, TOP_KEYS, sizeof(struct topkey), sizeof(struct toppay));
	if (!(chunk = malloc(SCAN_CHUNK * sizeof(*chunk)))) {
		err = -ENOMEM;
		goto out;
	}
	scan_begin(s, &sc);
	while (!err && (n = scan_chunk(s, &sc, chunk, SCAN_CHUNK)) > 0)
		err = top_chunk(&k, by, command ? key : NULL, f, from, now_ns,
		    chunk, n, &out->total);
	if (err)
		goto out;
	if (k.n && (!(out->rows = calloc(k.n, sizeof(*out->rows))) ||
	    !(out->evs = calloc(k.n, sizeof(*out->evs))))) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < k.n; i++) {
		p = sketch_payload(&k, (uint32_t)i);
		store_rec_unpack(&p->r, p->path, &out->evs[i]);
		out->rows[i].ev = &out->evs[i];
		out->rows[i].count = k.w[i];
		out->rows[i].error = k.err[i];
		out->rows[i].events = p->events;
	}
	/* No rows: rows may be NULL, which qsort() must not be given. */
	if (k.n)
		qsort(out->rows, k.n, sizeof(*out->rows), top_cmp);
	out->keys = k.n;
	out->n = k.n < limit ? k.n : limit;
	out->exact = k.replaced == 0;
	out->error = sketch_floor(&k);
out:
	sketch_clear(&k);
	free(chunk);
	scan_turn_give();
	if (err)
		store_top_free(out);
	return err;
}

void
store_top_free(struct store_top *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->evs);
	memset(t, 0, sizeof(*t));
}
