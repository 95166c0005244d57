/*
 * Request parsing: every way a client can get a body or a query string
 * wrong must give -EINVAL and a message that names the problem; good input
 * must give exactly the struct we expect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../httpd/request.c"

#include <sys/socket.h>

/* A body parsed as a summary must fail with a message containing says. */
#define SUMMARY_BAD(body, says) summary_bad(body, sizeof(body) - 1, says)
#define LIST_BAD(body, says) list_bad(body, sizeof(body) - 1, says)

static void
assert_says(const char *err, const char *says)
{
	if (!strstr(err, says))
		fail_msg("error \"%s\" does not mention \"%s\"", err, says);
}

static void
summary_bad(const char *body, size_t len, const char *says)
{
	struct req_summary q;
	char err[REQ_ERR_MAX] = "";

	if (req_parse_summary(body, len, &q, err, sizeof(err)) != -EINVAL)
		fail_msg("summary body %.*s was accepted", (int)len, body);
	assert_says(err, says);
}

static void
list_bad(const char *body, size_t len, const char *says)
{
	struct req_list q;
	char err[REQ_ERR_MAX] = "";

	if (req_parse_list_body(body, len, &q, err, sizeof(err)) != -EINVAL)
		fail_msg("list body %.*s was accepted", (int)len, body);
	assert_says(err, says);
}

static void
query_bad(const char *qs, const char *says)
{
	struct req_list q;
	char err[REQ_ERR_MAX] = "";
	int pretty;

	if (req_parse_list_query(qs, &q, &pretty, err, sizeof(err)) != -EINVAL)
		fail_msg("query \"%s\" was accepted", qs);
	assert_says(err, says);
}

static void
test_summary_good(void **state)
{
	struct req_summary q;
	char err[REQ_ERR_MAX];
	const char *b;

	(void)state;
	b = "{\"pid\":1234,\"duration\":60}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_true(q.has_pid);
	assert_int_equal(q.pid, 1234);
	assert_string_equal(q.command, "");
	assert_int_equal(q.duration, 60);

	b = " {\"duration\":3600, \"command\":\"curl\"}\n";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_string_equal(q.command, "curl");
	assert_int_equal(q.duration, 3600);

	/* The limits themselves are valid. */
	b = "{\"pid\":4194304,\"duration\":1}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_int_equal(q.pid, 4194304);
	assert_int_equal(q.duration, 1);
	b = "{\"command\":\"123456789012345\",\"duration\":1}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_string_equal(q.command, "123456789012345");
	/* Non-ASCII names are bytes like any other: 5 x 3 = 15 bytes. */
	b = "{\"command\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\",\"duration\":1}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_int_equal(strlen(q.command), 15);

	/* "process_name", the original server's name for "command"; both
	 * may be given when they agree. */
	b = "{\"process_name\":\"curl\",\"duration\":30}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_string_equal(q.command, "curl");
	b = "{\"command\":\"curl\",\"process_name\":\"curl\",\"duration\":30}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_string_equal(q.command, "curl");
	summary_bad("{\"command\":\"curl\",\"process_name\":\"wget\","
	    "\"duration\":30}", 54, "\"command\" and \"process_name\"");
	summary_bad("{\"pid\":1,\"process_name\":\"curl\",\"duration\":30}", 45,
	    "not both");
	summary_bad("{\"process_name\":7,\"duration\":30}", 32,
	    "process_name must be a string");
	summary_bad("{\"process_name\":\"\",\"duration\":30}", 33,
	    "process_name must not be empty");
	/* Families as the numbers events carry, in a body too. */
	b = "{\"pid\":1,\"duration\":30,\"family\":10}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_true(q.filter.f.has_family && q.filter.f.family == AF_INET6);
	b = "{\"pid\":1,\"duration\":30,\"family\":\"1\"}";
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_true(q.filter.f.has_family && q.filter.f.family == AF_UNIX);
	summary_bad("{\"pid\":1,\"duration\":30,\"family\":17}", 35,
	    "family must be AF_INET");
}

