/*
 * JSON output: the UTF-8 sanitiser against the cases Unicode spells out,
 * events with every field checked, and the response encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../httpd/json.c"

#define R UTF8_REPLACEMENT

/* Sanitise a string literal (its NULs included) and compare. */
#define SAN(in, want) san(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void
san(const char *in, size_t len, const char *want, size_t wantlen)
{
	char out[256];
	size_t n;

	n = json_str_sanitize(in, len, out, sizeof(out));
	if (n != wantlen || memcmp(out, want, n) != 0 || out[n] != '\0')
		fail_msg("sanitising %zu bytes gave %zu bytes, want %zu", len, n,
		    wantlen);
}

static void
test_sanitize_valid(void **state)
{
	(void)state;
	SAN("", "");
	SAN("curl", "curl");
	SAN("caf\xc3\xa9", "caf\xc3\xa9");               /* U+00E9 */
	SAN("\xe2\x82\xac", "\xe2\x82\xac");             /* U+20AC */
	SAN("\xf0\x9d\x84\x9e", "\xf0\x9d\x84\x9e");     /* U+1D11E */
	SAN("\xef\xbf\xbd", "\xef\xbf\xbd");             /* U+FFFD itself */
	SAN("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");     /* U+10FFFF */
	SAN("\xed\x9f\xbf", "\xed\x9f\xbf");             /* U+D7FF */
	SAN("\x01\x1f\x7f", "\x01\x1f\x7f");             /* controls: JSON escapes them */
}

