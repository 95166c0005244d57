/* Naming and formatting connection events.  See event.h; records are
 * decoded into them by loader/decode.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util/event.h"
#include "util/fmt.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

int
ev_failed(int32_t ret, int ret_unknown, uint8_t result)
{
	if (!ret_unknown)
		return ret < 0;
	return result == EV_RESULT_REFUSED || result == EV_RESULT_TIMEOUT ||
	    result == EV_RESULT_RESET || result == EV_RESULT_ERROR;
}

uint8_t
ev_result_of(int syscall, int32_t ret)
{
	if (ret >= 0)
		return EV_RESULT_OK;
	if (syscall != EV_CONNECT)
		return EV_RESULT_ERROR;
	if (ret == -EINPROGRESS || ret == -EALREADY)
		return EV_RESULT_PENDING;
	return ev_result_of_errno(-ret);
}

uint8_t
ev_result_of_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return EV_RESULT_REFUSED;
	case ETIMEDOUT:
		return EV_RESULT_TIMEOUT;
	case ECONNRESET:
		return EV_RESULT_RESET;
	default:
		return EV_RESULT_ERROR;
	}
}

const char *
ev_result_name(const struct event *ev)
{
	static const char *const names[] = {
		[EV_RESULT_UNKNOWN] = "unknown",
		[EV_RESULT_OK] = "ok",
		[EV_RESULT_REFUSED] = "refused",
		[EV_RESULT_TIMEOUT] = "timeout",
		[EV_RESULT_RESET] = "reset",
		[EV_RESULT_ERROR] = "error",
		[EV_RESULT_PENDING] = "unknown",
	};

	return ev->result < sizeof(names) / sizeof(names[0]) ?
	    names[ev->result] : "unknown";
}

const char *
ev_family_name(const struct event *ev)
{
	switch (ev->family) {
	case AF_INET:
		return "AF_INET";
	case AF_INET6:
		return "AF_INET6";
	case AF_UNIX:
		return "AF_UNIX";
	}
	return "UNKNOWN";
}

const char *const ev_protocols[EV_NPROTO] = {
	"TCP", "UDP", "UNIX", "ICMP", "SCTP", "MPTCP", "RAW", "UNKNOWN",
};
enum { P_TCP, P_UDP, P_UNIX, P_ICMP, P_SCTP, P_MPTCP, P_RAW, P_UNKNOWN };

unsigned
ev_protocol(const struct event *ev)
{
	if (ev->family == AF_UNIX)
		return P_UNIX;
	if (ev->family != AF_INET && ev->family != AF_INET6)
		return P_UNKNOWN; /* other families number protocols their own way */
	switch (ev->protocol) {
	case IPPROTO_TCP:
		return P_TCP;
	case IPPROTO_UDP:
		return P_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return P_ICMP;
	case IPPROTO_SCTP:
		return P_SCTP;
	case IPPROTO_MPTCP:
		return P_MPTCP;
	}
	if (ev->sock_type != EV_UNKNOWN && (ev->sock_type & 0xf) == SOCK_RAW)
		return P_RAW;
	/* Protocol 0 asks the kernel for the type's default protocol. */
	if (ev->protocol == 0 && ev->sock_type != EV_UNKNOWN) {
		switch (ev->sock_type & 0xf) {
		case SOCK_STREAM:
			return P_TCP;
		case SOCK_DGRAM:
			return P_UDP;
		}
	}
	return P_UNKNOWN;
}

const char *
ev_protocol_name(const struct event *ev)
{
	return ev_protocols[ev_protocol(ev)];
}

const char *
ev_type_name(const struct event *ev)
{
	if (ev->sock_type == EV_UNKNOWN)
		return "UNKNOWN";
	/* Only the low bits are the type; SOCK_NONBLOCK/CLOEXEC are flags. */
	switch (ev->sock_type & 0xf) {
	case SOCK_STREAM:
		return "STREAM";
	case SOCK_DGRAM:
		return "DGRAM";
	case SOCK_SEQPACKET:
		return "SEQPACKET";
	case SOCK_RAW:
		return "RAW";
	case SOCK_RDM:
		return "RDM";
	}
	return "UNKNOWN";
}

