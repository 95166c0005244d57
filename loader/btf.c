/*
 * BTF reader.  The format (Documentation/bpf/btf.rst): a header, then a
 * type section of variable-length records whose ids start at 1, and a
 * string section.  We index the records once and then walk members.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/btf.h>

#include "loader/btf.h"
#include "util/file.h"

struct btf {
	uint8_t *data;
	size_t len;
	size_t maplen;          /* data is mmap'd (maplen bytes), not malloc'd */
	const char *strs;
	uint32_t strs_len;
	const struct btf_type **types; /* types[id], id 0 is void */
	uint32_t ntypes;
};

static const char *
str(const struct btf *b, uint32_t off)
{
	return off < b->strs_len ? b->strs + off : "";
}

/* Bytes following struct btf_type for this kind, or -1 if unknown. */
static long
extra(const struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
		return 4;
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case 18 /* TYPE_TAG */:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case 17 /* DECL_TAG */:
		return 4;
	case 19 /* ENUM64 */:
		return (long)vlen * 12;
	default:
		return -1;
	}
}

/* Parse b->data (b->len bytes), which b owns.  Frees b on failure. */
static int
parse(struct btf *b, struct btf **out)
{
	const struct btf_header *h;
	size_t off, end, cap = 0;
	int err = -EINVAL;

	if (b->len < sizeof(*h))
		goto fail;
	h = (const struct btf_header *)b->data;
	if (h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) || h->hdr_len > b->len)
		goto fail;
	if ((uint64_t)h->hdr_len + h->type_off + h->type_len > b->len ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > b->len || h->str_len == 0)
		goto fail;
	b->strs = (const char *)b->data + h->hdr_len + h->str_off;
	b->strs_len = h->str_len;
	if (b->strs[b->strs_len - 1] != '\0')
		goto fail;

	off = h->hdr_len + h->type_off;
	end = off + h->type_len;
	b->ntypes = 1; /* id 0: void */
	while (off < end) {
		const struct btf_type *t = (const void *)(b->data + off);
		long x;

		if (off + sizeof(*t) > end || (x = extra(t)) < 0 ||
		    off + sizeof(*t) + (size_t)x > end)
			goto fail;
		if (b->ntypes >= cap) {
			const struct btf_type **p;

			/* A type takes at least 12 bytes: guess once. */
			cap = cap ? cap * 2 : h->type_len / 24 + 16;
			if ((p = realloc(b->types, cap * sizeof(*p))) == NULL) {
				err = -ENOMEM;
				goto fail;
			}
			b->types = p;
		}
		b->types[b->ntypes++] = t;
		off += sizeof(*t) + (size_t)x;
	}
	*out = b;
	return 0;
fail:
	ld_btf_free(b);
	return err;
}

int
ld_btf_parse(const void *data, size_t len, struct btf **out)
{
	struct btf *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	if ((b->data = malloc(len ? len : 1)) == NULL) {
		free(b);
		return -ENOMEM;
	}
	memcpy(b->data, data, len);
	b->len = len;
	return parse(b, out);
}

/*
 * Read the file into memory b owns.  Start-up time matters (issue #3) and
 * on a VM every page fault is dear: vmlinux BTF is ~5 MiB, so map it where
 * sysfs allows (Linux 6.16+), else read it into one buffer of its stat()
 * size, populated up front, instead of growing a heap buffer and copying.
 */
static int
slurp(int fd, struct btf *b)
{
	struct stat st;
	size_t cap, len = 0;
	uint8_t *buf, *p;
	ssize_t r;

	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		cap = (size_t)st.st_size;
		p = mmap(NULL, cap, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED) {
			b->data = p;
			b->len = b->maplen = cap;
			return 0;
		}
		/* One more byte, so that reading to EOF needs no second pass. */
		cap++;
		buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED)
			return -errno;
		b->maplen = cap;
	} else {
		cap = 1 << 22;
		if ((buf = malloc(cap)) == NULL)
			return -ENOMEM;
	}
	b->data = buf;
	while ((r = file_read_fd(fd, buf + len, cap - len)) >= 0) {
		if ((len += (size_t)r) < cap) {
			b->len = len;
			return 0;
		}
		if (b->maplen)
			return -EFBIG; /* longer than its stat() size */
		cap *= 2;
		if ((p = realloc(buf, cap)) == NULL)
			return -ENOMEM;
		b->data = buf = p;
	}
	return (int)r;
}

int
ld_btf_load(const char *path, struct btf **out)
{
	struct btf *b;
	int fd, err;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	err = slurp(fd, b);
	close(fd);
	if (err < 0) {
		ld_btf_free(b);
		return err;
	}
	return parse(b, out);
}

