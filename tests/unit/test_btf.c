/*
 * Unit tests for the BTF reader (loader/btf.c) on a synthetic blob built in
 * memory, its rejection of malformed blobs, and one pass over the running
 * kernel's /sys/kernel/btf/vmlinux when there is one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../loader/btf.c"

#define INFO(kind, kflag, vlen) \
	((uint32_t)(kflag) << 31 | (uint32_t)(kind) << 24 | (uint32_t)(vlen))
#define MOFF(bitfield_size, bit_offset) \
	((uint32_t)(bitfield_size) << 24 | (uint32_t)(bit_offset))
#define INT_ENC(enc, bits) ((uint32_t)(enc) << 24 | (uint32_t)(bits))

struct blob {
	uint8_t types[4096];
	size_t tlen;
	char strs[1024];
	size_t slen;
	uint32_t ntypes;
	uint8_t out[8192];      /* header + types + strings */
	size_t len;
};

static uint32_t
add_str(struct blob *b, const char *name)
{
	uint32_t off = (uint32_t)b->slen;

	if (name == NULL)
		return 0;
	assert_true(b->slen + strlen(name) + 1 <= sizeof(b->strs));
	memcpy(b->strs + b->slen, name, strlen(name) + 1);
	b->slen += strlen(name) + 1;
	return off;
}

static void
add_u32(struct blob *b, uint32_t v)
{
	assert_true(b->tlen + 4 <= sizeof(b->types));
	memcpy(b->types + b->tlen, &v, 4);
	b->tlen += 4;
}

/* Append a struct btf_type; returns its id. */
static uint32_t
add_type(struct blob *b, const char *name, uint32_t info, uint32_t size_or_type)
{
	add_u32(b, add_str(b, name));
	add_u32(b, info);
	add_u32(b, size_or_type);
	return ++b->ntypes;
}

static void
add_member(struct blob *b, const char *name, uint32_t type_id, uint32_t off)
{
	add_u32(b, add_str(b, name));
	add_u32(b, type_id);
	add_u32(b, off);
}

/* Lay out header, types and strings in b->out. */
static void
finish(struct blob *b)
{
	struct btf_header h;

	memset(&h, 0, sizeof(h));
	h.magic = BTF_MAGIC;
	h.version = BTF_VERSION;
	h.hdr_len = sizeof(h);
	h.type_off = 0;
	h.type_len = (uint32_t)b->tlen;
	h.str_off = (uint32_t)b->tlen;
	h.str_len = (uint32_t)b->slen;
	b->len = sizeof(h) + b->tlen + b->slen;
	assert_true(b->len <= sizeof(b->out));
	memcpy(b->out, &h, sizeof(h));
	memcpy(b->out + sizeof(h), b->types, b->tlen);
	memcpy(b->out + sizeof(h) + b->tlen, b->strs, b->slen);
}

static struct btf_header *
hdr(struct blob *b)
{
	return (struct btf_header *)b->out;
}

/*
 *	struct foo {                    // 32 bytes
 *		int x;                  //  0
 *		int *p;                 //  8
 *		union { int a; int *b; };  // 16
 *		u16 t;                  // 24 (typedef of unsigned short)
 *		int y;                  // 28
 *	};
 *	struct bits {                   // kind_flag: bitfield sizes in offsets
 *		int lo:3, hi:5;
 *		int whole;              //  4
 *	};
 *	struct outer { int n; struct { int flag:1; }; };
 *	struct dup { int a; };  struct dup { int a, b; };  // two of a name
 *	struct arr { int n; int v[4]; };    // v at 8, 16 bytes
 *	struct deep { struct { union { int z; }; }; };  // z through two levels
 */