const char *
ev_syscall_name(const struct event *ev)
{
	switch (ev->syscall) {
	case EV_CONNECT:
		return "connect";
	case EV_SENDTO:
		return "sendto";
	case EV_SENDMSG:
		return "sendmsg";
	case EV_SEND:
		return "sendto|sendmsg";
	}
	return "UNKNOWN";
}

int
ev_syscall_matches(unsigned want, unsigned have)
{
	return have == want || (have == EV_SEND &&
	    (want == EV_SENDTO || want == EV_SENDMSG));
}

/* Sorted by port for the binary search in ev_service(). */
static const struct {
	uint16_t port;
	const char *name;
} services[] = {
	{ 20, "ftp" }, { 21, "ftp" }, { 22, "ssh" }, { 23, "telnet" },
	{ 25, "smtp" }, { 53, "dns" }, { 67, "dhcp" }, { 68, "dhcp" },
	{ 80, "http" }, { 110, "pop3" }, { 123, "ntp" }, { 143, "imap" },
	{ 161, "snmp" }, { 389, "ldap" }, { 443, "https" }, { 465, "smtps" },
	{ 514, "syslog" }, { 587, "submission" }, { 636, "ldaps" },
	{ 853, "dns-over-tls" }, { 993, "imaps" }, { 995, "pop3s" },
	{ 1883, "mqtt" }, { 2049, "nfs" }, { 2379, "etcd" }, { 3306, "mysql" },
	{ 5353, "mdns" }, { 5432, "postgresql" }, { 6379, "redis" },
	{ 6443, "kubernetes-api" }, { 8080, "http-alt" }, { 8443, "https-alt" },
	{ 9090, "prometheus" }, { 9092, "kafka" }, { 11211, "memcached" },
	{ 27017, "mongodb" },
};

const char *
ev_service(const struct event *ev)
{
	size_t lo = 0, hi = sizeof(services) / sizeof(services[0]), mid;

	if (ev->family != AF_INET && ev->family != AF_INET6)
		return "";
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (services[mid].port == ev->port)
			return services[mid].name;
		if (services[mid].port < ev->port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "";
}

/* The address as text into tmp (INET6_ADDRSTRLEN bytes); returns its
 * length.  IPv4 by hand: musl's inet_ntop() goes through snprintf(), and
 * this runs for every event of every list response. */
static size_t
ip_text(const struct event *ev, char *tmp)
{
	size_t len = 0;
	int i;

	if (ev->family == AF_INET) {
		for (i = 0; i < 4; i++) {
			if (i)
				tmp[len++] = '.';
			len += fmt_u64(tmp + len, ev->ip[i]);
		}
		tmp[len] = '\0';
		return len;
	}
	tmp[0] = '\0';
	if (ev->family == AF_INET6)
		inet_ntop(AF_INET6, ev->ip, tmp, INET6_ADDRSTRLEN);
	return strlen(tmp);
}

/* Copy len bytes of s into buf of n bytes, truncating and terminating like
 * snprintf(buf, n, "%s", s); returns len. */
static int
put(char *buf, size_t n, const char *s, size_t len)
{
	if (n > 0) {
		size_t c = len < n - 1 ? len : n - 1;

		memcpy(buf, s, c);
		buf[c] = '\0';
	}
	return (int)len;
}

int
ev_ip(const struct event *ev, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];

	return put(buf, n, tmp, ip_text(ev, tmp));
}

int
ev_destination(const struct event *ev, char *buf, size_t n)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	size_t len;

	switch (ev->family) {
	case AF_INET:
		len = ip_text(ev, tmp);
		break;
	case AF_INET6:
		tmp[0] = '[';
		len = 1 + ip_text(ev, tmp + 1);
		tmp[len++] = ']';
		break;
	case AF_UNIX:
		return put(buf, n, ev->path, strnlen(ev->path, EV_PATH_MAX + 1));
	default:
		return put(buf, n, "", 0);
	}
	tmp[len++] = ':';
	len += fmt_u64(tmp + len, ev->port);
	return put(buf, n, tmp, len);
}
