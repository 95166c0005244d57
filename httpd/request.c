/*
 * Request bodies: the JSON of connection-summary and list-connections,
 * and the bearer token.  Everything here is a pure function of its
 * arguments: the handlers do the I/O, this file decides what is
 * acceptable and says precisely what is not, so that a client who sent
 * "duration":"60" learns that it must be a number instead of getting a
 * bare 400.  Query strings are in qs.c, the filters both share in
 * filter.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "httpd/request.h"
#include "httpd/request_impl.h"
#include "util/event.h"
#include "util/store.h"

/* "got a string": the type of what the client sent, for messages. */
static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a non-integer number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "an unknown type";
}

/*
 * Parse body as exactly one JSON object.  The length is passed on so that a
 * raw NUL byte is a syntax error instead of the end of the input, and
 * without JSON_ALLOW_NUL "\u0000" is rejected too: every string we get can
 * be used as a C string.  Duplicate keys are rejected because it is not
 * clear which one the client meant.  JSON_DECODE_ANY lets a bare "60"
 * parse, so that the client hears "must be a JSON object, got an integer"
 * rather than a syntax error.  jansson limits nesting
 * (JSON_PARSER_MAX_DEPTH, which the GNUmakefile sets to 32 instead of
 * 2048: at 2048, 100 000 '[' overflowed a worker's stack), so deep input
 * fails here instead of exhausting the stack.  Returns a new reference or
 * NULL.
 */
