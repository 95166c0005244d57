/*
 * make bench, section 9 (README "Fleet"): how many events a second one
 * -push-events sink takes into ClickHouse on this machine without
 * dropping any, and what pushing costs the capture path: UDP connect
 * time with the server running without and with -push-events, within one
 * round.  ClickHouse is started here as in tests/integration/fleet.h.
 * Included by bench_run.c after its helpers (child_loop, median, ...).
 */
#ifndef BENCH_FLEET_H
#define BENCH_FLEET_H

#include "tests/integration/fleet.h"

#define FLEET_EVENTS 200000     /* events pushed for the rate */
#define FLEET_LOOP 100000       /* UDP connects per timed loop */

/* Rows of host in ebpf_events, or -1. */
static long long
fleet_rows(int chport, const char *host)
{
	char sql[256], *a;
	long long n = -1;

	snprintf(sql, sizeof(sql), "SELECT count() FROM ebpf_events WHERE "
	    "host = '%s' FORMAT TSV", host);
	if ((a = fl_ch_query(chport, sql)) != NULL) {
		n = atoll(a);
		free(a);
	}
	return n;
}

/* /health's export_dropped.events and events_lost of a server. */
static void
fleet_health(int port, long long *dropped, long long *lost)
{
	struct reply r;

	*dropped = *lost = -1;
	if (it_http(port, "GET", "/health", NULL, &r) == 0 && r.json) {
		*dropped = json_integer_value(json_object_get(json_object_get(
		    r.json, "export_dropped"), "events"));
		*lost = json_integer_value(json_object_get(r.json, "events_lost"));
	}
	it_reply_free(&r);
}

static void
section_fleet(void)
{
	double off[MAXR], on[MAXR], ratio[MAXR], secs = 0, t0, gen, drain = 0,
	    last;
	int chp = it_free_port(), cht = it_free_port(), port = it_free_port();
	int n = quick ? FLEET_EVENTS / 4 : FLEET_EVENTS, k, r;
	long long rows = 0, dropped = -1, lost = 0;
	char url[256], cmd[600];
	struct server srv;
	pid_t ch;

	fprintf(out, "\n### 9. Fleet: events into ClickHouse, and what pushing "
	    "costs the capture path\n\n");
	snprintf(fl_dir, sizeof(fl_dir), "%s/fleet", tmpdir);
	if (fl_ch_config(chp, cht) < 0 || (ch = fl_ch_start(chp, &secs)) < 0) {
		fprintf(out, "clickhouse-server did not start (see stderr): no "
		    "figures.\n");
		return;
	}
	free(fl_ch_query(chp, FL_TABLE));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/?query=INSERT%%20INTO"
	    "%%20ebpf_events%%20FORMAT%%20JSONEachRow", chp);

	/* The rate: one program's UDP connects as fast as it can make them,
	 * into a queue that holds them all, timed until the last is a row. */
	{
		const char *args[] = { "-host", "bench-rate", "-push-events", url,
			"-export-filter", "command=bench-fleet", "-export-queue",
			"262144", NULL };

		if (it_start(&srv, args) < 0) {
			fprintf(stderr, "bench: server did not start; see %s\n",
			    srv.log);
			exit(1);
		}
		t0 = it_now();
		child_loop(LOOP_UDP, n, port, "bench-fleet", NULL, 1);
		gen = it_now() - t0;
		/* Every event the kernel handed over (on a loaded machine a
		 * perf ring may overflow: events_lost), or no progress for
		 * 15 s. */
		for (last = it_now(); it_now() - last < 15; usleep(100000)) {
			long long now_rows = fleet_rows(chp, "bench-rate");

			fleet_health(srv.port, &dropped, &lost);
			if (now_rows > rows) {
				rows = now_rows;
				last = drain = it_now();
			}
			if (rows >= n - lost)
				break;
		}
		drain -= t0;
		it_stop(&srv, NULL);
	}

	/* The cost: the same loop with the server running, without and
	 * with -push-events of everything, back to back in each round. */
	for (r = 0; r < rounds && r < MAXR; r++) {
		const char *plain[] = { NULL };
		const char *push[] = { "-push-events", url, NULL };

		for (k = 0; k < 2; k++) {
			if (it_start(&srv, k ? push : plain) < 0) {
				fprintf(stderr, "bench: server did not start; see "
				    "%s\n", srv.log);
				exit(1);
			}
			(k ? on : off)[r] = child_loop(LOOP_UDP, quick ?
			    FLEET_LOOP / 4 : FLEET_LOOP, port, "bench-fleet-udp",
			    NULL, 1);
			it_stop(&srv, NULL);
		}
		ratio[r] = on[r] / off[r];
		fprintf(stderr, "bench: fleet round %d: udp %.0f/%.0f ns\n", r,
		    off[r], on[r]);
	}
	fl_stop(ch);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fl_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", fl_dir);

	fprintf(out, "ClickHouse 18.16 started here on loopback (first `/ping` "
	    "after %.2f s), one server with `-push-events` into it.\n\n", secs);
	fprintf(out, "| measure | figure |\n|---|---:|\n");
	fprintf(out, "| events pushed (one program's UDP connects, "
	    "`-export-filter command=bench-fleet`, `-export-queue 262144`) | "
	    "%d |\n", n);
	fprintf(out, "| made in | %.2f s (%.0f /s) |\n", gen, n / gen);
	fprintf(out, "| rows in ClickHouse | %lld%s |\n", rows, rows < n - lost ?
	    " (**not all that the kernel handed over**)" : "");
	fprintf(out, "| the last of them a row after | %.2f s |\n", drain);
	fprintf(out, "| sustained into ClickHouse | **%.0f events/s** |\n",
	    drain > 0 ? rows / drain : 0.0);
	fprintf(out, "| export_dropped, events_lost | %lld, %lld |\n", dropped,
	    lost);
	fprintf(out, "| UDP connect, server running without `-push-events` "
	    "(median of %d rounds) | %.0f ns |\n", r, median(off, r));
	fprintf(out, "| the same with `-push-events` of every event | %.0f ns |\n",
	    median(on, r));
	fprintf(out, "| ratio best / median | %.2f× / %.2f× |\n",
	    best_low(ratio, r), median(ratio, r));
}

#endif