static void
build(struct blob *b)
{
	uint32_t t_int, t_ptr, t_ushort, t_u16, t_anon_u, t_anon_s, t_arr;
	uint32_t t_inner_u, t_inner_s;

	memset(b, 0, sizeof(*b));
	b->strs[0] = '\0';
	b->slen = 1;

	t_int = add_type(b, "int", INFO(BTF_KIND_INT, 0, 0), 4);
	add_u32(b, INT_ENC(BTF_INT_SIGNED, 32));
	t_ptr = add_type(b, NULL, INFO(BTF_KIND_PTR, 0, 0), t_int);
	t_ushort = add_type(b, "unsigned short", INFO(BTF_KIND_INT, 0, 0), 2);
	add_u32(b, INT_ENC(0, 16));
	t_u16 = add_type(b, "u16", INFO(BTF_KIND_TYPEDEF, 0, 0), t_ushort);
	t_anon_u = add_type(b, NULL, INFO(BTF_KIND_UNION, 0, 2), 8);
	add_member(b, "a", t_int, 0);
	add_member(b, "b", t_ptr, 0);

	add_type(b, "foo", INFO(BTF_KIND_STRUCT, 0, 5), 32);
	add_member(b, "x", t_int, 0);
	add_member(b, "p", t_ptr, 64);
	add_member(b, NULL, t_anon_u, 128);
	add_member(b, "t", t_u16, 192);
	add_member(b, "y", t_int, 224);

	add_type(b, "bits", INFO(BTF_KIND_STRUCT, 1, 3), 8);
	add_member(b, "lo", t_int, MOFF(3, 0));
	add_member(b, "hi", t_int, MOFF(5, 3));
	add_member(b, "whole", t_int, MOFF(0, 32));

	t_anon_s = add_type(b, NULL, INFO(BTF_KIND_STRUCT, 1, 1), 4);
	add_member(b, "flag", t_int, MOFF(1, 0));
	add_type(b, "outer", INFO(BTF_KIND_STRUCT, 0, 2), 8);
	add_member(b, "n", t_int, 0);
	add_member(b, NULL, t_anon_s, 32);

	add_type(b, "dup", INFO(BTF_KIND_STRUCT, 0, 1), 4);
	add_member(b, "a", t_int, 0);
	add_type(b, "dup", INFO(BTF_KIND_STRUCT, 0, 2), 8);
	add_member(b, "a", t_int, 0);
	add_member(b, "b", t_int, 32);

	t_arr = add_type(b, NULL, INFO(BTF_KIND_ARRAY, 0, 0), 0);
	add_u32(b, t_int);  /* element type */
	add_u32(b, t_int);  /* index type */
	add_u32(b, 4);      /* nelems */
	add_type(b, "arr", INFO(BTF_KIND_STRUCT, 0, 2), 24);
	add_member(b, "n", t_int, 0);
	add_member(b, "v", t_arr, 64);

	t_inner_u = add_type(b, NULL, INFO(BTF_KIND_UNION, 0, 1), 4);
	add_member(b, "z", t_int, 0);
	t_inner_s = add_type(b, NULL, INFO(BTF_KIND_STRUCT, 0, 2), 8);
	add_member(b, "w", t_int, 0);
	add_member(b, NULL, t_inner_u, 32);
	add_type(b, "deep", INFO(BTF_KIND_STRUCT, 0, 2), 16);
	add_member(b, "first", t_int, 0);
	add_member(b, NULL, t_inner_s, 64);

	finish(b);
}

