/*
 * The command line from one table (see flags.h): parsing and -h.  Setup
 * code: a bad flag prints what is wrong and exits 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/flags.h"

/* -h lines are at most this wide; flag help starts at column HELP_COL. */
#define WIDTH 72
#define HELP_COL 20
#define SYNOPSIS_LINES 2   /* flags in the synopsis up to this many lines */

static void __attribute__((noreturn))
bad(const struct flag_cmd *c, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", c->name);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(2);
}

static const struct flag *
find(const struct flag_cmd *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->t[i].name, name) == 0)
			return &c->t[i];
	return NULL;
}

uint64_t
flag_bit(const struct flag_cmd *c, const char *name)
{
	const struct flag *f = find(c, name);
	size_t i = f ? (size_t)(f - c->t) : 64;

	return i < 64 ? 1ULL << i : 0;
}

/* A decimal in [f->min, f->max], a power of two for FLAG_POW2. */
static unsigned long
number(const struct flag_cmd *c, const struct flag *f, const char *s)
{
	char lo[24], hi[24];
	unsigned long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto out;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < f->min || v > f->max)
		goto out;
	if (f->kind == FLAG_POW2 && (v & (v - 1)))
		bad(c, "%s: %s is not a power of two", f->name, s);
	return v;
out:
	snprintf(lo, sizeof(lo), "%lu", f->min);
	snprintf(hi, sizeof(hi), "%lu", f->max);
	fprintf(stderr, "%s: %s: invalid value \"%s\" (want an integer from "
	    "%s to %s)\n", c->name, f->name, s, lo, hi);
	exit(2);
}

/* Whether s is one of f's choices; if not, says which are and exits 2. */
static void
choice(const struct flag_cmd *c, const struct flag *f, const char *s)
{
	const char *const *v;

	for (v = f->choices(); *v; v++)
		if (strcmp(*v, s) == 0)
			return;
	fprintf(stderr, "%s: %s: \"%s\": want", c->name, f->name, s);
	for (v = f->choices(); *v; v++)
		fprintf(stderr, " %s", *v);
	fputc('\n', stderr);
	exit(2);
}