static void
test_summary_syntax(void **state)
{
	(void)state;
	SUMMARY_BAD("", "invalid JSON");
	SUMMARY_BAD("{", "invalid JSON");
	SUMMARY_BAD("{\"pid\":1,\"duration\":60} x", "invalid JSON");
	SUMMARY_BAD("{\"pid\":1,\"duration\":60,}", "invalid JSON");
	/* Neither pid nor command nor any other filter: the original contract. */
	SUMMARY_BAD("{\"duration\":60}", "pid");
	/* jansson's own text and the position are passed on. */
	SUMMARY_BAD("{\"pid\":1,\n\"duration\":}", "line 2");
	SUMMARY_BAD("{\"pid\":1,\n\"duration\":}", "byte");
	/* A raw NUL is not the end of the input, and \u0000 is refused. */
	SUMMARY_BAD("{\"pid\":1,\"duration\":60}\0", "NUL byte at byte 23");
	SUMMARY_BAD("{\"command\":\"a\0b\",\"duration\":60}", "invalid JSON");
	SUMMARY_BAD("{\"command\":\"a\\u0000b\",\"duration\":60}", "invalid JSON");
	/* Invalid UTF-8 inside a string. */
	SUMMARY_BAD("{\"command\":\"\xff\",\"duration\":60}", "invalid JSON");
	SUMMARY_BAD("{\"pid\":1,\"pid\":2,\"duration\":60}", "duplicate");
	SUMMARY_BAD("[1,2]", "object");
	SUMMARY_BAD("\"pid\"", "got a string");
	SUMMARY_BAD("null", "object");
	SUMMARY_BAD("60", "object");
}

static void
test_summary_deep(void **state)
{
	size_t n = 100000;
	char *b = malloc(n);

	(void)state;
	assert_non_null(b);
	memset(b, '[', n);
	summary_bad(b, n, "invalid JSON");
	memset(b, '{', n);
	summary_bad(b, n, "invalid JSON");
	free(b);
}

static void
test_summary_types(void **state)
{
	(void)state;
	SUMMARY_BAD("{\"pid\":1,\"duration\":\"60\"}", "duration must be an integer");
	SUMMARY_BAD("{\"pid\":1,\"duration\":\"60\"}", "got a string");
	SUMMARY_BAD("{\"pid\":1,\"duration\":60.5}", "duration must be an integer");
	SUMMARY_BAD("{\"pid\":1,\"duration\":60.0}", "duration must be an integer");
	SUMMARY_BAD("{\"pid\":1,\"duration\":true}", "got true");
	SUMMARY_BAD("{\"pid\":1,\"duration\":null}", "got null");
	SUMMARY_BAD("{\"pid\":1,\"duration\":[60]}", "got an array");
	SUMMARY_BAD("{\"pid\":\"1\",\"duration\":60}", "pid must be an integer");
	SUMMARY_BAD("{\"pid\":1.5,\"duration\":60}", "pid must be an integer");
	SUMMARY_BAD("{\"command\":7,\"duration\":60}", "command must be a string");
	SUMMARY_BAD("{\"command\":null,\"duration\":60}", "command must be a string");
}

static void
test_summary_ranges(void **state)
{
	(void)state;
	SUMMARY_BAD("{\"pid\":1,\"duration\":0}", "duration must be between 1 and 3600, got 0");
	SUMMARY_BAD("{\"pid\":1,\"duration\":3601}", "got 3601");
	SUMMARY_BAD("{\"pid\":1,\"duration\":-60}", "got -60");
	SUMMARY_BAD("{\"pid\":1,\"duration\":9223372036854775807}", "duration must be between");
	/* Past json_int_t: jansson refuses the number itself. */
	SUMMARY_BAD("{\"pid\":1,\"duration\":99999999999999999999}", "invalid JSON");
	SUMMARY_BAD("{\"pid\":1,\"duration\":1e3}", "duration must be an integer");
	SUMMARY_BAD("{\"pid\":0,\"duration\":60}", "pid must be between 1 and 4194304, got 0");
	SUMMARY_BAD("{\"pid\":-4,\"duration\":60}", "got -4");
	SUMMARY_BAD("{\"pid\":4194305,\"duration\":60}", "got 4194305");
	SUMMARY_BAD("{\"pid\":4294967297,\"duration\":60}", "got 4294967297");
	SUMMARY_BAD("{\"command\":\"\",\"duration\":60}", "command must not be empty");
	SUMMARY_BAD("{\"command\":\"1234567890123456\",\"duration\":60}", "16 bytes");
}

