/*
 * cgroup id -> cgroup path, for the "cgroup" field of events.  On cgroup
 * v2 the id bpf_get_current_cgroup_id() returns is the kernfs id of the
 * cgroup's directory under the cgroup2 mount (its file handle; on 64-bit
 * kernels its inode number too), so a walk of that tree maps ids to
 * paths.  The walk is cached and runs at response time, never on
 * the reader's path.  Thread-safe.
 */
#ifndef CGROUP_H
#define CGROUP_H

#include <stddef.h>
#include <stdint.h>

struct cgmap;

/*
 * The mount point of the cgroup2 file system in the text of
 * /proc/self/mountinfo: "/sys/fs/cgroup" on unified hosts,
 * "/sys/fs/cgroup/unified" in the hybrid layout.  Copies it into out (n
 * bytes).  Returns 0, or -ENOENT when there is none.
 */
int cg_find_mount(const char *mountinfo, char *out, size_t n);

/* The same from this process's /proc/self/mountinfo, read to its end.
 * Returns 0 or -errno. */
int cg_mount(char *out, size_t n);

/*
 * A map for the cgroup2 tree at root (NULL: find it in
 * /proc/self/mountinfo).  Returns NULL with errno set (ENOENT: no
 * cgroup2); callers then report every path as "".
 */
struct cgmap *cg_new(const char *root);
void cg_free(struct cgmap *m);

/*
 * The path of cgroup id below the root ("/" for the root itself,
 * "/system.slice/ssh.service", ...) into buf (n bytes).  An unknown id
 * triggers a new walk of the tree at most once every CG_RESCAN_MS; until
 * then, or if the cgroup is gone, the answer is "".  m may be NULL.
 * Returns the length written.
 */
#define CG_RESCAN_MS 1000
size_t cg_path(struct cgmap *m, uint64_t id, char *buf, size_t n);

#endif
