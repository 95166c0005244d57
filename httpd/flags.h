/*
 * The command line as one table: each row names a flag, where its value
 * goes in the caller's options struct, its bounds, its default and its
 * help.  flag_parse() sets every default, then reads argv the way Go's
 * flag package does (-flag, --flag, -flag value, -flag=value);
 * flag_usage() writes -h from the same rows, so a flag cannot be parsed
 * without being documented, nor documented without being parsed.
 */
#ifndef FLAGS_H
#define FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum flag_kind {
	FLAG_STR,       /* const char *: a non-empty string */
	FLAG_NUM,       /* unsigned long: a decimal in [min, max] */
	FLAG_POW2,      /* unsigned long: FLAG_NUM, and a power of two */
	FLAG_CHOICE,    /* const char *: one of choices() */
	FLAG_SWITCH,    /* int: 1 when given, takes no value */
	FLAG_HELP,      /* -h: flag_usage() to stdout, exit 0 */
	FLAG_VERSION,   /* -version: "ebpf-server VERSION", exit 0 */
};

struct flag {
	const char *name;       /* "-addr" */
	const char *arg;        /* "host:port" in -h; NULL: takes no value */
	enum flag_kind kind;
	size_t off;             /* offsetof() the field in the options */
	unsigned long min, max; /* FLAG_NUM, FLAG_POW2 */
	/* The value before any flag is read, parsed as a user's would be;
	 * NULL: 0 or NULL. */
	const char *def;
	/* What -h says after "default": NULL says def (or "off" for a
	 * switch, "none" for a string without def). */
	const char *shown;
	const char *help;       /* one sentence or two, wrapped by -h */
	/* FLAG_CHOICE: the values accepted, NULL-terminated; -h lists them
	 * after the help. */
	const char *const *(*choices)(void);
};

/* A command: its name, its flags, and the text -h shows around them. */
struct flag_cmd {
	const char *name;       /* "ebpf-server" */
	const char *version;    /* what -version prints after the name */
	const char *about;      /* after the synopsis, before the flags */
	const char *footer;     /* after the flags */
	const struct flag *t;
	size_t n;
};

/*
 * Set the defaults of c->t in opts, then parse argv into it.  On a bad
 * flag or value prints what is wrong to stderr and exits 2.  Returns a
 * bit per row (1 << i) that argv gave, for flags whose default depends on
 * another (rows past 63 are not reported).
 */
uint64_t flag_parse(const struct flag_cmd *c, int argc, char **argv,
    void *opts);

/* The bit flag_parse() returns for the row named name, 0 if none. */
uint64_t flag_bit(const struct flag_cmd *c, const char *name);

/* -h: the synopsis, c->about, a paragraph per flag, c->footer. */
void flag_usage(const struct flag_cmd *c, FILE *f);

#endif