/* Store value s (NULL: a switch given without one) for row f. */
static void
set(const struct flag_cmd *c, const struct flag *f, const char *s, void *opts)
{
	char *p = (char *)opts + f->off;

	switch (f->kind) {
	case FLAG_STR:
	case FLAG_CHOICE:
		if (s == NULL || *s == '\0')
			bad(c, "%s needs a value (%s)", f->name, f->arg);
		if (f->kind == FLAG_CHOICE)
			choice(c, f, s);
		*(const char **)p = s;
		break;
	case FLAG_NUM:
	case FLAG_POW2:
		if (s == NULL)
			bad(c, "%s needs a value (%s)", f->name, f->arg);
		*(unsigned long *)p = number(c, f, s);
		break;
	case FLAG_SWITCH:
		/* Go's boolean flags: -v, -v=true, -v=false. */
		if (s == NULL || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			*(int *)p = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			*(int *)p = 0;
		else
			bad(c, "%s: invalid value \"%s\" (want true or false)",
			    f->name, s);
		break;
	case FLAG_HELP:
		flag_usage(c, stdout);
		exit(0);
	case FLAG_VERSION:
		printf("%s %s\n", c->name, c->version);
		exit(0);
	}
}

uint64_t
flag_parse(const struct flag_cmd *c, int argc, char **argv, void *opts)
{
	const struct flag *f;
	uint64_t given = 0;
	size_t i;
	int a;

	for (i = 0; i < c->n; i++)
		if (c->t[i].def)
			set(c, &c->t[i], c->t[i].def, opts);
	for (a = 1; a < argc; a++) {
		char *name = argv[a], *val = NULL, *eq;

		/* Go's flag package accepts -flag, --flag and -flag=value. */
		if (name[0] == '-' && name[1] == '-')
			name++;
		if ((eq = strchr(name, '=')) != NULL) {
			*eq = '\0';
			val = eq + 1;
		}
		/* -help is -h, as in Go. */
		if ((f = find(c, strcmp(name, "-help") ? name : "-h")) == NULL) {
			fprintf(stderr, "%s: unknown flag \"%s\"\n\n", c->name,
			    argv[a]);
			flag_usage(c, stderr);
			exit(2);
		}
		if (val == NULL && f->arg && a + 1 < argc)
			val = argv[++a];
		set(c, f, val, opts);
		given |= flag_bit(c, f->name);
	}
	return given;
}

/*
 * Write words of s to f, filling lines up to WIDTH; *col is the column
 * the cursor is at, indent where continuation lines start.
 */
static void
wrap(FILE *f, const char *s, int indent, int *col)
{
	size_t len;

	for (; *s; s += len) {
		while (*s == ' ')
			s++;
		if ((len = strcspn(s, " ")) == 0)
			break;
		if (*col > indent && *col + 1 + (int)len > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			*col = indent;
		} else if (*col > indent) {
			fputc(' ', f);
			(*col)++;
		}
		fprintf(f, "%.*s", (int)len, s);
		*col += (int)len;
	}
}

/* The synopsis "usage: name [-flag arg] ..." to f (NULL: nowhere).
 * Returns the lines it takes. */
static int
synopsis(const struct flag_cmd *c, FILE *f)
{
	char item[64];
	const struct flag *r;
	int col, indent, lines = 1;
	size_t i;

	col = indent = (int)strlen("usage: ") + (int)strlen(c->name) + 1;
	if (f)
		fprintf(f, "usage: %s", c->name);
	for (i = 0; i < c->n; i++) {
		r = &c->t[i];
		snprintf(item, sizeof(item), "[%s%s%s]", r->name, r->arg ? " " : "",
		    r->arg ? r->arg : "");
		/* An item is never split across lines. */
		if (col + 1 + (int)strlen(item) > WIDTH) {
			if (f)
				fprintf(f, "\n%*s", indent, "");
			col = indent;
			lines++;
		} else {
			if (f)
				fputc(' ', f);
			col++;
		}
		col += (int)strlen(item);
		if (f)
			fputs(item, f);
	}
	return lines;
}

void
flag_usage(const struct flag_cmd *c, FILE *f)
{
	char dflt[128];
	const char *const *v;
	const struct flag *r;
	int col;
	size_t i;

	/* Every flag in the synopsis while that takes two lines at most;
	 * past that "[flag ...]", since the paragraphs below list them all
	 * and -h should fit on one screen. */
	if (synopsis(c, NULL) <= SYNOPSIS_LINES)
		synopsis(c, f);
	else
		fprintf(f, "usage: %s [flag ...]", c->name);
	fprintf(f, "\n\n%s\n", c->about);
	for (i = 0; i < c->n; i++) {
		r = &c->t[i];
		col = fprintf(f, "  %s%s%s", r->name, r->arg ? " " : "",
		    r->arg ? r->arg : "");
		/* Two spaces at least between a long flag and its help: one
		 * here, one from wrap(). */
		col += fprintf(f, "%*s", col < HELP_COL ? HELP_COL - col : 1, "");
		wrap(f, r->help, HELP_COL, &col);
		/* The values a choice takes come from choices(), never from
		 * the help text: "a, b or c". */
		for (v = r->kind == FLAG_CHOICE ? r->choices() : NULL; v && *v; v++) {
			snprintf(dflt, sizeof(dflt), "%s%s", *v, v[1] == NULL ? "" :
			    v[2] == NULL ? " or" : ",");
			wrap(f, dflt, HELP_COL, &col);
		}
		if (r->kind != FLAG_HELP && r->kind != FLAG_VERSION) {
			snprintf(dflt, sizeof(dflt), "(default %s)", r->shown ?
			    r->shown : r->def ? r->def : r->kind == FLAG_SWITCH ?
			    "off" : "none");
			wrap(f, dflt, HELP_COL, &col);
		}
		fputc('\n', f);
	}
	if (c->footer)
		fprintf(f, "\n%s", c->footer);
}
