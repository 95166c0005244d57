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

#include <linux/btf.h>

#include "loader/btf.h"

struct btf {
	uint8_t *data;
	size_t len;
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

int
ld_btf_parse(const void *data, size_t len, struct btf **out)
{
	const struct btf_header *h;
	struct btf *b;
	size_t off, end, cap = 0;
	int err = -EINVAL;

	*out = NULL;
	if (len < sizeof(*h))
		return -EINVAL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	if ((b->data = malloc(len)) == NULL) {
		free(b);
		return -ENOMEM;
	}
	memcpy(b->data, data, len);
	b->len = len;
	h = (const struct btf_header *)b->data;
	if (h->magic != BTF_MAGIC || h->hdr_len < sizeof(*h) || h->hdr_len > len)
		goto fail;
	if ((uint64_t)h->hdr_len + h->type_off + h->type_len > len ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > len || h->str_len == 0)
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

			cap = cap ? cap * 2 : 4096;
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
ld_btf_load(const char *path, struct btf **out)
{
	size_t len = 0, cap = 0;
	uint8_t *buf = NULL;
	ssize_t r;
	int fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		if (len == cap) {
			uint8_t *p;

			cap = cap ? cap * 2 : 1 << 22;
			if ((p = realloc(buf, cap)) == NULL) {
				err = -ENOMEM;
				goto out;
			}
			buf = p;
		}
		if ((r = read(fd, buf + len, cap - len)) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	err = ld_btf_parse(buf, len, out);
out:
	free(buf);
	close(fd);
	return err;
}

void
ld_btf_free(struct btf *b)
{
	if (b == NULL)
		return;
	free(b->types);
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
