/*
 * libFuzzer harness for everything a client's bytes reach before a
 * handler answers: the JSON body parsers, the query string parsers (list,
 * top, stream and the rest, with their filters), the
 * percent-decoder, the bearer token check, and the UTF-8 sanitiser that
 * every error message goes through.  Built with clang's
 * -fsanitize=fuzzer,address,undefined (make fuzz, and a short run in make
 * test).
 *
 * The first byte picks the target, the rest is its input.  Besides "no
 * crash, no leak, no undefined behaviour", it checks what callers rely on:
 * err is always NUL-terminated, accepted values are in range, and a
 * sanitised string (and any error turned into a response body) is valid
 * UTF-8 that jansson parses back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "httpd/json.h"
#include "httpd/request.h"
#include "util/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(const char *err, size_t n)
{
	json_t *e, *back;
	char *body;
	size_t len;

	if (memchr(err, '\0', n) == NULL)
		abort();
	/* What api.c does with it: must come out as valid JSON. */
	e = json_error_new(400, err);
	if (!e)
		return;
	body = json_body(e, 0, &len);
	json_decref(e);
	if (!body)
		return;
	if ((back = json_loadb(body, len, 0, NULL)) == NULL)
		abort();
	json_decref(back);
	free(body);
}

static void
check_list(const struct req_list *q)
{
	if (q->limit < 1 || q->limit > REQ_LIMIT_MAX)
		abort();
	if (q->has_pid && (q->pid < 1 || q->pid > REQ_PID_MAX))
		abort();
	if (strlen(q->command) > REQ_COMM_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[REQ_ERR_MAX], *s;
	const char *in;
	size_t n;

	if (size < 1)
		return 0;
	/* A private, NUL-terminated copy: the parsers that take a C string
	 * get one, those that take a length get the exact bytes. */
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	in = s;
	memset(err, 'x', sizeof(err));

	switch (data[0] % 9) {
	case 0: {
		struct req_summary q;

		if (req_parse_summary(in, n, &q, err, sizeof(err)) == 0) {
			if (q.duration < 1 || q.duration > STORE_WINDOW_MAX)
				abort();
			if (q.has_pid == (q.command[0] != '\0'))
				abort();
			if (q.has_pid && (q.pid < 1 || q.pid > REQ_PID_MAX))
				abort();
		} else {
			check_err(err, sizeof(err));
		}
		break;
	}
	case 1: {
		struct req_list q;

		if (req_parse_list_body(in, n, &q, err, sizeof(err)) == 0)
			check_list(&q);
		else
			check_err(err, sizeof(err));
		break;
	}
	case 2: {
		struct req_list q;
		int pretty = -1;

		if (req_parse_list_query(in, &q, &pretty, err, sizeof(err)) == 0) {
			check_list(&q);
			if (pretty != 0 && pretty != 1)
				abort();
		} else {
			check_err(err, sizeof(err));
		}
		break;
	}
	case 3: {
		int pretty = -1;

		if (req_parse_query(in, &pretty, err, sizeof(err)) < 0)
			check_err(err, sizeof(err));
		else if (pretty != 0 && pretty != 1)
			abort();
		(void)req_want_pretty(in);
		break;
	}
	case 4: {
		char out[64];
		int r = req_url_decode(in, n, out, sizeof(out));

		if (r >= 0 && ((size_t)r >= sizeof(out) || out[r] != '\0'))
			abort();
		break;
	}
	case 5: {
		/* Token: the part before the first NUL, header: the rest. */
		size_t t = strlen(in);

		if (t > 0 && t < n)
			(void)req_bearer_ok(in + t + 1, in);
		break;
	}
	case 6: {
		json_t *v = json_str_new(in, n), *back;
		char *body;
		size_t len;

		if (!v)
			break;
		body = json_body(v, data[0] & 8, &len);
		json_decref(v);
		if (!body)
			break;
		/* jansson refuses invalid UTF-8: a parse failure is a bug. */
		if ((back = json_loadb(body, len, JSON_DECODE_ANY, NULL)) == NULL)
			abort();
		json_decref(back);
		free(body);
		break;
	}
	case 7: {
		struct req_top t;
		int pretty = -1;

		if (req_parse_top_query(in, &t, &pretty, err, sizeof(err)) == 0) {
			if (t.limit < 1 || t.limit > REQ_LIMIT_MAX ||
			    t.duration < 1 || t.duration > STORE_WINDOW_MAX ||
			    (pretty != 0 && pretty != 1))
				abort();
		} else {
			check_err(err, sizeof(err));
		}
		break;
	}
	case 8: {
		struct req_stream q;

		if (req_parse_stream_query(in, &q, err, sizeof(err)) == 0) {
			if (q.has_pid && (q.pid < 1 || q.pid > REQ_PID_MAX))
				abort();
		} else {
			check_err(err, sizeof(err));
		}
		break;
	}
	}
	free(s);
	return 0;
}