static int
setup(void **state)
{
	struct blob *b = malloc(sizeof(*b));

	if (b == NULL)
		return -1;
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static struct btf *
parse_ok(struct blob *b)
{
	struct btf *btf = NULL;

	assert_int_equal(ld_btf_parse(b->out, b->len, &btf), 0);
	assert_non_null(btf);
	return btf;
}

static void
assert_member(const struct btf *btf, const char *sname, const char *m,
    int want_off, int want_size)
{
	int off = -1, size = -1;

	assert_int_equal(ld_btf_member(btf, sname, m, &off, &size), 0);
	assert_int_equal(off, want_off);
	assert_int_equal(size, want_size);
}

static void
test_parse(void **state)
{
	struct blob *b = *state;
	struct btf *btf;

	build(b);
	btf = parse_ok(b);
	/* void plus every record built. */
	assert_int_equal(btf->ntypes, b->ntypes + 1);
	/* The blob was copied. */
	assert_ptr_not_equal(btf->data, b->out);
	ld_btf_free(btf);
	ld_btf_free(NULL);
}

static void
test_members(void **state)
{
	struct blob *b = *state;
	struct btf *btf;

	build(b);
	btf = parse_ok(b);
	memset(b->out, 0, sizeof(b->out)); /* the parse must not keep pointers */
	assert_member(btf, "foo", "x", 0, 4);
	assert_member(btf, "foo", "p", 8, (int)sizeof(void *));
	assert_member(btf, "foo", "t", 24, 2);      /* through the typedef */
	assert_member(btf, "foo", "y", 28, 4);
	assert_member(btf, "arr", "v", 8, 16);
	assert_member(btf, "arr", "n", 0, 4);
	ld_btf_free(btf);
}

static void
test_anonymous(void **state)
{
	struct blob *b = *state;
	struct btf *btf;

	build(b);
	btf = parse_ok(b);
	assert_member(btf, "foo", "a", 16, 4);
	assert_member(btf, "foo", "b", 16, (int)sizeof(void *));
	/* Two levels down, offsets add up: 64 + 32 bits. */
	assert_member(btf, "deep", "w", 8, 4);
	assert_member(btf, "deep", "z", 12, 4);
	ld_btf_free(btf);
}

static void
test_kflag(void **state)
{
	struct blob *b = *state;
	struct btf *btf;
	int off = -1, size = -1;

	build(b);
	btf = parse_ok(b);
	/* A plain member of a kind_flag struct is readable. */
	assert_member(btf, "bits", "whole", 4, 4);
	assert_int_equal(ld_btf_member(btf, "bits", "lo", &off, &size), -EOPNOTSUPP);
	assert_int_equal(ld_btf_member(btf, "bits", "hi", &off, &size), -EOPNOTSUPP);
	ld_btf_free(btf);
}

static void
test_bitfield_in_anonymous(void **state)
{
	struct blob *b = *state;
	struct btf *btf;
	int off = -1, size = -1;

	build(b);
	btf = parse_ok(b);
	assert_member(btf, "outer", "n", 0, 4);
	/* A bitfield is reported as such however deep it sits. */
	assert_int_equal(ld_btf_member(btf, "outer", "flag", &off, &size), -EOPNOTSUPP);
	ld_btf_free(btf);
}

static void
test_missing(void **state)
{
	struct blob *b = *state;
	struct btf *btf;
	int off = 77, size = 77;

	build(b);
	btf = parse_ok(b);
	assert_int_equal(ld_btf_member(btf, "nosuch", "x", &off, &size), -ENOENT);
	assert_int_equal(ld_btf_member(btf, "foo", "nosuch", &off, &size), -ENOENT);
	/* Not a prefix or substring match. */
	assert_int_equal(ld_btf_member(btf, "fo", "x", &off, &size), -ENOENT);
	assert_int_equal(ld_btf_member(btf, "foo", "", &off, &size), -ENOENT);
	/* Only structs are searched by name. */
	assert_int_equal(ld_btf_member(btf, "int", "x", &off, &size), -ENOENT);
	/* Outputs untouched on failure. */
	assert_int_equal(off, 77);
	assert_int_equal(size, 77);
	ld_btf_free(btf);
}

static void
test_same_name(void **state)
{
	struct blob *b = *state;
	struct btf *btf;

	build(b);
	btf = parse_ok(b);
	/* The first "dup" lacks b: the second one is searched too. */
	assert_member(btf, "dup", "a", 0, 4);
	assert_member(btf, "dup", "b", 4, 4);
	ld_btf_free(btf);
}

/* Struct ids by name: the first struct of that name, not a union or an
 * int of it, nothing for a prefix. */
static void
test_struct_id(void **state)
{
	struct blob *b = *state;
	struct btf *btf;
	int id;

	build(b);
	btf = parse_ok(b);
	id = ld_btf_struct(btf, "foo");
	assert_true(id > 0);
	assert_int_equal(BTF_INFO_KIND(btf->types[id]->info), BTF_KIND_STRUCT);
	assert_true(ld_btf_struct(btf, "dup") < ld_btf_struct(btf, "deep"));
	assert_int_equal(ld_btf_struct(btf, "fo"), -ENOENT);
	assert_int_equal(ld_btf_struct(btf, "int"), -ENOENT);
	assert_int_equal(ld_btf_struct(btf, "u16"), -ENOENT);
	ld_btf_free(btf);
}

static void
assert_rejected(struct blob *b, size_t len)
{
	struct btf *btf = (struct btf *)1;

	assert_int_equal(ld_btf_parse(b->out, len, &btf), -EINVAL);
	assert_null(btf);
}

static void
test_bad_magic(void **state)
{
	struct blob *b = *state;

	build(b);
	hdr(b)->magic = 0x9feb; /* other endianness */
	assert_rejected(b, b->len);
}

static void
test_truncated(void **state)
{
	struct blob *b = *state;

	build(b);
	assert_rejected(b, 0);
	assert_rejected(b, sizeof(struct btf_header) - 1);
	/* The string section runs past the end. */
	assert_rejected(b, b->len - 1);

	build(b);
	hdr(b)->hdr_len = (uint32_t)b->len + 8;
	assert_rejected(b, b->len);

	build(b);
	hdr(b)->hdr_len = sizeof(struct btf_header) - 4;
	assert_rejected(b, b->len);

	build(b);
	hdr(b)->type_len += (uint32_t)b->slen + 4; /* past the end */
	assert_rejected(b, b->len);

	build(b);
	hdr(b)->str_off = 0xfffffff0; /* wraps in 32 bits */
	assert_rejected(b, b->len);

	build(b);
	hdr(b)->str_len = 0;
	assert_rejected(b, b->len);

	/* The last record's members cut short. */
	build(b);
	hdr(b)->type_len -= 4;
	assert_rejected(b, b->len);

	/* A record header cut short. */
	build(b);
	hdr(b)->type_len -= 12 * 2 + 4; /* leaves 8 bytes of the last btf_type */
	assert_rejected(b, b->len);
}

static void
test_strings_not_terminated(void **state)
{
	struct blob *b = *state;

	build(b);
	b->out[b->len - 1] = 'x';
	assert_rejected(b, b->len);
}

static void
test_unknown_kind(void **state)
{
	struct blob *b = *state;

	memset(b, 0, sizeof(*b));
	b->slen = 1;
	add_type(b, "int", INFO(BTF_KIND_INT, 0, 0), 4);
	add_u32(b, INT_ENC(BTF_INT_SIGNED, 32));
	add_type(b, "what", INFO(31, 0, 0), 0);
	finish(b);
	assert_rejected(b, b->len);
}

static void
test_load_missing_file(void **state)
{
	struct btf *btf = (struct btf *)1;

	(void)state;
	assert_int_equal(ld_btf_load("/nonexistent/btf", &btf), -ENOENT);
}

static void
test_vmlinux(void **state)
{
	static const char *const notfirst[][2] = {
		{ "task_struct", "files" }, { "task_struct", "real_parent" },
		{ "task_struct", "tgid" }, { "files_struct", "fdt" },
		{ "fdtable", "fd" }, { "file", "private_data" },
		{ "socket", "type" }, { "socket", "file" }, { "socket", "sk" },
		{ "sock", "sk_protocol" },
	};
	struct btf *btf;
	int off, size, err;
	size_t i;

	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		skip();
	err = ld_btf_load("/sys/kernel/btf/vmlinux", &btf);
	assert_int_equal(err, 0);
	/* A kernel has tens of thousands of types. */
	assert_true(btf->ntypes > 10000);

	assert_int_equal(ld_btf_member(btf, "socket", "type", &off, &size), 0);
	assert_int_equal(size, 2);
	assert_true(off > 0);
	assert_int_equal(ld_btf_member(btf, "sock", "sk_protocol", &off, &size), 0);
	assert_int_equal(size, 2);
	assert_true(off > 0);
	assert_int_equal(ld_btf_member(btf, "task_struct", "files", &off, &size), 0);
	assert_int_equal(size, 8);
	assert_true(off > 0);
	assert_int_equal(ld_btf_member(btf, "fdtable", "max_fds", &off, &size), 0);
	assert_int_equal(size, 4);
	assert_int_equal(off, 0);
	for (i = 0; i < sizeof(notfirst) / sizeof(notfirst[0]); i++) {
		off = -1;
		size = -1;
		err = ld_btf_member(btf, notfirst[i][0], notfirst[i][1], &off, &size);
		if (err != 0)
			fail_msg("%s.%s: %d", notfirst[i][0], notfirst[i][1], err);
		assert_true(off > 0);
		assert_true(size > 0);
	}
	assert_int_equal(ld_btf_member(btf, "task_struct", "no_such_member",
	    &off, &size), -ENOENT);
	assert_int_equal(ld_btf_member(btf, "no_such_struct_xyz", "x",
	    &off, &size), -ENOENT);
	ld_btf_free(btf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kflag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bitfield_in_anonymous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_struct_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_not_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_kind, setup, teardown),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_vmlinux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