void
ld_btf_free(struct btf *b)
{
	if (b == NULL)
		return;
	free(b->types);
	if (b->maplen)
		munmap(b->data, b->maplen);
	else
		free(b->data);
	free(b);
}

static const struct btf_type *
type(const struct btf *b, uint32_t id)
{
	return id > 0 && id < b->ntypes ? b->types[id] : NULL;
}

/* Size in bytes of a type, looking through typedefs and qualifiers. */
static int
type_size(const struct btf *b, uint32_t id)
{
	int depth;

	for (depth = 0; depth < 32; depth++) {
		const struct btf_type *t = type(b, id);
		uint32_t n;

		if (t == NULL)
			return -1;
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_STRUCT:
		case BTF_KIND_UNION: case BTF_KIND_FLOAT: case 19:
			return (int)t->size;
		case BTF_KIND_PTR:
			return (int)sizeof(void *);
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = (const void *)(t + 1);
			int es = type_size(b, a->type);

			n = a->nelems;
			return es < 0 ? -1 : es * (int)n;
		}
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case 18:
			id = t->type;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/* Search t's members for name, descending into anonymous members; adds
 * the bit offset to *bits. */
static int
find(const struct btf *b, const struct btf_type *t, const char *name,
    uint32_t *bits, int *size, int depth)
{
	const struct btf_member *m = (const void *)(t + 1);
	int kflag = BTF_INFO_KFLAG(t->info);
	uint32_t i, vlen = BTF_INFO_VLEN(t->info);

	if (depth > 8)
		return -ENOENT;
	for (i = 0; i < vlen; i++, m++) {
		uint32_t moff = kflag ? BTF_MEMBER_BIT_OFFSET(m->offset) : m->offset;
		uint32_t bsz = kflag ? BTF_MEMBER_BITFIELD_SIZE(m->offset) : 0;
		const struct btf_type *mt;

		if (m->name_off == 0) {
			uint32_t id = m->type;

			/* Anonymous struct or union: look inside. */
			while ((mt = type(b, id)) != NULL &&
			    (BTF_INFO_KIND(mt->info) == BTF_KIND_TYPEDEF ||
			    BTF_INFO_KIND(mt->info) == BTF_KIND_CONST ||
			    BTF_INFO_KIND(mt->info) == BTF_KIND_VOLATILE))
				id = mt->type;
			if (mt && (BTF_INFO_KIND(mt->info) == BTF_KIND_STRUCT ||
			    BTF_INFO_KIND(mt->info) == BTF_KIND_UNION)) {
				uint32_t sub = 0;
				int err = find(b, mt, name, &sub, size, depth + 1);

				if (err == 0)
					*bits += moff + sub;
				/* Found, or found as a bitfield: stop. */
				if (err != -ENOENT)
					return err;
			}
			continue;
		}
		if (strcmp(str(b, m->name_off), name) != 0)
			continue;
		/* A bitfield cannot be read with a plain load. */
		if (bsz != 0 || moff % 8 != 0)
			return -EOPNOTSUPP;
		*bits += moff;
		*size = type_size(b, m->type);
		return 0;
	}
	return -ENOENT;
}

int
ld_btf_member(const struct btf *b, const char *sname, const char *member,
    int *off, int *size)
{
	uint32_t id;
	int err = -ENOENT;

	for (id = 1; id < b->ntypes; id++) {
		const struct btf_type *t = b->types[id];
		uint32_t bits = 0;
		int sz = -1;

		if (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT ||
		    strcmp(str(b, t->name_off), sname) != 0)
			continue;
		err = find(b, t, member, &bits, &sz, 0);
		if (err == -ENOENT)
			continue; /* another struct of that name may have it */
		if (err == 0) {
			*off = (int)(bits / 8);
			*size = sz;
		}
		return err;
	}
	return err;
}

int
ld_btf_func(const struct btf *b, const char *name, int *nargs)
{
	uint32_t id;

	for (id = 1; id < b->ntypes; id++) {
		const struct btf_type *t = b->types[id], *proto;

		if (BTF_INFO_KIND(t->info) != BTF_KIND_FUNC ||
		    strcmp(str(b, t->name_off), name) != 0)
			continue;
		if ((proto = type(b, t->type)) == NULL ||
		    BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO)
			return -EINVAL;
		*nargs = (int)BTF_INFO_VLEN(proto->info);
		return (int)id;
	}
	return -ENOENT;
}

int
ld_btf_struct(const struct btf *b, const char *name)
{
	uint32_t id;

	for (id = 1; id < b->ntypes; id++) {
		const struct btf_type *t = b->types[id];

		if (BTF_INFO_KIND(t->info) == BTF_KIND_STRUCT &&
		    strcmp(str(b, t->name_off), name) == 0)
			return (int)id;
	}
	return -ENOENT;
}