static void
test_summary_fields(void **state)
{
	(void)state;
	SUMMARY_BAD("{\"pid\":1}", "missing field \"duration\"");
	SUMMARY_BAD("{}", "missing field");
	SUMMARY_BAD("{\"pid\":1,\"command\":\"x\",\"duration\":60}", "not both");
	SUMMARY_BAD("{\"pid\":1,\"duration\":60,\"foo\":1}", "unknown field \"foo\"");
	SUMMARY_BAD("{\"limit\":5,\"pid\":1,\"duration\":60}", "unknown field \"limit\"");
	SUMMARY_BAD("{\"PID\":1,\"duration\":60}", "unknown field \"PID\"");
}

static void
test_list_body(void **state)
{
	struct req_list q;
	char err[REQ_ERR_MAX];
	const char *b;

	(void)state;
	/* No body, blank body and {} all mean "everything". */
	assert_int_equal(req_parse_list_body("", 0, &q, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_string_equal(q.command, "");
	assert_int_equal(q.limit, REQ_LIMIT_DEFAULT);
	assert_int_equal(req_parse_list_body(" \r\n\t", 4, &q, err, sizeof(err)), 0);
	assert_int_equal(q.limit, REQ_LIMIT_DEFAULT);
	assert_int_equal(req_parse_list_body("{}", 2, &q, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_int_equal(q.limit, REQ_LIMIT_DEFAULT);

	b = "{\"pid\":42,\"limit\":1000,\"command\":\"nc\"}";
	assert_int_equal(req_parse_list_body(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_true(q.has_pid);
	assert_int_equal(q.pid, 42);
	assert_int_equal(q.limit, 1000);
	assert_string_equal(q.command, "nc");

	LIST_BAD("{\"limit\":0}", "limit must be between 1 and 1000, got 0");
	LIST_BAD("{\"limit\":1001}", "got 1001");
	LIST_BAD("{\"limit\":\"5\"}", "limit must be an integer");
	LIST_BAD("{\"limit\":5.5}", "limit must be an integer");
	LIST_BAD("{\"pid\":0}", "pid must be between");
	LIST_BAD("{\"pid\":null}", "pid must be an integer");
	LIST_BAD("{\"command\":\"\"}", "command must not be empty");
	LIST_BAD("{\"duration\":60}", "unknown field \"duration\"");
	LIST_BAD("nonsense", "invalid JSON");
	LIST_BAD("[]", "object");
	LIST_BAD("{\"limit\":1,\"limit\":2}", "duplicate");
}

static void
test_query_good(void **state)
{
	struct req_list q;
	char err[REQ_ERR_MAX];
	int pretty = -1;

	(void)state;
	assert_int_equal(req_parse_list_query(NULL, &q, &pretty, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_int_equal(q.limit, REQ_LIMIT_DEFAULT);
	assert_int_equal(pretty, 0);
	assert_int_equal(req_parse_list_query("", &q, &pretty, err, sizeof(err)), 0);

	assert_int_equal(req_parse_list_query("pid=1234&limit=7&command=curl",
	    &q, &pretty, err, sizeof(err)), 0);
	assert_true(q.has_pid);
	assert_int_equal(q.pid, 1234);
	assert_int_equal(q.limit, 7);
	assert_string_equal(q.command, "curl");
	assert_int_equal(pretty, 0);

	/* Percent-decoding of names and values, '+' as space, empty segments. */
	assert_int_equal(req_parse_list_query("%70id=%31%32&&command=a+b%2fc&",
	    &q, &pretty, err, sizeof(err)), 0);
	assert_int_equal(q.pid, 12);
	assert_string_equal(q.command, "a b/c");
	assert_int_equal(req_parse_list_query("limit=1000&pid=4194304&pretty",
	    &q, &pretty, err, sizeof(err)), 0);
	assert_int_equal(q.limit, 1000);
	assert_int_equal(q.pid, 4194304);
	assert_int_equal(pretty, 1);
	/* Leading zeros are still a decimal number. */
	assert_int_equal(req_parse_list_query("pid=007", &q, &pretty, err,
	    sizeof(err)), 0);
	assert_int_equal(q.pid, 7);
}

static void
test_query_bad(void **state)
{
	(void)state;
	query_bad("pid=abc", "pid must be an integer");
	query_bad("pid=12abc", "\"12abc\"");
	query_bad("pid=", "pid must be an integer");
	query_bad("pid", "pid must be an integer");
	query_bad("pid=+1", "pid must be an integer");
	query_bad("pid=%201", "pid must be an integer");
	query_bad("pid=0x10", "pid must be an integer");
	query_bad("pid=1.0", "pid must be an integer");
	query_bad("pid=-1", "pid must be between 1 and 4194304, got -1");
	query_bad("pid=-0", "pid must be between");
	query_bad("pid=-", "pid must be an integer");
	query_bad("pid=0", "got 0");
	query_bad("pid=4194305", "got 4194305");
	query_bad("pid=99999999999999999999", "got 99999999999999999999");
	query_bad("pid=18446744073709551617", "pid must be between");
	query_bad("limit=0", "limit must be between 1 and 1000, got 0");
	query_bad("limit=1001", "got 1001");
	query_bad("limit=abc", "limit must be an integer");
	query_bad("pid=1&pid=2", "\"pid\" given more than once");
	query_bad("pid=1&%70id=1", "more than once");
	query_bad("limit=5&limit=5", "more than once");
	query_bad("foo=1", "unknown query parameter \"foo\"");
	query_bad("pid=1&duration=60", "unknown query parameter \"duration\"");
	query_bad("=1", "unknown query parameter \"\"");
	query_bad("aVeryLongParameterNameThatIsLongerThanAnyWeKnow=1",
	    "unknown query parameter");
	query_bad("pid=%", "malformed percent-encoding in query parameter \"pid\"");
	query_bad("pid=%4", "malformed percent-encoding");
	query_bad("pid=%zz", "malformed percent-encoding");
	query_bad("command=a%00b", "malformed percent-encoding");
	query_bad("p%id=1", "malformed percent-encoding in query parameter name");
	query_bad("command=", "command must not be empty");
	query_bad("command=1234567890123456", "16 bytes");
	query_bad("command=12345678901234567890123456789012345678901234567890"
	    "12345678901234567890", "too long");
	query_bad("pretty=yes", "pretty must be");
}

static void
test_query_pretty(void **state)
{
	char err[REQ_ERR_MAX];
	int pretty;

	(void)state;
	assert_int_equal(req_parse_query(NULL, &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 0);
	assert_int_equal(req_parse_query("pretty=1", &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 1);
	assert_int_equal(req_parse_query("pretty=true", &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 1);
	assert_int_equal(req_parse_query("pretty", &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 1);
	assert_int_equal(req_parse_query("pretty=0", &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 0);
	assert_int_equal(req_parse_query("pretty=false", &pretty, err, sizeof(err)), 0);
	assert_int_equal(pretty, 0);
	assert_int_equal(req_parse_query("pretty=2", &pretty, err, sizeof(err)), -EINVAL);
	assert_says(err, "pretty must be");
	assert_int_equal(req_parse_query("pid=1", &pretty, err, sizeof(err)), -EINVAL);
	assert_says(err, "unknown query parameter \"pid\"");
	assert_int_equal(req_parse_query("pretty=1&pretty=1", &pretty, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "more than once");

	/* The best-effort reading used for error responses. */
	assert_true(req_want_pretty("pretty"));
	assert_true(req_want_pretty("pid=x&pretty=1"));
	assert_true(req_want_pretty("pretty=true&pid=1&pid=2"));
	assert_false(req_want_pretty(NULL));
	assert_false(req_want_pretty("pretty=0"));
	assert_false(req_want_pretty("prettyx=1"));
	assert_false(req_want_pretty("xpretty=1"));
}

static void
test_url_decode(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(req_url_decode("a%41+%7e", 8, out, sizeof(out)), 4);
	assert_string_equal(out, "aA ~");
	assert_int_equal(req_url_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Only len bytes are read. */
	assert_int_equal(req_url_decode("abc%zz", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(req_url_decode("%", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(req_url_decode("%a", 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(req_url_decode("%g0", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(req_url_decode("%00", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(req_url_decode("a\0b", 3, out, sizeof(out)), -EINVAL);
	/* 7 bytes and the NUL fit in 8; 8 do not. */
	assert_int_equal(req_url_decode("1234567", 7, out, sizeof(out)), 7);
	assert_int_equal(req_url_decode("12345678", 8, out, sizeof(out)),
	    -ENAMETOOLONG);
	assert_int_equal(req_url_decode("a", 1, out, 0), -ENAMETOOLONG);
	/* Raw high bytes pass through; sanitising is the encoder's job. */
	assert_int_equal(req_url_decode("%ff", 3, out, sizeof(out)), 1);
	assert_int_equal((unsigned char)out[0], 0xff);
}

static void
test_err_truncated(void **state)
{
	struct req_summary q;
	char err[8];

	(void)state;
	/* A short err buffer is filled and terminated, never overrun. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(req_parse_summary("{", 1, &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(req_parse_summary("{", 1, &q, NULL, 0), -EINVAL);
}

static void
test_bearer(void **state)
{
	(void)state;
	assert_int_equal(req_bearer_ok("Bearer s3cret", "s3cret"), 1);
	assert_int_equal(req_bearer_ok("bearer s3cret", "s3cret"), 1);
	assert_int_equal(req_bearer_ok("BEARER   s3cret  ", "s3cret"), 1);
	assert_int_equal(req_bearer_ok("Bearer s3cre", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer s3crett", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer S3cret", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer s3creT", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer ", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("s3cret", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Basic s3cret", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearers3cret", "s3cret"), 0);
	assert_int_equal(req_bearer_ok("Bearer s3cret\x00x", "s3cret"), 1);
}

/* The summary without pid or command counts everything; filters ride along. */
static void
test_summary_filters(void **state)
{
	struct req_summary q;
	char err[REQ_ERR_MAX];
	const char *b = "{\"duration\":60,\"port\":53,\"failed\":true,"
	    "\"protocol\":\"udp\",\"since\":30,\"ip\":\"10.0.0.0/8\","
	    "\"family\":\"inet\",\"syscall\":\"sendto\"}";

	(void)state;
	assert_int_equal(req_parse_summary(b, strlen(b), &q, err, sizeof(err)), 0);
	assert_false(q.has_pid);
	assert_string_equal(q.command, "");
	assert_true(q.filter.f.has_port && q.filter.f.port == 53);
	assert_true(q.filter.f.has_failed && q.filter.f.failed == 1);
	assert_true(q.filter.f.has_protocol);
	assert_string_equal(q.filter.f.protocol, "UDP");
	assert_true(q.filter.has_since && q.filter.since_relative &&
	    q.filter.since_ago == 30);
	assert_true(q.filter.f.has_ip && q.filter.f.ip_family == AF_INET &&
	    q.filter.f.prefix == 8 && q.filter.f.ip[0] == 10);
	assert_true(q.filter.f.has_family && q.filter.f.family == AF_INET);
	assert_true(q.filter.f.has_syscall && q.filter.f.syscall == EV_SENDTO);
	SUMMARY_BAD("{\"duration\":60,\"port\":\"x\"}", "port must be an integer");
	SUMMARY_BAD("{\"duration\":60,\"port\":70000}", "port must be between 0 and 65535");
	SUMMARY_BAD("{\"duration\":60,\"port\":true}", "port must be an integer, got true");
	SUMMARY_BAD("{\"duration\":60,\"failed\":\"maybe\"}", "failed must be true or false");
	SUMMARY_BAD("{\"duration\":60,\"failed\":2}", "failed must be true or false, got an integer");
	SUMMARY_BAD("{\"duration\":60,\"protocol\":7}", "protocol must be a string");
	LIST_BAD("{\"ip\":\"10.0.0.1/33\"}", "prefix length /33");
	LIST_BAD("{\"syscall\":\"recvfrom\"}", "syscall must be connect, sendto or sendmsg");
}

static void
filter_bad(const char *qs, const char *says)
{
	query_bad(qs, says);
}

static void
test_query_filters(void **state)
{
	struct req_list q;
	char err[REQ_ERR_MAX];
	int pretty;

	(void)state;
	assert_int_equal(req_parse_list_query("port=443&ip=2001:db8::/32&"
	    "protocol=TCP&family=AF_INET6&failed=0&syscall=connect&"
	    "since=2026-11-25T11:31:15Z", &q, &pretty, err, sizeof(err)), 0);
	assert_true(q.filter.f.has_port && q.filter.f.port == 443);
	assert_true(q.filter.f.ip_family == AF_INET6 && q.filter.f.prefix == 32);
	assert_true(q.filter.f.ip[0] == 0x20 && q.filter.f.ip[1] == 0x01 &&
	    q.filter.f.ip[2] == 0x0d && q.filter.f.ip[3] == 0xb8);
	assert_string_equal(q.filter.f.protocol, "TCP");
	assert_true(q.filter.f.family == AF_INET6);
	assert_true(q.filter.f.has_failed && q.filter.f.failed == 0);
	assert_true(q.filter.f.has_syscall && q.filter.f.syscall == EV_CONNECT);
	assert_true(q.filter.has_since && !q.filter.since_relative);
	assert_true(q.filter.f.since_ns == 1795606275ULL * 1000000000ULL);
	/* An exact address is a full-length prefix; unix and since=0. */
	assert_int_equal(req_parse_list_query("ip=127.0.0.1&protocol=unix&"
	    "since=0&family=unix&failed=true", &q, &pretty, err, sizeof(err)), 0);
	assert_true(q.filter.f.prefix == 32 && q.filter.f.ip[0] == 127 &&
	    q.filter.f.ip[3] == 1);
	assert_string_equal(q.filter.f.protocol, "UNIX");
	assert_true(q.filter.since_relative && q.filter.since_ago == 0);
	assert_true(q.filter.f.family == AF_UNIX && q.filter.f.failed == 1);
	assert_int_equal(req_parse_list_query("ip=0.0.0.0/0", &q, &pretty, err,
	    sizeof(err)), 0);
	assert_true(q.filter.f.prefix == 0);
	/* An IPv4-mapped network is the IPv4 network it maps. */
	assert_int_equal(req_parse_list_query("ip=::ffff:10.1.0.0/112", &q,
	    &pretty, err, sizeof(err)), 0);
	assert_true(q.filter.f.ip_family == AF_INET && q.filter.f.prefix == 16);
	assert_true(q.filter.f.ip[0] == 10 && q.filter.f.ip[1] == 1 &&
	    q.filter.f.ip[4] == 0);
	assert_int_equal(req_parse_list_query("ip=::fffe:0:0/96", &q,
	    &pretty, err, sizeof(err)), 0);
	assert_true(q.filter.f.ip_family == AF_INET6 && q.filter.f.prefix == 96);

	filter_bad("port=-1", "port must be between 0 and 65535");
	filter_bad("port=http", "port must be an integer");
	filter_bad("ip=10.0.0.256", "ip must be an IPv4 or IPv6 address");
	filter_bad("ip=10.0.0.0/", "ip must be");
	filter_bad("ip=10.0.0.0/8x", "ip must be");
	filter_bad("ip=10.1.0.0/8", "bits set after the prefix length");
	filter_bad("ip=::1/129", "prefix length /129");
	filter_bad("ip=", "ip must be");
	filter_bad("protocol=http", "protocol must be one of");
	filter_bad("family=AF_PACKET", "family must be AF_INET");
	filter_bad("family=17", "or 2, 10, 1");
	filter_bad("failed=yes", "failed must be true or false");
	filter_bad("since=yesterday", "since must be an RFC 3339 time");
	filter_bad("since=2026-13-01T00:00:00Z", "since must be an RFC 3339 time");
	filter_bad("since=999999999999", "since must be between 0 and");
	filter_bad("syscall=write", "syscall must be connect, sendto or sendmsg");
	filter_bad("port=1&port=2", "given more than once");
	filter_bad("host=x", "unknown query parameter \"host\"");
}

static void
test_top_query(void **state)
{
	struct req_top t;
	char err[REQ_ERR_MAX] = "";
	int pretty;

	(void)state;
	assert_int_equal(req_parse_top_query("by=destination", &t, &pretty, err,
	    sizeof(err)), 0);
	assert_true(t.by == REQ_TOP_DESTINATION && t.duration ==
	    REQ_TOP_DURATION_DEFAULT && t.limit == REQ_TOP_DEFAULT && !pretty);
	assert_int_equal(req_parse_top_query("by=port&duration=3600&limit=3&"
	    "command=dig&protocol=udp&pretty=1", &t, &pretty, err, sizeof(err)), 0);
	assert_true(t.by == REQ_TOP_PORT && t.duration == 3600 && t.limit == 3 &&
	    pretty);
	assert_string_equal(t.command, "dig");
	assert_string_equal(t.filter.f.protocol, "UDP");
	assert_int_equal(req_parse_top_query("by=command", &t, &pretty, err,
	    sizeof(err)), 0);
	assert_true(t.by == REQ_TOP_COMMAND);
	assert_int_equal(req_parse_top_query(NULL, &t, &pretty, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "missing query parameter \"by\"");
	assert_int_equal(req_parse_top_query("by=pid", &t, &pretty, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "by must be command, destination or port");
	assert_int_equal(req_parse_top_query("by=port&duration=0", &t, &pretty,
	    err, sizeof(err)), -EINVAL);
	assert_says(err, "duration must be between 1 and 3600");
	assert_int_equal(req_parse_top_query("by=port&limit=1001", &t, &pretty,
	    err, sizeof(err)), -EINVAL);
	assert_says(err, "limit must be between 1 and 1000");
	assert_int_equal(req_parse_top_query("by=port&port=x", &t, &pretty,
	    err, sizeof(err)), -EINVAL);
	assert_says(err, "port must be an integer");
}

static void
test_stream_query(void **state)
{
	struct req_stream q;
	char err[REQ_ERR_MAX] = "";

	(void)state;
	assert_int_equal(req_parse_stream_query(NULL, &q, err, sizeof(err)), 0);
	assert_false(q.has_pid || q.filter.f.has_port);
	assert_int_equal(req_parse_stream_query("pid=5&command=x&syscall=sendmsg",
	    &q, err, sizeof(err)), 0);
	assert_true(q.has_pid && q.pid == 5 && q.filter.f.syscall == EV_SENDMSG);
	assert_string_equal(q.command, "x");
	assert_int_equal(req_parse_stream_query("pretty=1", &q, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "pretty is not available on a stream");
	assert_int_equal(req_parse_stream_query("limit=5", &q, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "unknown query parameter \"limit\"");
	assert_int_equal(req_parse_stream_query("pid=0", &q, err,
	    sizeof(err)), -EINVAL);
	assert_says(err, "pid must be between 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_good),
		cmocka_unit_test(test_summary_syntax),
		cmocka_unit_test(test_summary_deep),
		cmocka_unit_test(test_summary_types),
		cmocka_unit_test(test_summary_ranges),
		cmocka_unit_test(test_summary_fields),
		cmocka_unit_test(test_list_body),
		cmocka_unit_test(test_query_good),
		cmocka_unit_test(test_query_bad),
		cmocka_unit_test(test_query_pretty),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_err_truncated),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_summary_filters),
		cmocka_unit_test(test_query_filters),
		cmocka_unit_test(test_top_query),
		cmocka_unit_test(test_stream_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