static void
test_sanitize_invalid(void **state)
{
	(void)state;
	SAN("\x80", R);
	SAN("a\xff" "b", "a" R "b");
	SAN("\xfe\xff", R R);
	SAN("a\0b", "a" R "b");                          /* NUL */
	/* Truncated sequences: one U+FFFD, the next byte survives. */
	SAN("\xe2\x82", R);
	SAN("\xe2\x82" "A", R "A");
	SAN("\xf0\x9f\x98", R);
	SAN("\xf0\x9f\x98" "\xc3\xa9", R "\xc3\xa9");
	SAN("\xc3", R);
	/* Overlong forms, surrogates, past U+10FFFF: Unicode's Table 3-8. */
	SAN("\xc0\xaf", R R);
	SAN("\xc1\xbf", R R);
	SAN("\xe0\x80\xaf", R R R);
	SAN("\xf0\x80\x80\xaf", R R R R);
	SAN("\xed\xa0\x80", R R R);
	SAN("\xed\xbf\xbf", R R R);
	SAN("\xf4\x90\x80\x80", R R R R);
	SAN("\xf5\x80\x80\x80", R R R R);
	SAN("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	    "a" R R R "b" R "c" R R "d");                 /* Unicode's example */
}

static void
test_sanitize_short_buffer(void **state)
{
	char out[5];

	(void)state;
	/* Characters that do not fit are dropped whole, never cut. */
	assert_int_equal(json_str_sanitize("ab\xe2\x82\xac", 5, out, sizeof(out)), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(json_str_sanitize("abc\xff", 4, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(json_str_sanitize("abcd", 4, out, sizeof(out)), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(json_str_sanitize("abcde", 5, out, sizeof(out)), 4);
	assert_int_equal(json_str_sanitize("abc", 3, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(json_str_sanitize("abc", 3, out, 0), 0);
}

/* Whatever the bytes, the result is something jansson accepts. */
static void
test_sanitize_random(void **state)
{
	unsigned char in[64];
	char out[3 * sizeof(in) + 1];
	unsigned seed = 1;
	size_t i, len, n;
	json_t *s;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = (size_t)rand_r(&seed) % sizeof(in);
		for (i = 0; i < len; i++) {
			/* Bias towards the interesting bytes. */
			in[i] = (unsigned char)rand_r(&seed);
			if (rand_r(&seed) % 2)
				in[i] |= 0x80;
		}
		n = json_str_sanitize((char *)in, len, out, sizeof(out));
		assert_true(n < sizeof(out));
		assert_int_equal(strlen(out), n);
		if (!(s = json_stringn(out, n)))
			fail_msg("round %d: jansson refused the sanitised string", round);
		json_decref(s);
	}
}

static void
test_str_new(void **state)
{
	char big[1000];
	json_t *s;

	(void)state;
	/* json_string() would return NULL for this. */
	assert_null(json_string("bad\xff"));
	s = json_str_new("bad\xff", 4);
	assert_non_null(s);
	assert_string_equal(json_string_value(s), "bad" R);
	json_decref(s);

	/* Longer than the stack buffer: the heap path. */
	memset(big, '\xff', sizeof(big));
	s = json_str_new(big, sizeof(big));
	assert_non_null(s);
	assert_int_equal(json_string_length(s), 3 * sizeof(big));
	json_decref(s);
}

/*
 * The event as jansson builds it, field for field: the reference the one
 * encoder, jbuf_event(), is held to.
 */
static json_t *
str(const char *s)
{
	return json_str_new(s, strlen(s));
}

static json_t *
ref_event_new(const struct event *ev)
{
	char dst[EV_PATH_MAX + 64], ip[64], ts[40];
	json_t *o;
	int rc = 0;

	if (!(o = json_object()))
		return NULL;
	/* The formatters truncate like snprintf; buffers hold the longest
	 * unix path and "[v6]:port", so nothing is cut in practice. */
	ev_destination(ev, dst, sizeof(dst));
	ev_ip(ev, ip, sizeof(ip));
	if (time_rfc3339(ev->ts, ts, sizeof(ts)) < 0)
		ts[0] = '\0';

	rc |= json_set(o, "pid", json_integer(ev->pid));
	rc |= json_set(o, "tid", json_integer(ev->tid));
	rc |= json_set(o, "ppid", json_integer(ev->ppid));
	rc |= json_set(o, "uid", json_integer(ev->uid));
	rc |= json_set(o, "gid", json_integer(ev->gid));
	rc |= json_set(o, "command",
	    json_str_new(ev->comm, strnlen(ev->comm, sizeof(ev->comm))));
	rc |= json_set(o, "destination",
	    json_str_new(dst, strnlen(dst, sizeof(dst))));
	rc |= json_set(o, "destination_ip", str(ip));
	rc |= json_set(o, "destination_port", json_integer(ev->port));
	/* A number (2, 10, 1), as the original server sends it. */
	rc |= json_set(o, "address_family", json_integer(ev->family));
	rc |= json_set(o, "protocol", str(ev_protocol_name(ev)));
	rc |= json_set(o, "socket_type", str(ev_type_name(ev)));
	rc |= json_set(o, "service", str(ev_service(ev)));
	rc |= json_set(o, "syscall", str(ev_syscall_name(ev)));
	rc |= json_set(o, "count", json_integer(ev->count));
	rc |= json_set(o, "return_code",
	    ev->ret_unknown ? json_null() : json_integer(ev->ret));
	rc |= json_set(o, "result", str(ev_result_name(ev)));
	/* json_int_t is signed 64-bit; cgroup ids are kernfs node ids, far
	 * below 2^63. */
	rc |= json_set(o, "cgroup_id", json_integer((json_int_t)ev->cgroup_id));
	rc |= json_set(o, "timestamp", str(ts));
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}


static json_t *
event_json(const struct event *ev)
{
	json_t *o = ref_event_new(ev);

	assert_non_null(o);
	return o;
}

static void
assert_int_field(const json_t *o, const char *key, json_int_t want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("field %s is missing or not an integer", key);
	if (json_integer_value(v) != want)
		fail_msg("field %s is %lld, want %lld", key,
		    (long long)json_integer_value(v), (long long)want);
}

static void
assert_str_field(const json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("field %s is missing or not a string", key);
	if (strcmp(json_string_value(v), want) != 0)
		fail_msg("field %s is \"%s\", want \"%s\"", key,
		    json_string_value(v), want);
}

static void
test_event_inet(void **state)
{
	static const char *keys[] = {
		"pid", "tid", "ppid", "uid", "gid", "command", "destination",
		"destination_ip", "destination_port", "address_family", "protocol",
		"socket_type", "service", "syscall", "count", "return_code",
		"result", "cgroup_id", "timestamp",
	};
	struct event ev;
	const char *key;
	json_t *o, *v;
	size_t i = 0;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.ts = 1764070275123456789ull;      /* 2025-11-25T11:31:15.123456789Z */
	ev.cgroup_id = 4294967297ull;
	ev.pid = 1234;
	ev.tid = 1235;
	ev.ppid = 1;
	ev.uid = 1000;
	ev.gid = 100;
	ev.ret = -115;                       /* -EINPROGRESS */
	ev.count = 1;
	ev.family = AF_INET;
	ev.port = 443;
	ev.sock_type = SOCK_STREAM;
	ev.protocol = IPPROTO_TCP;
	ev.syscall = EV_CONNECT;
	strcpy(ev.comm, "curl");
	inet_pton(AF_INET, "93.184.216.34", ev.ip);

	o = event_json(&ev);
	/* Every field, in the documented order, and nothing else. */
	assert_int_equal(json_object_size(o), sizeof(keys) / sizeof(keys[0]));
	json_object_foreach(o, key, v) {
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_int_field(o, "pid", 1234);
	assert_int_field(o, "tid", 1235);
	assert_int_field(o, "ppid", 1);
	assert_int_field(o, "uid", 1000);
	assert_int_field(o, "gid", 100);
	assert_str_field(o, "command", "curl");
	assert_str_field(o, "destination", "93.184.216.34:443");
	assert_str_field(o, "destination_ip", "93.184.216.34");
	assert_int_field(o, "destination_port", 443);
	assert_int_field(o, "address_family", 2);
	assert_str_field(o, "protocol", "TCP");
	assert_str_field(o, "socket_type", "STREAM");
	assert_str_field(o, "service", "https");
	assert_str_field(o, "syscall", "connect");
	assert_int_field(o, "count", 1);
	assert_int_field(o, "return_code", -115);
	assert_str_field(o, "result", "unknown");
	assert_int_field(o, "cgroup_id", 4294967297ll);
	json_decref(o);
	/* A backend that cannot see return codes: null, never 0. */
	ev.ret = 0;
	ev.ret_unknown = 1;
	ev.result = EV_RESULT_REFUSED;
	o = event_json(&ev);
	assert_true(json_is_null(json_object_get(o, "return_code")));
	assert_str_field(o, "result", "refused");
	assert_str_field(o, "timestamp", "2025-11-25T11:31:15.123456789Z");
	json_decref(o);
}

static void
test_event_inet6_udp(void **state)
{
	struct event ev;
	json_t *o;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.pid = 4194304;
	ev.uid = 4294967295u;                /* (uid_t)-1 stays unsigned */
	ev.count = 7;
	ev.family = AF_INET6;
	ev.port = 53;
	ev.sock_type = SOCK_DGRAM;
	ev.protocol = IPPROTO_UDP;
	ev.syscall = EV_SENDMSG;
	strcpy(ev.comm, "systemd-resolve");
	inet_pton(AF_INET6, "2001:db8::1", ev.ip);

	o = event_json(&ev);
	assert_int_field(o, "pid", 4194304);
	assert_int_field(o, "uid", 4294967295ll);
	assert_int_field(o, "count", 7);
	assert_str_field(o, "command", "systemd-resolve");
	assert_str_field(o, "destination", "[2001:db8::1]:53");
	assert_str_field(o, "destination_ip", "2001:db8::1");
	assert_int_field(o, "address_family", 10);
	assert_str_field(o, "protocol", "UDP");
	assert_str_field(o, "socket_type", "DGRAM");
	assert_str_field(o, "service", "dns");
	assert_str_field(o, "syscall", "sendmsg");
	assert_str_field(o, "timestamp", "1970-01-01T00:00:00.000000000Z");
	json_decref(o);
}

static void
test_event_raw_bytes(void **state)
{
	struct event ev;
	json_t *o;
	char *s;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.family = AF_UNIX;
	ev.sock_type = SOCK_STREAM;
	/* prctl(PR_SET_NAME) takes any bytes; so does a unix socket path. */
	memcpy(ev.comm, "ev\xffil\xe2\x82", 7);
	strcpy(ev.path, "/run/\xc0\xafsock");
	o = event_json(&ev);
	assert_str_field(o, "command", "ev" R "il" R);
	assert_str_field(o, "destination", "/run/" R R "sock");
	assert_str_field(o, "destination_ip", "");
	assert_int_field(o, "destination_port", 0);
	assert_int_field(o, "address_family", 1);
	assert_str_field(o, "protocol", "UNIX");
	assert_str_field(o, "service", "");
	s = json_dumps(o, 0);
	assert_non_null(s);
	free(s);
	json_decref(o);

	/* A full comm without a NUL must not be read past. */
	memset(ev.comm, 'x', sizeof(ev.comm));
	o = event_json(&ev);
	assert_str_field(o, "command", "xxxxxxxxxxxxxxxx");
	json_decref(o);
}

static void
test_error_and_body(void **state)
{
	json_t *o;
	char *b;
	size_t len = 0;

	(void)state;
	o = json_error_new(400, "unknown field \"\xff\"");
	assert_non_null(o);
	b = json_body(o, 0, &len);
	assert_non_null(b);
	assert_string_equal(b, "{\"error\":\"Bad Request\",\"message\":"
	    "\"unknown field \\\"" R "\\\"\"}\n");
	assert_int_equal(len, strlen(b));
	free(b);

	b = json_body(o, 1, &len);
	assert_non_null(b);
	assert_string_equal(b, "{\n  \"error\": \"Bad Request\",\n  \"message\": "
	    "\"unknown field \\\"" R "\\\"\"\n}\n");
	assert_int_equal(len, strlen(b));
	free(b);
	json_decref(o);

	/* The status texts are Go's, which the original server sends. */
	assert_string_equal(json_status_text(405), "Method Not Allowed");
	assert_string_equal(json_status_text(408), "Request Timeout");
	assert_string_equal(json_status_text(413), "Request Entity Too Large");
	assert_string_equal(json_status_text(503), "Service Unavailable");
	assert_string_equal(json_status_text(499), "Bad Request");
	assert_string_equal(json_status_text(599), "Internal Server Error");

	/* Key order is insertion order, numbers are plain. */
	o = json_object();
	assert_int_equal(json_set(o, "b", json_integer(-1)), 0);
	assert_int_equal(json_set(o, "a", json_true()), 0);
	assert_int_equal(json_set(o, "c", NULL), -ENOMEM);
	b = json_body(o, 0, &len);
	assert_string_equal(b, "{\"b\":-1,\"a\":true}\n");
	free(b);
	json_decref(o);
}

/* The hand-written encoder writes what jansson writes, byte for byte. */
static void
same_as_jansson(const struct event *ev)
{
	struct jbuf b = { 0 };
	json_t *o = ref_event_new(ev);
	char *want;

	assert_non_null(o);
	want = json_dumps(o, JSON_COMPACT);
	assert_non_null(want);
	jbuf_event(&b, ev, NULL, 0, -1);
	assert_int_equal(b.err, 0);
	if (strcmp(b.p, want) != 0)
		fail_msg("jbuf_event:\n%s\njansson:\n%s", b.p, want);
	free(want);
	/* Indented, and with a cgroup path as the API adds it. */
	assert_int_equal(json_object_set_new(o, "cgroup",
	    json_str_new("/sys\"\xff", 6)), 0);
	want = json_dumps(o, JSON_INDENT(2));
	assert_non_null(want);
	b.len = 0;
	jbuf_event(&b, ev, "/sys\"\xff", 6, 0);
	assert_int_equal(b.err, 0);
	if (strcmp(b.p, want) != 0)
		fail_msg("jbuf_event, indented:\n%s\njansson:\n%s", b.p, want);
	free(want);
	free(b.p);
	json_decref(o);
}

static void
test_jbuf_event_matches_jansson(void **state)
{
	struct event ev;
	uint32_t seed = 7;
	int i, j;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.pid = 4294967295u;
	ev.ret = -111;
	ev.ts = 1764000000123456789ULL;
	ev.cgroup_id = 1ULL << 62;
	ev.family = AF_INET;
	ev.port = 443;
	ev.sock_type = SOCK_STREAM;
	ev.protocol = IPPROTO_TCP;
	ev.ip[0] = 93, ev.ip[3] = 34;
	strcpy(ev.comm, "curl");
	same_as_jansson(&ev);
	ev.ret_unknown = 1;
	ev.result = EV_RESULT_TIMEOUT;
	same_as_jansson(&ev);
	ev.ret_unknown = 0;
	/* Quotes, backslashes, controls, DEL, invalid UTF-8 in a comm. */
	memcpy(ev.comm, "a\"b\\c\x01\n\t\x7f\xff\xc3\xa9", 13);
	same_as_jansson(&ev);
	/* Unix paths, abstract ones and odd bytes; unknown families. */
	ev.family = AF_UNIX;
	ev.protocol = 0;
	strcpy(ev.path, "/run/a \"quoted\" \\ path\x1f.sock");
	same_as_jansson(&ev);
	strcpy(ev.path, "@abstract\x08name");
	same_as_jansson(&ev);
	ev.family = 12345;
	ev.sock_type = EV_UNKNOWN;
	ev.protocol = EV_UNKNOWN;
	same_as_jansson(&ev);
	/* The family is the number in both, whatever it is. */
	{
		struct jbuf b = { 0 };

		jbuf_event(&b, &ev, NULL, 0, -1);
		assert_non_null(strstr(b.p, ",\"address_family\":12345,"));
		free(b.p);
	}
	/* Random bytes everywhere. */
	for (i = 0; i < 500; i++) {
		unsigned char *p = (unsigned char *)&ev;

		for (j = 0; j < (int)sizeof(ev); j++) {
			seed = seed * 1103515245u + 12345u;
			p[j] = (unsigned char)(seed >> 16);
		}
		ev.comm[EV_COMM_LEN - 1] = '\0';
		ev.path[sizeof(ev.path) - 1] = '\0';
		ev.family = i % 4 == 0 ? AF_UNIX : i % 4 == 1 ? AF_INET :
		    i % 4 == 2 ? AF_INET6 : ev.family;
		ev.ts %= 4000000000ULL * 1000000000ULL;
		ev.cgroup_id >>= 1;
		same_as_jansson(&ev);
	}
}

/* A jbuf on the caller's storage stays there while the text fits, and
 * moves to the heap, text and all, when it does not. */
static void
test_jbuf_borrowed(void **state)
{
	char room[16], big[5000];
	struct jbuf b;

	(void)state;
	jbuf_init(&b, room, sizeof(room));
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	jbuf_str(&b, "{\"a\":");
	jbuf_int(&b, 12345678);
	assert_ptr_equal(b.p, room);
	assert_string_equal(room, "{\"a\":12345678");
	/* 13 bytes and the NUL fill 14 of 16: three more do not fit. */
	jbuf_str(&b, "}\n!");
	assert_ptr_not_equal(b.p, room);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 16);
	assert_string_equal(b.p, "{\"a\":12345678}\n!");
	/* On the heap it grows as before. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jbuf_str(&b, big);
	assert_int_equal(b.len, 16 + sizeof(big) - 1);
	assert_memory_equal(b.p, "{\"a\":12345678}\n!xxx", 19);
	assert_int_equal(b.p[b.len], '\0');
	jbuf_free(&b);
	assert_null(b.p);
	/* Freeing one that never left its room frees nothing. */
	jbuf_init(&b, room, sizeof(room));
	jbuf_str(&b, "ok");
	jbuf_free(&b);
	assert_string_equal(room, "ok");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_valid),
		cmocka_unit_test(test_sanitize_invalid),
		cmocka_unit_test(test_sanitize_short_buffer),
		cmocka_unit_test(test_sanitize_random),
		cmocka_unit_test(test_str_new),
		cmocka_unit_test(test_event_inet),
		cmocka_unit_test(test_event_inet6_udp),
		cmocka_unit_test(test_event_raw_bytes),
		cmocka_unit_test(test_error_and_body),
		cmocka_unit_test(test_jbuf_event_matches_jansson),
		cmocka_unit_test(test_jbuf_borrowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
