# ebpf-server version
VERSION = 0.1.0

# paths
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man

# toolchain for the product: musl makes a small fully static binary
CC = musl-gcc
#CC = gcc
#CC = clang

# flags you may override; the required ones are added in GNUmakefile
CPPFLAGS =
CFLAGS = -Os
#CFLAGS = -O0 -g
LDFLAGS = -static -s
#LDFLAGS = -static

# make release builds one static binary per architecture here, each at
# most MAX_SIZE bytes; make ARCH=aarch64 builds that one alone
RELEASE_ARCHS = x86_64 aarch64 armhf i686 riscv64 ppc64le s390x mips64el
#RELEASE_ARCHS = aarch64
MAX_SIZE = 1048576
ARCH =
#ARCH = armhf

# make test-vm: the capture backends tried in every guest (a backend the
# guest's kernel cannot run is reported skipped, with the server's
# reason), the guests as arch:Debian-suite, how many boot at once, and
# each one's time-out in seconds
VM_BACKENDS = auto tracepoint-exit tracepoint cgroup fexit
VM_GUESTS = x86_64:bullseye x86_64:bookworm x86_64:trixie x86_64:trixie-backports \
	aarch64:bullseye aarch64:bookworm aarch64:trixie-backports \
	armhf:bullseye armhf:bookworm armhf:trixie \
	i686:bullseye i686:bookworm riscv64:trixie ppc64le:bookworm s390x:bookworm \
	mips64el:bookworm
VM_SUITES = bullseye bookworm trixie trixie-backports
VM_JOBS = 2
VM_TIMEOUT = 300

# toolchain for unit tests (links Debian's libcmocka)
HOSTCC = gcc
HOSTCFLAGS = -O1 -g

# sanitizer build of the test suite
ASANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# the fuzz harness (libFuzzer needs clang), and how long it runs
FUZZCC = clang
FUZZFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZTIME = 600
FUZZTIME_TEST = 20

# third-party sources, fetched with apt-get source
DEPS_SRC = civetweb jansson

# Debian packages the build and the tests need
PKGS_BUILD = musl-tools linux-libc-dev dpkg-dev xz-utils file gcc make
PKGS_TEST = libcmocka-dev valgrind clang libclang-rt-dev wrk prometheus \
	clickhouse-server victoria-metrics prometheus-pushgateway rsyslog
# make test-vm: the emulators and the initramfs tools
PKGS_VM = qemu-system-x86 qemu-system-arm qemu-system-misc qemu-system-ppc \
	qemu-system-mips qemu-system-data cpio gzip
# make bench: the load generator and the static-file ceiling
PKGS_BENCH = wrk nginx clickhouse-server
