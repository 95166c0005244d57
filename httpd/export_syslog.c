/*
 * One event as one RFC 5424 syslog message:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME ebpf-server PROCID MSGID - MSG
 *
 * PRI is facility daemon (3) with severity info (6), or notice (5) for a
 * call that failed; TIMESTAMP the event's time to the microsecond (RFC
 * 5424 allows six fraction digits: the nanoseconds are in the message);
 * PROCID this server's pid; MSGID the system call (connect, sendto,
 * sendmsg); no structured data; MSG the event's JSON object, the NDJSON
 * line of -push-events.  Every field is printable ASCII by construction:
 * -host is checked, the JSON encoder escapes everything else.
 */
#include <stdio.h>
#include <string.h>

#include "httpd/export_impl.h"
#include "httpd/json.h"
#include "util/event.h"
#include "util/timefmt.h"

#define FACILITY_DAEMON 3
#define SEV_NOTICE 5
#define SEV_INFO 6

void
xsyslog_line(struct jbuf *b, const struct event *ev, const char *json,
    size_t jlen, const char *host, int pid, int octet_count)
{
	char head[EXPORT_HEAD_MAX], ts[40], len[16];
	int sev = ev_failed(ev->ret, ev->ret_unknown, ev->result) ? SEV_NOTICE :
	    SEV_INFO, hl, ll;

	if (time_rfc3339(ev->ts, ts, sizeof(ts)) < 0)
		strcpy(ts, "-");
	else
		strcpy(ts + 26, "Z"); /* .nnnnnnnnnZ -> .uuuuuuZ */
	hl = snprintf(head, sizeof(head), "<%d>1 %s %s ebpf-server %d %s - ",
	    FACILITY_DAEMON * 8 + sev, ts, host, pid, ev_syscall_name(ev));
	if (hl < 0 || (size_t)hl >= sizeof(head))
		hl = (int)sizeof(head) - 1;
	if (octet_count) {
		ll = snprintf(len, sizeof(len), "%zu ", (size_t)hl + jlen);
		jbuf_raw(b, len, (size_t)ll);
	}
	jbuf_raw(b, head, (size_t)hl);
	jbuf_raw(b, json, jlen);
}