static json_t *
load_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	const char *nul;

	/* jansson reports a raw NUL as "end of file", which would puzzle. */
	if ((nul = memchr(body, '\0', len)) != NULL) {
		req_reject(err, errlen, "invalid JSON: NUL byte at byte %zu",
		    (size_t)(nul - body));
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		req_reject(err, errlen, "invalid JSON: %s at line %d, column %d (byte %d)",
		    je.text, je.line, je.column, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		req_reject(err, errlen, "request body must be a JSON object, got %s",
		    type_name(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* An integer member in [min, max].  Strings, reals, booleans and null are
 * refused: "60" and 60.5 are client bugs we would rather show than guess. */
static int
get_int(const json_t *v, const char *name, json_int_t min, json_int_t max,
    json_int_t *out, char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return req_reject(err, errlen, "%s must be an integer between %lld and "
		    "%lld, got %s", name, (long long)min, (long long)max,
		    type_name(v));
	n = json_integer_value(v);
	if (n < min || n > max)
		return req_reject(err, errlen, "%s must be between %lld and %lld, got %lld",
		    name, (long long)min, (long long)max, (long long)n);
	*out = n;
	return 0;
}

/* "command", or "process_name", the original server's other name for it. */
static int
get_name(const char *field, const json_t *v, char *out, char *err,
    size_t errlen)
{
	if (!json_is_string(v))
		return req_reject(err, errlen, "%s must be a string, got %s", field,
		    type_name(v));
	return req_check_name(field, json_string_value(v), json_string_length(v),
	    out, err, errlen);
}

static int
get_command(const json_t *v, char *out, char *err, size_t errlen)
{
	return get_name("command", v, out, err, errlen);
}

/* "pid" or "command", which both bodies take: 1 when key is one of them,
 * with *rc the result of its check; 0 for any other key. */
static int
pid_or_command(const char *key, const json_t *v, int *has_pid, uint32_t *pid,
    char *command, int *rc, char *err, size_t errlen)
{
	json_int_t n = 0;

	if (strcmp(key, "pid") == 0) {
		*rc = get_int(v, "pid", 1, REQ_PID_MAX, &n, err, errlen);
		*has_pid = 1;
		*pid = (uint32_t)n;
		return 1;
	}
	if (strcmp(key, "command") == 0) {
		*rc = get_command(v, command, err, errlen);
		return 1;
	}
	return 0;
}

/* A filter from a JSON member: port, since and family may be integers,
 * failed a boolean; everything may be the string the query string would
 * carry. */
static int
json_filter(struct req_filter *f, const char *name, const json_t *v,
    char *err, size_t errlen)
{
	char buf[32];

	if (json_is_string(v))
		return req_filter_parse(f, name, json_string_value(v), err, errlen);
	if (json_is_integer(v) && (strcmp(name, "port") == 0 ||
	    strcmp(name, "since") == 0 || strcmp(name, "family") == 0)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return req_filter_parse(f, name, buf, err, errlen);
	}
	if (json_is_boolean(v) && strcmp(name, "failed") == 0)
		return req_filter_parse(f, name, json_is_true(v) ? "true" : "false",
		    err, errlen);
	if (strcmp(name, "port") == 0)
		return req_reject(err, errlen, "port must be an integer, got %s",
		    type_name(v));
	if (strcmp(name, "failed") == 0)
		return req_reject(err, errlen, "failed must be true or false, got %s",
		    type_name(v));
	if (strcmp(name, "since") == 0)
		return req_reject(err, errlen, "since must be an RFC 3339 string or "
		    "seconds ago, got %s", type_name(v));
	return req_reject(err, errlen, "%s must be a string, got %s", name,
	    type_name(v));
}

int
req_parse_summary(const char *body, size_t len, struct req_summary *out,
    char *err, size_t errlen)
{
	char pname[REQ_COMM_MAX + 1] = "";
	json_t *root, *v;
	const char *key;
	json_int_t n;
	int has_command = 0, has_pname = 0, has_duration = 0, has_filter = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!(root = load_object(body, len, err, errlen)))
		return -EINVAL;
	json_object_foreach(root, key, v) {
		if (pid_or_command(key, v, &out->has_pid, &out->pid, out->command,
		    &rc, err, errlen)) {
			has_command |= strcmp(key, "command") == 0;
		} else if (strcmp(key, "process_name") == 0) {
			rc = get_name("process_name", v, pname, err, errlen);
			has_pname = 1;
		} else if (strcmp(key, "duration") == 0) {
			rc = get_int(v, "duration", 1, STORE_WINDOW_MAX, &n, err,
			    errlen);
			has_duration = 1;
			out->duration = (unsigned)n;
		} else if (req_is_filter(key)) {
			rc = json_filter(&out->filter, key, v, err, errlen);
			has_filter = 1;
		} else {
			rc = req_reject(err, errlen, "unknown field \"%s\"", key);
		}
		if (rc < 0)
			goto out;
	}
	/* The original server takes "process_name" for "command"; both may
	 * be given only when they agree. */
	if (has_pname && has_command && strcmp(pname, out->command) != 0) {
		rc = req_reject(err, errlen, "\"command\" and \"process_name\" name "
		    "the same thing and differ (\"%s\" and \"%s\"): give one",
		    out->command, pname);
		goto out;
	}
	if (has_pname && !has_command) {
		memcpy(out->command, pname, sizeof(pname));
		has_command = 1;
	}
	/* The original contract: exactly one of pid and command.  A request
	 * that selects by another filter (port, ip, ...) alone counts every
	 * process matching it. */
	if (out->has_pid && has_command)
		rc = req_reject(err, errlen, "give either \"pid\" or \"command\", not both");
	else if (!out->has_pid && !has_command && !has_filter)
		rc = req_reject(err, errlen, "missing field \"pid\" or \"command\" "
		    "(or a filter such as \"port\")");
	else if (!has_duration)
		rc = req_reject(err, errlen, "missing field \"duration\" (seconds, "
		    "1 to %d)", STORE_WINDOW_MAX);
out:
	json_decref(root);
	return rc;
}

/* True when body holds nothing but JSON whitespace. */
static int
is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

int
req_parse_list_body(const char *body, size_t len, struct req_list *out,
    char *err, size_t errlen)
{
	json_t *root, *v;
	const char *key;
	json_int_t n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->limit = REQ_LIMIT_DEFAULT;
	/* curl -X POST sends no body at all; that means "everything". */
	if (is_blank(body, len))
		return 0;
	if (!(root = load_object(body, len, err, errlen)))
		return -EINVAL;
	json_object_foreach(root, key, v) {
		if (pid_or_command(key, v, &out->has_pid, &out->pid, out->command,
		    &rc, err, errlen)) {
			/* done: rc says how it went */
		} else if (strcmp(key, "limit") == 0) {
			rc = get_int(v, "limit", 1, REQ_LIMIT_MAX, &n, err, errlen);
			out->limit = (unsigned)n;
		} else if (req_is_filter(key)) {
			rc = json_filter(&out->filter, key, v, err, errlen);
		} else {
			rc = req_reject(err, errlen, "unknown field \"%s\"", key);
		}
		if (rc < 0)
			break;
	}
	json_decref(root);
	return rc;
}

int
req_bearer_ok(const char *header, const char *token)
{
	const volatile unsigned char *a, *b;
	size_t alen, blen, i;
	unsigned diff;

	if (strncasecmp(header, "Bearer ", 7) != 0)
		return 0;
	header += 7;
	while (*header == ' ')
		header++;
	a = (const volatile unsigned char *)header;
	b = (const volatile unsigned char *)token;
	alen = strlen(header);
	blen = strlen(token);
	/* Trailing spaces are allowed by the header grammar. */
	while (alen > 0 && header[alen - 1] == ' ')
		alen--;
	/* Always walk the whole token, whatever the client sent. */
	diff = alen != blen;
	for (i = 0; i < blen; i++)
		diff |= (unsigned)(b[i] ^ (i < alen ? a[i] : 0u));
	return diff == 0;
}
