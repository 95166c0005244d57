/* Unit tests for util/cgroup.c: the mountinfo parser, and the walk on a
 * directory tree of our own (any directory tree maps inodes to paths). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../util/cgroup.c"

static void
test_find_mount(void **state)
{
	const char *hybrid =
	    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	const char *unified =
	    "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
	    "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 "
	    "rw,nsdelegate\n";
	const char *escaped =
	    "35 24 0:30 / /mnt/my\\040cg rw - cgroup2 none rw\n";
	const char *v1only =
	    "31 30 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
	    "32 30 0:28 / /x/cgroup2 rw - tmpfs cgroup2 rw\n";
	char out[64];

	(void)state;
	assert_int_equal(cg_find_mount(hybrid, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(cg_find_mount(unified, out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(cg_find_mount(escaped, out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cg");
	assert_int_equal(cg_find_mount(v1only, out, sizeof(out)), -ENOENT);
	assert_int_equal(cg_find_mount("", out, sizeof(out)), -ENOENT);
	assert_int_equal(cg_find_mount(hybrid, out, 5), -ENAMETOOLONG);
}

static uint64_t
ino(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return (uint64_t)st.st_ino;
}

static void
test_walk(void **state)
{
	char root[] = "/tmp/test_cgroup.XXXXXX", p[256], buf[256];
	struct cgmap *m;
	uint64_t late;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/system.slice", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/system.slice/ssh.service", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_non_null(m = cg_new(root));
	assert_int_equal(cg_path(m, ino(p), buf, sizeof(buf)),
	    strlen("/system.slice/ssh.service"));
	assert_string_equal(buf, "/system.slice/ssh.service");
	assert_int_equal(cg_path(m, ino(root), buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	/* Truncated, still NUL-terminated. */
	assert_int_equal(cg_path(m, ino(p), buf, 6), 5);
	assert_string_equal(buf, "/syst");
	/* Unknown ids are "", and id 0 too; a NULL map knows nothing. */
	assert_int_equal(cg_path(m, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(cg_path(NULL, ino(p), buf, sizeof(buf)), 0);
	/* A cgroup made after the walk: unknown until the rescan interval has
	 * passed, then found. */
	snprintf(p, sizeof(p), "%s/late", root);
	assert_int_equal(mkdir(p, 0755), 0);
	late = ino(p);
	m->last_scan_ns = time_mono_ns();
	assert_int_equal(cg_path(m, late, buf, sizeof(buf)), 0);
	m->last_scan_ns -= CG_RESCAN_MS * 1000000ULL;
	assert_int_equal(cg_path(m, late, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "/late");
	cg_free(m);
	cg_free(NULL);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/system.slice/ssh.service", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/system.slice", root);
	rmdir(p);
	rmdir(root);
}

/* The real thing, when this host has cgroup2: our own cgroup by its id. */
static void
test_self(void **state)
{
	char line[4096], mnt[4096], dir[8192], buf[4096];
	struct cgmap *m;
	FILE *f;
	int found = 0;

	(void)state;
	if (!(m = cg_new(NULL))) {
		assert_int_equal(errno, ENOENT);
		skip();
	}
	assert_non_null(f = fopen("/proc/self/cgroup", "r"));
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			found = 1;
			break;
		}
	fclose(f);
	assert_true(found);
	strcpy(mnt, m->root);
	snprintf(dir, sizeof(dir), "%s%s", mnt, line + 3);
	cg_path(m, ino(dir), buf, sizeof(buf));
	assert_string_equal(buf, line + 3);
	cg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_mount),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
