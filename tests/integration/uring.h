/*
 * The least of io_uring a test needs, with the raw system calls (no
 * liburing): one ring, one submission at a time, its completion's result.
 * For making the calls the syscall tracepoints never see
 * (IORING_OP_CONNECT, IORING_OP_SENDMSG run in the kernel, not through
 * connect(2) or sendmsg(2)).
 */
#ifndef IT_URING_H
#define IT_URING_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/io_uring.h>

struct it_uring {
	int fd;
	struct io_uring_params p;
	void *sq, *cq;
	size_t sqlen, cqlen;
	struct io_uring_sqe *sqes;
	size_t sqeslen;
};

static inline void
it_uring_close(struct it_uring *u)
{
	if (u->sqes && u->sqes != MAP_FAILED)
		munmap(u->sqes, u->sqeslen);
	if (u->cq && u->cq != MAP_FAILED && u->cq != u->sq)
		munmap(u->cq, u->cqlen);
	if (u->sq && u->sq != MAP_FAILED)
		munmap(u->sq, u->sqlen);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

/* 0, or -errno (-ENOSYS: a kernel without io_uring, or one that refuses
 * it to us: io_uring_disabled). */
static inline int
it_uring_open(struct it_uring *u)
{
	memset(u, 0, sizeof(*u));
	if ((u->fd = (int)syscall(__NR_io_uring_setup, 4, &u->p)) < 0) {
		u->fd = -1;
		return -errno;
	}
	u->sqlen = u->p.sq_off.array + u->p.sq_entries * sizeof(uint32_t);
	u->cqlen = u->p.cq_off.cqes + u->p.cq_entries * sizeof(struct io_uring_cqe);
	u->sq = mmap(NULL, u->sqlen, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	u->cq = mmap(NULL, u->cqlen, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	u->sqeslen = u->p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqeslen, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sq == MAP_FAILED || u->cq == MAP_FAILED || u->sqes == MAP_FAILED) {
		int e = -errno;

		it_uring_close(u);
		return e;
	}
	return 0;
}

/* Submit *sqe, wait for its completion: the operation's result (>= 0 or
 * -errno), or -errno of io_uring_enter itself. */
static inline int
it_uring_run(struct it_uring *u, const struct io_uring_sqe *sqe)
{
	uint8_t *sq = u->sq, *cq = u->cq;
	uint32_t *tail = (uint32_t *)(sq + u->p.sq_off.tail);
	uint32_t mask = *(uint32_t *)(sq + u->p.sq_off.ring_mask);
	uint32_t *array = (uint32_t *)(sq + u->p.sq_off.array);
	uint32_t *chead = (uint32_t *)(cq + u->p.cq_off.head);
	uint32_t *ctail = (uint32_t *)(cq + u->p.cq_off.tail);
	uint32_t cmask = *(uint32_t *)(cq + u->p.cq_off.ring_mask);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + u->p.cq_off.cqes);
	uint32_t t = *tail, h;
	int res;

	u->sqes[t & mask] = *sqe;
	array[t & mask] = t & mask;
	/* The kernel reads the entry after it sees the tail (its
	 * smp_load_acquire of sq.tail). */
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS,
	    NULL, 0) < 0)
		return -errno;
	/* Pairs with the kernel's release of cq.tail. */
	h = *chead;
	if (h == __atomic_load_n(ctail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = cqes[h & cmask].res;
	__atomic_store_n(chead, h + 1, __ATOMIC_RELEASE);
	return res;
}

#endif
