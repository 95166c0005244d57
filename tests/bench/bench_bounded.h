/*
 * Section 8 of `make bench`: what a busy or hostile host costs (issue
 * 16), with the default flags: the server's RSS through and after a flood
 * of distinct process names; the latency of the heaviest queries on the
 * full store that flood leaves (every destination port and name distinct);
 * events lost to a connect storm while 16 clients loop those queries; and
 * how long a new client waits behind crowds of idle keep-alive and
 * slow-header clients, ours next to nginx.  Included by bench_run.c after
 * its helpers.
 */
#ifndef BENCH_BOUNDED_H
#define BENCH_BOUNDED_H

/* The worst new client's wait behind nidle idle and nslow trickling
 * clients on port. */
static double
crowd_wait(int port, int nidle, int nslow)
{
	static int fd[IT_CROWD_MAX];
	struct it_trickle t;
	double worst;

	it_idle_crowd(port, fd, nidle);
	it_trickle_start(&t, port, nslow);
	worst = it_worst_health(port, quick ? 1.5 : 3);
	it_trickle_stop(&t);
	it_close_all(fd, nidle);
	return worst;
}

static void
section_bounded(void)
{
	static const char *const heavy[4] = {
		"top by destination, 3600 s, limit 1000",
		"top by command, 3600 s, limit 1000",
		"list-connections?port=1999&limit=1",
		"connection-summary, command and port filter",
	};
	uint64_t names = quick ? 200000 : 1000000, storm = names, made;
	struct rlimit rl = { 8192, 8192 };
	struct it_queried qd;
	double ms[4][64], cpu_ms[4], ours[2], ng[2], t0;
	int reps = quick ? 5 : 40, i, k, nport;
	long peak, after;
	long long lost0, lost, alone;
	struct server srv;
	struct health h;
	pid_t ngp;

	setrlimit(RLIMIT_NOFILE, &rl);
	if (it_start(&srv, NULL) < 0) {
		fprintf(stderr, "bench: server did not start; see %s\n", srv.log);
		exit(1);
	}
	t0 = it_now();
	made = it_flood("bb", names, 1, srv.pid, &peak);
	t0 = it_now() - t0;
	usleep(500000);
	after = it_rss_kib(srv.pid);
	get_health(srv.port, &h);

	/* One client at a time: each heavy query reps times; the server's
	 * CPU time too, which a loaded machine does not inflate as it does
	 * the wall clock. */
	for (k = 0; k < 4; k++) {
		uint64_t c0 = proc_cpu_ns(srv.pid);

		for (i = 0; i < reps; i++) {
			double t = it_now();
			struct reply r;

			it_heavy_query(srv.port, k, &r);
			it_reply_free(&r);
			ms[k][i] = (it_now() - t) * 1000;
		}
		cpu_ms[k] = (double)(proc_cpu_ns(srv.pid) - c0) / 1e6 / reps;
		qsort(ms[k], (size_t)reps, sizeof(double), dcmp);
	}

	/* The same storm alone, then under 16 querying clients: what the
	 * queries cost is the difference (0 and 0 on a quiet machine). */
	alone = it_storm_alone(&srv, storm, &lost0);
	it_storm_queried(srv.port, 16, storm, &qd);
	lost = alone < 0 || it_settle(&srv, IT_SETTLE_S) < 0 ? -1 :
	    it_health_int(&srv, "events_lost") - lost0;
	it_stop(&srv, NULL);

	/* Crowds: a fresh server each, then nginx. */
	for (k = 0; k < 2; k++) {
		if (it_start(&srv, NULL) < 0)
			exit(1);
		ours[k] = crowd_wait(srv.port, k ? 500 : 128, k ? 500 : 128);
		it_stop(&srv, NULL);
	}
	nport = it_free_port();
	if ((ngp = start_nginx(nport, "{}", 2)) < 0) {
		ng[0] = ng[1] = -1;
	} else {
		for (k = 0; k < 2; k++)
			ng[k] = crowd_wait(nport, k ? 500 : 128, k ? 500 : 128);
		kill(ngp, SIGTERM);
		waitpid(ngp, NULL, 0);
	}

	fprintf(out, "\n### 8. Bounded (default flags; a flood of %llu distinct "
	    "names in %.1f s, %lld events stored after it)\n\n",
	    (unsigned long long)made, t0, h.stored);
	fprintf(out, "| what | value | target |\n|---|---:|---|\n");
	fprintf(out, "| RSS peak during the name flood / after | %.1f / %.1f MiB "
	    "| ≤ 96 MiB %s |\n", peak / 1024.0, after / 1024.0,
	    peak <= 96 * 1024 ? "**holds**" : "misses");
	for (k = 0; k < 4; k++)
		fprintf(out, "| %s on the full store, one client: p50 / p99 of %d "
		    "(server CPU per query) | %.1f / %.1f ms (%.1f ms) | ≤ 100 ms %s |\n",
		    heavy[k], reps, ms[k][reps / 2], ms[k][(reps * 99) / 100],
		    cpu_ms[k], ms[k][(reps * 99) / 100] <= 100 ? "**holds**" :
		    cpu_ms[k] <= 100 ? "misses on the wall clock, holds in CPU" :
		    "misses");
	fprintf(out, "| events lost to a storm of %llu connects alone / while 16 "
	    "clients loop those 4 (%lu queries, %lu not 200) | %lld / %lld | "
	    "0 %s |\n", (unsigned long long)storm, qd.queries, qd.bad, alone, lost,
	    lost < 0 ? "unknown: the counts did not settle (stderr)" :
	    lost == 0 ? "**holds**" : lost <= alone ? "misses, as much alone: "
	    "the machine, not the queries" : "misses");
	for (k = 0; k < 2; k++)
		fprintf(out, "| worst new `/health` behind %d idle keep-alive + %d "
		    "slow-header clients: ours / nginx | %.3f / %.3f s | ≤ %d s %s |\n",
		    k ? 500 : 128, k ? 500 : 128, ours[k], ng[k], k ? 2 : 1,
		    ours[k] <= (k ? 2 : 1) ? "**holds**" : "misses");
}

#endif
