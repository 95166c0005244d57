/* Perf ring reader: acquire the head, consume, release the tail. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "loader/ring.h"
#include "loader/sys.h"
#include "util/file.h"

/* The layout of the records we ask for (sample_type = PERF_SAMPLE_RAW). */
struct sample {
	struct perf_event_header h;
	uint32_t size;
	uint8_t data[];
};

struct lost {
	struct perf_event_header h;
	uint64_t id;
	uint64_t lost;
};

/*
 * One process bursting on one CPU fills only that CPU's ring, so small
 * machines get deep rings: 4 MiB is about 20 000 events, 40 ms of
 * back-to-back connects, enough to ride out the reader losing its CPU for
 * a while without losing an event.
 */
unsigned
ld_ring_pages(long cpus, long page)
{
	unsigned long per, pages = 1;

	if (cpus < 1)
		cpus = 1;
	if (page < 4096)
		page = 4096;
	per = (8UL << 20) / (unsigned long)cpus;
	if (per > 4UL << 20)
		per = 4UL << 20;
	if (per < 256UL << 10)
		per = 256UL << 10;
	while (pages * 2 * (unsigned long)page <= per)
		pages *= 2;
	return (unsigned)pages;
}

int
ld_ring_open(struct ld_ring *r, int cpu, unsigned pages, unsigned watermark)
{
	struct perf_event_attr attr;
	long pagesz = sysconf(_SC_PAGESIZE);
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (pages == 0 || (pages & (pages - 1)) != 0)
		return -EINVAL;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_BPF_OUTPUT;
	attr.sample_type = PERF_SAMPLE_RAW;
	attr.sample_period = 1;
	/* Wake by watermark, never per event: per-event wakeups are what
	 * makes naive tracers slow. */
	attr.watermark = 1;
	attr.wakeup_watermark = watermark;
	r->cpu = cpu;
	r->fd = sys_perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (r->fd < 0) {
		err = r->fd;
		r->fd = -1;
		return err;
	}
	r->size = (uint64_t)pages * (uint64_t)pagesz;
	r->maplen = (size_t)pagesz * (pages + 1);
	r->meta = sys_mmap_shared(r->maplen, r->fd);
	if (r->meta == NULL) {
		err = -errno;
		goto fail;
	}
	r->data = (uint8_t *)r->meta + pagesz;
	r->scratch_len = 4096;
	if ((r->scratch = malloc(r->scratch_len)) == NULL) {
		err = -ENOMEM;
		goto fail;
	}
	if ((err = sys_ioctl(r->fd, PERF_EVENT_IOC_ENABLE, 0)) < 0)
		goto fail;
	return 0;
fail:
	ld_ring_close(r);
	return err;
}

void
ld_ring_close(struct ld_ring *r)
{
	free(r->scratch);
	r->scratch = NULL;
	if (r->meta)
		sys_munmap(r->meta, r->maplen);
	r->meta = NULL;
	if (r->fd >= 0)
		sys_close(r->fd);
	r->fd = -1;
}

uint64_t
ld_ring_pending(const struct ld_ring *r)
{
	/* Pairs with the kernel's smp_store_release() of data_head in
	 * perf_output_put_handle(). */
	uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);

	return head - r->meta->data_tail;
}

long
ld_ring_drain(struct ld_ring *r, ld_sample_fn sample, ld_lost_fn lost, void *ctx)
{
	uint64_t head, tail, mask = r->size - 1;
	long n = 0, ret = 0;

	/* Acquire: the records up to head are fully written once we see it
	 * (pairs with smp_store_release() in perf_output_put_handle()). */
	head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
	tail = r->meta->data_tail; /* only we write it */

	while (tail < head) {
		uint64_t off = tail & mask;
		const struct perf_event_header *h = (const void *)(r->data + off);
		const uint8_t *rec = r->data + off;
		uint16_t sz = h->size;

		/* Headers are 8-byte aligned and the ring a multiple of 8, so
		 * a header never wraps; the record behind it may. */
		if (sz < sizeof(*h) || sz % 8 != 0 || sz > head - tail) {
			ret = -EINVAL;
			tail = head;
			break;
		}
		if (off + sz > r->size) {
			uint64_t first = r->size - off;

			if (sz > r->scratch_len) {
				uint8_t *p = realloc(r->scratch, sz);

				if (p == NULL) {
					ret = -ENOMEM;
					tail += sz;
					continue;
				}
				r->scratch = p;
				r->scratch_len = sz;
			}
			memcpy(r->scratch, rec, first);
			memcpy(r->scratch + first, r->data, sz - first);
			rec = r->scratch;
			h = (const void *)rec;
		}
		if (h->type == PERF_RECORD_SAMPLE) {
			const struct sample *s = (const void *)rec;

			if (sz >= sizeof(*s) && s->size <= sz - sizeof(*s) && sample)
				sample(ctx, s->data, s->size);
		} else if (h->type == PERF_RECORD_LOST) {
			const struct lost *l = (const void *)rec;

			if (sz >= sizeof(*l) && lost)
				lost(ctx, l->lost);
		}
		tail += sz;
		n++;
	}
	/* Release: we are done reading everything before tail (pairs with
	 * the kernel's READ_ONCE(data_tail) + smp_mb() in perf_output_begin()
	 * before it reuses the space). */
	__atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
	return ret < 0 ? ret : n;
}

int
ld_parse_cpus(const char *s, int *cpus, int n)
{
	int count = 0;

	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -EINVAL;
			s = end;
		}
		for (; a <= b; a++) {
			if (count >= n)
				return -E2BIG;
			cpus[count++] = (int)a;
		}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return count;
}

int
ld_possible_cpus(int *cpus, int n)
{
	char buf[4096];
	ssize_t len;

	if ((len = file_read("/sys/devices/system/cpu/possible", buf,
	    sizeof(buf))) < 0)
		return (int)len;
	if (len == 0)
		return -EIO;
	return ld_parse_cpus(buf, cpus, n);
}
