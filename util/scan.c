/*
 * What every read of the event store shares (store_impl.h declares it):
 * the filter test on stored records and on events, decoding a record back
 * into a struct event, and the chunked copy of the ring that lets a query
 * walk every stored record while holding the store's lock for no more
 * than SCAN_CHUNK records at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/event.h"
#include "util/store.h"
#include "util/store_impl.h"

/* path is the unix path ("" for none or for other families). */
void
store_rec_unpack(const struct rec *r, const char *path, struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = r->ts;
	ev->cgroup_id = r->cgroup_id;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->ret = r->ret;
	ev->count = r->count;
	ev->family = r->family;
	ev->port = r->port;
	ev->sock_type = r->sock_type == TYPE_UNKNOWN ? EV_UNKNOWN : r->sock_type;
	ev->protocol = r->protocol;
	ev->syscall = r->syscall;
	ev->result = r->result;
	ev->ret_unknown = r->ret_unknown;
	memcpy(ev->comm, r->comm, EV_COMM_LEN);
	if (r->family == AF_UNIX)
		strncpy(ev->path, path, sizeof(ev->path) - 1);
	else
		memcpy(ev->ip, r->a.ip, sizeof(ev->ip));
}

/* Whether the first bits of a and b agree. */
static int
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The filter test on the fields both struct rec and struct event have
 * (ip is NULL for unix sockets, which have no address to match); the
 * protocol name is derived from family, protocol and socket type, as
 * ev_protocol_name() does.  An IPv4-mapped IPv6 destination
 * (::ffff:a.b.c.d, a dual-stack program's IPv4 peer) is the IPv4 address
 * it is to the family and ip filters; the event keeps its own family. */
static int
fields_match(const struct store_filter *f, uint64_t ts, uint16_t family,
    uint16_t port, uint16_t protocol, uint16_t sock_type, int failed,
    uint8_t syscall, const uint8_t *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	uint16_t match_family = family;
	struct event pe;

	if (family == AF_INET6 && ip && memcmp(ip, mapped, sizeof(mapped)) == 0) {
		match_family = AF_INET;
		ip += sizeof(mapped);
	}
	if (ts < f->since_ns)
		return 0;
	if (f->has_port && (port != f->port || family == AF_UNIX))
		return 0;
	if (f->has_family && match_family != f->family)
		return 0;
	if (f->has_failed && failed != (f->failed != 0))
		return 0;
	if (f->has_syscall && !ev_syscall_matches(f->syscall, syscall))
		return 0;
	if (f->has_ip && (match_family != f->ip_family || !ip ||
	    !prefix_eq(ip, f->ip, f->prefix)))
		return 0;
	if (f->has_protocol) {
		/* ev_protocol_name() reads these three fields only. */
		pe.family = family;
		pe.protocol = protocol;
		pe.sock_type = sock_type;
		if (strcmp(ev_protocol_name(&pe), f->protocol) != 0)
			return 0;
	}
	return 1;
}

int
store_rec_match(const struct store_filter *f, const struct rec *r)
{
	return fields_match(f, r->ts, r->family, r->port, r->protocol,
	    r->sock_type == TYPE_UNKNOWN ? EV_UNKNOWN : r->sock_type,
	    ev_failed(r->ret, r->ret_unknown, r->result), r->syscall,
	    r->family == AF_UNIX ? NULL : r->a.ip);
}

int
store_filter_match(const struct store_filter *f, const struct event *ev)
{
	if (!f)
		return 1;
	return fields_match(f, ev->ts, ev->family, ev->port, ev->protocol,
	    ev->sock_type, ev_failed(ev->ret, ev->ret_unknown, ev->result),
	    ev->syscall,
	    ev->family == AF_UNIX ? NULL : ev->ip);
}

/* Whether f narrows anything beyond what the counters know. */
int
store_filter_empty(const struct store_filter *f)
{
	return !f || (!f->has_port && !f->has_ip && !f->has_protocol &&
	    !f->has_family && !f->has_failed && !f->has_syscall &&
	    !f->since_ns);
}


void
scan_begin(struct store *s, struct scan *sc)
{
	pthread_mutex_lock(&s->mu);
	sc->next = s->appended;
	sc->oldest = s->appended - s->n;
	sc->evicted = s->evicted != 0;
	pthread_mutex_unlock(&s->mu);
	sc->cut = 0;
}

size_t
scan_chunk(struct store *s, struct scan *sc, struct srec *out, size_t max)
{
	const struct rec *r;
	uint64_t low;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	low = s->appended - s->n;
	if (sc->next > sc->oldest && sc->next <= low)
		sc->cut = 1; /* the ring moved past the walk: the rest is gone */
	while (n < max && sc->next > low && sc->next > sc->oldest) {
		sc->next--;
		r = &s->ring[sc->next % s->cap];
		out[n].r = *r;
		out[n].seq = sc->next;
		out[n].path[0] = '\0';
		/* The copy must not follow its pointer once the lock is gone. */
		if (r->family == AF_UNIX) {
			if (r->a.path)
				memcpy(out[n].path, r->a.path->s, r->a.path->len + 1);
			out[n].r.a.path = NULL;
		}
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static unsigned turns;

void
scan_turn_take(void)
{
	pthread_mutex_lock(&turn_mu);
	while (turns >= STORE_SCANS_MAX)
		pthread_cond_wait(&turn_cv, &turn_mu);
	turns++;
	pthread_mutex_unlock(&turn_mu);
}

void
scan_turn_give(void)
{
	pthread_mutex_lock(&turn_mu);
	turns--;
	pthread_cond_signal(&turn_cv);
	pthread_mutex_unlock(&turn_mu);
}
