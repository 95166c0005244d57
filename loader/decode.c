/*
 * Records to events: what a kernel program wrote (prog/abi.h) into the
 * decoded struct event the store keeps.  With capture, which splits the
 * perf samples into these records, so that the data walks one way:
 * kernel program -> capture (here) -> store -> HTTP.  See decode.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "loader/decode.h"
#include "prog/abi.h"
#include "util/event.h"

/* Offsets inside struct sockaddr_in / sockaddr_in6 / sockaddr_un. */
#define SA_PORT_OFF 2
#define SIN_ADDR_OFF 4
#define SIN6_ADDR_OFF 8
#define SUN_PATH_OFF 2

/*
 * The unix path in sun_path, as ss(8) prints it.  The caller's addrlen
 * says how many bytes are meaningful: a pathname socket ends at the first
 * NUL, an abstract one (first byte NUL) ends at addrlen exactly and may
 * contain NULs, which become '@' so the result stays one C string.
 */
static void
decode_unix(const uint8_t *addr, size_t addrlen, char *path)
{
	size_t len = addrlen > SUN_PATH_OFF ? addrlen - SUN_PATH_OFF : 0;
	const uint8_t *sun = addr + SUN_PATH_OFF;
	size_t i;

	if (len > EV_PATH_MAX)
		len = EV_PATH_MAX;
	if (len == 0) {
		path[0] = '\0';
		return;
	}
	if (sun[0] == '\0') {
		path[0] = '@';
		for (i = 1; i < len; i++)
			path[i] = sun[i] ? (char)sun[i] : '@';
		path[len] = '\0';
		return;
	}
	for (i = 0; i < len && sun[i]; i++)
		path[i] = (char)sun[i];
	path[i] = '\0';
}

/* Member m of the (unaligned) struct kevent at raw, into *v. */
#define KEV_GET(v, raw, m) \
	memcpy((v), (const char *)(raw) + offsetof(struct kevent, m), sizeof(*(v)))

int
ld_link(const void *raw, size_t len, struct ld_link *l)
{
	uint16_t flags;

	if (!raw || len < (size_t)KEV_HEAD)
		return -EINVAL;
	/* Four members of the head, not a copy of it: every event comes
	 * here before ld_decode() copies the whole record. */
	KEV_GET(&flags, raw, flags);
	KEV_GET(&l->sk, raw, sk);
	KEV_GET(&l->ts, raw, ts);
	l->outcome = (flags & KEV_OUTCOME) != 0;
	l->state = 0;
	l->err = 0;
	if (l->outcome) {
		KEV_GET(&l->state, raw, count);
		KEV_GET(&l->err, raw, ret);
	}
	return 0;
}

int
ld_decode(const void *raw, size_t len, int64_t mono_to_real, struct event *ev)
{
	struct kevent kbuf;
	const struct kevent *k = &kbuf;
	size_t addrlen;
	uint16_t port;

	if (!raw || len < (size_t)KEV_HEAD)
		return -EINVAL;
	/* A perf sample's raw data follows its u32 size, so it is only
	 * 4-byte aligned; reading the u64 members in place is undefined
	 * behaviour (UBSan says so).  A copy costs less than a cache miss.
	 * A short record (KEV_SIZE()) has no address room past len. */
	if (len > sizeof(kbuf))
		len = sizeof(kbuf);
	else
		memset((char *)&kbuf + len, 0, sizeof(kbuf) - len);
	memcpy(&kbuf, raw, len);
	memset(ev, 0, sizeof(*ev));
	ev->ts = k->ts + (uint64_t)mono_to_real;
	ev->cgroup_id = k->cgroup_id;
	ev->pid = k->pid;
	ev->tid = k->tid;
	ev->ppid = k->ppid;
	ev->uid = k->uid;
	ev->gid = k->gid;
	ev->ret = k->ret;
	ev->ret_unknown = (k->flags & KEV_RET_UNKNOWN) != 0;
	ev->result = ev->ret_unknown ? EV_RESULT_UNKNOWN :
	    ev_result_of(k->syscall, k->ret);
	ev->count = k->count ? k->count : 1;
	ev->sock_type = k->sock_type;
	ev->protocol = k->protocol;
	ev->syscall = (uint8_t)k->syscall;
	memcpy(ev->comm, k->comm, EV_COMM_LEN);
	ev->comm[EV_COMM_LEN - 1] = '\0';

	addrlen = k->addrlen < EV_ADDR_MAX ? k->addrlen : EV_ADDR_MAX;
	if (addrlen > len - (size_t)KEV_HEAD)
		addrlen = len - (size_t)KEV_HEAD;
	if (addrlen < sizeof(ev->family))
		return 0; /* no address at all, family 0 (AF_UNSPEC) */
	memcpy(&ev->family, k->addr, sizeof(ev->family));

	/* A short sockaddr leaves the fields it does not reach at zero.
	 * sockaddr_in and sockaddr_in6 keep the port at the same place. */
	if ((ev->family == AF_INET || ev->family == AF_INET6) &&
	    addrlen >= SA_PORT_OFF + sizeof(port)) {
		memcpy(&port, k->addr + SA_PORT_OFF, sizeof(port));
		ev->port = ntohs(port);
	}
	switch (ev->family) {
	case AF_INET:
		if (addrlen >= SIN_ADDR_OFF + 4)
			memcpy(ev->ip, k->addr + SIN_ADDR_OFF, 4);
		break;
	case AF_INET6:
		if (addrlen >= SIN6_ADDR_OFF + 16)
			memcpy(ev->ip, k->addr + SIN6_ADDR_OFF, 16);
		break;
	case AF_UNIX:
		/* sk_protocol of a unix socket is 0 or PF_UNIX: not an IPPROTO. */
		ev->protocol = 0;
		decode_unix(k->addr, addrlen, ev->path);
		break;
	}
	return 0;
}
