/*
 * Reader of one perf ring buffer (one per CPU), in the manner of the
 * kernel's tools/include/linux/ring_buffer.h and tools/lib/perf/mmap.c.
 */
#ifndef LD_RING_H
#define LD_RING_H

#include <stddef.h>
#include <stdint.h>

struct perf_event_mmap_page;

/* Called for each PERF_RECORD_SAMPLE with its raw data. */
typedef void (*ld_sample_fn)(void *ctx, const void *data, uint32_t len);
/* Called for each PERF_RECORD_LOST with the number of records dropped. */
typedef void (*ld_lost_fn)(void *ctx, uint64_t lost);

struct ld_ring {
	int fd;
	int cpu;
	struct perf_event_mmap_page *meta;
	uint8_t *data;          /* the data pages */
	uint64_t size;          /* bytes of data, a power of two */
	size_t maplen;
	uint8_t *scratch;       /* for records that wrap around the end */
	size_t scratch_len;
};

/*
 * Open a BPF output event on cpu and map 1 + pages pages (pages a power of
 * two).  The reader is woken once watermark bytes are pending.  Returns 0
 * or -errno (-ENODEV for an offline CPU).
 */
int ld_ring_open(struct ld_ring *r, int cpu, unsigned pages, unsigned watermark);
void ld_ring_close(struct ld_ring *r);

/*
 * Pages per ring when the user gives none, for cpus CPUs of page bytes:
 * 8 MiB of rings in all, from 256 KiB to 4 MiB per CPU, a power of two.
 */
unsigned ld_ring_pages(long cpus, long page);

/*
 * Consume every record published so far.  Returns the number of records
 * read, or -EINVAL if the ring is corrupt (a record with an impossible
 * size: the rest is skipped).  data_tail is released once, at the end.
 */
long ld_ring_drain(struct ld_ring *r, ld_sample_fn sample, ld_lost_fn lost,
    void *ctx);

/* Bytes published but not yet consumed. */
uint64_t ld_ring_pending(const struct ld_ring *r);

/* CPUs in /sys/devices/system/cpu/possible ("0-3,6").  Returns how many
 * were written to cpus (at most n), or -errno. */
int ld_possible_cpus(int *cpus, int n);
/* Parse a CPU list (exposed for tests). */
int ld_parse_cpus(const char *s, int *cpus, int n);

#endif
