/*
 * The server's command line: what each flag sets (the table itself is in
 * opts.c, and -h is made from it).
 */
#ifndef HTTP_OPTS_H
#define HTTP_OPTS_H

#include "httpd/export.h"   /* struct export_conf, held whole */

/* What the flags set: numbers are unsigned long, switches int, the rest
 * strings (see httpd/flags.h). */
struct opts {
	const char *addr;
	unsigned long max_events;
	unsigned long summary_keys;
	unsigned long threads;
	unsigned long timeout_ms;
	unsigned long ring_pages;       /* 0: the capture's default */
	unsigned long max_streams;
	unsigned long max_body;
	unsigned long max_header;
	const char *token_file;
	int no_sandbox;
	const char *backend;
	int verbose;
	struct export_conf exc;         /* -host, -push-*, -syslog, -export-* */
	/* From the environment, not the command line (opts_parse()). */
	int fault_verifier;     /* EBPF_SERVER_FAULT=verifier-reject */
	int batch;              /* 0 when EBPF_SERVER_BATCH=0 */
};

/* Fill o from argv, defaults first, and from the environment.  Exits 0 after -h or -version, 2 with
 * a message on a bad flag or value. */
void opts_parse(int argc, char **argv, struct opts *o);

#endif
