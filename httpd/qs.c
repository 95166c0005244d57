/*
 * Query strings: percent-decoding, splitting into the parameters an
 * endpoint knows (anything else is an error), and each endpoint's
 * parameters.  Pure functions, like the rest of the request parsing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpd/request.h"
#include "httpd/request_impl.h"
#include "util/store.h"

/* Longest query parameter name and value we decode.  Every value we accept
 * is far shorter; longer ones are rejected, not truncated. */
#define QKEY_MAX 32
#define QVAL_MAX 64

/* One query parameter an endpoint accepts, and its decoded value. */
struct qparam {
	const char *name;
	int seen;
	char value[QVAL_MAX];
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
req_url_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	if (outlen == 0)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '%') {
			/* Unlike mg_get_var(), a stray '%' is an error: it is
			 * more likely a client bug than a literal percent. */
			if (len - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		/* A NUL would silently cut the value short. */
		if (c == '\0')
			return -EINVAL;
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * Split qs at '&' into the parameters in p[0..np).  A parameter we do not
 * know, or one given twice, is an error: silently ignoring "?pid=1&pid=2"
 * or a misspelt "?lmit=5" would answer a question the client did not ask.
 * Empty segments ("a=1&&b=2", a trailing '&') are skipped.
 */
static int
query_split(const char *qs, struct qparam *p, size_t np, char *err,
    size_t errlen)
{
	const char *s, *end, *eq;
	char key[QKEY_MAX];
	size_t klen, i;
	int n;

	for (s = qs; s && *s; s = *end ? end + 1 : end) {
		end = strchr(s, '&');
		if (!end)
			end = s + strlen(s);
		if (end == s)
			continue;
		eq = memchr(s, '=', (size_t)(end - s));
		klen = (size_t)((eq ? eq : end) - s);
		n = req_url_decode(s, klen, key, sizeof(key));
		if (n == -EINVAL)
			return req_reject(err, errlen, "malformed percent-encoding in query "
			    "parameter name \"%.*s\"", (int)(klen > 40 ? 40 : klen), s);
		for (i = 0; n >= 0 && i < np; i++)
			if (strcmp(key, p[i].name) == 0)
				break;
		if (n < 0 || i == np)
			return req_reject(err, errlen, "unknown query parameter \"%.*s\"",
			    (int)(klen > 40 ? 40 : klen), s);
		if (p[i].seen)
			return req_reject(err, errlen, "query parameter \"%s\" given more "
			    "than once", p[i].name);
		p[i].seen = 1;
		if (!eq)
			continue;
		n = req_url_decode(eq + 1, (size_t)(end - eq - 1), p[i].value,
		    sizeof(p[i].value));
		if (n == -EINVAL)
			return req_reject(err, errlen, "malformed percent-encoding in query "
			    "parameter \"%s\"", p[i].name);
		if (n < 0)
			return req_reject(err, errlen, "query parameter \"%s\" is too long",
			    p[i].name);
	}
	return 0;
}

/* ?pretty, ?pretty=1 and ?pretty=true indent; 0 and false do not. */
static int
query_pretty(const struct qparam *q, int *pretty, char *err, size_t errlen)
{
	const char *v = q->value;

	*pretty = 0;
	if (!q->seen)
		return 0;
	if (!*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*pretty = 1;
		return 0;
	}
	if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	return req_reject(err, errlen, "pretty must be 1, 0, true or false, got "
	    "\"%.32s\"", v);
}

int
req_parse_query(const char *qs, int *pretty, char *err, size_t errlen)
{
	struct qparam p[] = { { .name = "pretty" } };
	int rc;

	*pretty = 0;
	if ((rc = query_split(qs, p, 1, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[0], pretty, err, errlen);
}

/* The shared filters among the parameters p[from..from+REQ_NFILTER). */
static void
filter_params(struct qparam *p)
{
	size_t i;

	for (i = 0; i < REQ_NFILTER; i++)
		p[i].name = req_filter_names[i];
}

static int
filter_apply(const struct qparam *p, struct req_filter *f, char *err,
    size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < REQ_NFILTER; i++)
		if (p[i].seen && (rc = req_filter_parse(f, p[i].name, p[i].value, err,
		    errlen)) < 0)
			return rc;
	return 0;
}

/* pid and command, shared by list and stream. */
static int
pid_command(const struct qparam *pid, const struct qparam *command,
    int *has_pid, uint32_t *outpid, char *outcmd, char *err, size_t errlen)
{
	unsigned long v;
	int rc;

	if (pid->seen) {
		if ((rc = req_query_uint("pid", pid->value, 1, REQ_PID_MAX, &v, err,
		    errlen)) < 0)
			return rc;
		*has_pid = 1;
		*outpid = (uint32_t)v;
	}
	if (command->seen && (rc = req_check_name("command", command->value,
	    strlen(command->value), outcmd, err, errlen)) < 0)
		return rc;
	return 0;
}

int
req_parse_list_query(const char *qs, struct req_list *out, int *pretty,
    char *err, size_t errlen)
{
	enum { PID, COMMAND, LIMIT, PRETTY, FILTERS, NPARAM = FILTERS + REQ_NFILTER };
	struct qparam p[NPARAM] = {
		[PID] = { .name = "pid" },
		[COMMAND] = { .name = "command" },
		[LIMIT] = { .name = "limit" },
		[PRETTY] = { .name = "pretty" },
	};
	unsigned long v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->limit = REQ_LIMIT_DEFAULT;
	*pretty = 0;
	filter_params(p + FILTERS);
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if ((rc = pid_command(&p[PID], &p[COMMAND], &out->has_pid, &out->pid,
	    out->command, err, errlen)) < 0)
		return rc;
	if (p[LIMIT].seen) {
		if ((rc = req_query_uint("limit", p[LIMIT].value, 1, REQ_LIMIT_MAX, &v,
		    err, errlen)) < 0)
			return rc;
		out->limit = (unsigned)v;
	}
	if ((rc = filter_apply(p + FILTERS, &out->filter, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[PRETTY], pretty, err, errlen);
}

int
req_parse_top_query(const char *qs, struct req_top *out, int *pretty,
    char *err, size_t errlen)
{
	enum { BY, DURATION, LIMIT, COMMAND, PRETTY, FILTERS,
	    NPARAM = FILTERS + REQ_NFILTER };
	struct qparam p[NPARAM] = {
		[BY] = { .name = "by" },
		[DURATION] = { .name = "duration" },
		[LIMIT] = { .name = "limit" },
		[COMMAND] = { .name = "command" },
		[PRETTY] = { .name = "pretty" },
	};
	unsigned long v;
	int rc;

	memset(out, 0, sizeof(*out));
	out->duration = REQ_TOP_DURATION_DEFAULT;
	out->limit = REQ_TOP_DEFAULT;
	*pretty = 0;
	filter_params(p + FILTERS);
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if (!p[BY].seen)
		return req_reject(err, errlen, "missing query parameter \"by\" "
		    "(command, destination or port)");
	if (strcmp(p[BY].value, "command") == 0)
		out->by = REQ_TOP_COMMAND;
	else if (strcmp(p[BY].value, "destination") == 0)
		out->by = REQ_TOP_DESTINATION;
	else if (strcmp(p[BY].value, "port") == 0)
		out->by = REQ_TOP_PORT;
	else
		return req_reject(err, errlen, "by must be command, destination or "
		    "port, got \"%.32s\"", p[BY].value);
	if (p[DURATION].seen) {
		if ((rc = req_query_uint("duration", p[DURATION].value, 1,
		    STORE_WINDOW_MAX, &v, err, errlen)) < 0)
			return rc;
		out->duration = (unsigned)v;
	}
	if (p[LIMIT].seen) {
		if ((rc = req_query_uint("limit", p[LIMIT].value, 1, REQ_LIMIT_MAX, &v,
		    err, errlen)) < 0)
			return rc;
		out->limit = (unsigned)v;
	}
	if (p[COMMAND].seen && (rc = req_check_name("command", p[COMMAND].value,
	    strlen(p[COMMAND].value), out->command, err, errlen)) < 0)
		return rc;
	if ((rc = filter_apply(p + FILTERS, &out->filter, err, errlen)) < 0)
		return rc;
	return query_pretty(&p[PRETTY], pretty, err, errlen);
}

int
req_parse_stream_query(const char *qs, struct req_stream *out, char *err,
    size_t errlen)
{
	enum { PID, COMMAND, FILTERS, NPARAM = FILTERS + REQ_NFILTER };
	struct qparam p[NPARAM] = {
		[PID] = { .name = "pid" },
		[COMMAND] = { .name = "command" },
	};
	int rc;

	memset(out, 0, sizeof(*out));
	filter_params(p + FILTERS);
	if (req_want_pretty(qs))
		return req_reject(err, errlen, "pretty is not available on a stream: "
		    "it sends one JSON object per line");
	if ((rc = query_split(qs, p, NPARAM, err, errlen)) < 0)
		return rc;
	if ((rc = pid_command(&p[PID], &p[COMMAND], &out->has_pid, &out->pid,
	    out->command, err, errlen)) < 0)
		return rc;
	return filter_apply(p + FILTERS, &out->filter, err, errlen);
}

int
req_want_pretty(const char *qs)
{
	const char *s, *end;
	size_t n;

	for (s = qs; s && *s; s = *end ? end + 1 : end) {
		end = strchr(s, '&');
		if (!end)
			end = s + strlen(s);
		n = (size_t)(end - s);
		if ((n == 6 && memcmp(s, "pretty", 6) == 0) ||
		    (n == 8 && memcmp(s, "pretty=1", 8) == 0) ||
		    (n == 11 && memcmp(s, "pretty=true", 11) == 0))
			return 1;
	}
	return 0;
}

