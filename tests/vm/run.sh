#!/usr/bin/env bash
# make test-vm: boot each guest of $VM_GUESTS ("arch:suite" words) under
# qemu in software emulation, at most $VM_JOBS at a time, each with a
# time-out of $VM_TIMEOUT seconds, and run tests/vm/client.c in it for
# every backend of $VM_BACKENDS.  Prints one line per guest and backend,
#   vm <arch> <kernel> <backend>[ no-btf]: pass | FAIL <why> | skipped (<why>)
# the seconds each guest took to boot and run, the console log of every
# guest with a failure, then the counts; exits 1 on any failure.  $B is the build directory, $APTBIN the private apt-get.
set -u
B=${B:-build}
VM=$B/vm
mkdir -p "$VM/run"

# Architecture facts, in one place: Debian's name, the kernel flavour,
# how qemu boots it, and its console.
deb_arch() {
	case $1 in
	x86_64) echo amd64 ;; aarch64) echo arm64 ;; armhf) echo armhf ;;
	i686) echo i386 ;; riscv64) echo riscv64 ;; ppc64le) echo ppc64el ;;
	s390x) echo s390x ;; mips64el) echo mips64el ;;
	esac
}
flavour() {
	case $1 in
	x86_64) echo amd64 ;; aarch64) echo arm64 ;; armhf) echo armmp ;;
	i686) echo 686-pae ;; riscv64) echo riscv64 ;; ppc64le) echo powerpc64le ;;
	s390x) echo s390x ;; mips64el) echo 5kc-malta ;;
	esac
}
qemu() {
	case $1 in
	x86_64) echo "qemu-system-x86_64 -cpu max" ;;
	aarch64) echo "qemu-system-aarch64 -M virt -cpu cortex-a57" ;;
	armhf) echo "qemu-system-arm -M virt,highmem=off -cpu cortex-a15" ;;
	i686) echo "qemu-system-i386 -cpu max" ;;
	riscv64) echo "qemu-system-riscv64 -M virt" ;;
	ppc64le) echo "qemu-system-ppc64 -M pseries -cpu power9" ;;
	s390x) echo "qemu-system-s390x -M s390-ccw-virtio" ;;
	mips64el) echo "qemu-system-mips64el -M malta -cpu 5KEc" ;;
	esac
}
console() {
	case $1 in
	x86_64|i686|riscv64|mips64el) echo ttyS0 ;; ppc64le) echo hvc0 ;;
	s390x) echo ttysclp0 ;; *) echo ttyAMA0 ;;
	esac
}

start=$(date +%s)
# Kernels first, one after the other (apt's cache is one); cached.
for g in $VM_GUESTS; do
	a=${g%%:*} s=${g#*:}
	if ! sh tests/vm/kernel.sh "$VM/kernel/$a-$s" "$(deb_arch "$a")" "$(flavour "$a")" "$s" \
		> "$VM/run/fetch-$a-$s.log" 2>&1; then
		echo "vm $a $s: kernel fetch failed:"; cat "$VM/run/fetch-$a-$s.log"
	fi
done

boot() {
	local a=$1 s=$2 k=$VM/kernel/$1-$2 log=$VM/run/$1-$2.log res=$VM/run/$1-$2.res
	local backends kver line b
	backends=$(echo $VM_BACKENDS | tr ' ' ,)
	: > "$res"; rm -f "$res.secs"
	if [ ! -s "$k/vmlinuz" ]; then
		for b in $VM_BACKENDS; do echo "vm $a $s $b: FAIL no kernel (fetch failed)" >> "$res"; done
		return
	fi
	local t0=$(date +%s)
	timeout "$VM_TIMEOUT" $(qemu "$a") -m 512 -smp 1 -nographic -no-reboot \
		-nic none -kernel "$k/vmlinuz" -initrd "$VM/$a/initramfs.gz" \
		-append "console=$(console "$a") panic=-1 loglevel=3 vmbackends=$backends" \
		< /dev/null > "$log" 2>&1
	local rc=$?
	echo $(( $(date +%s) - t0 )) > "$res.secs"
	tr -d '\r' < "$log" > "$log.txt"
	kver=$(sed -n 's/.*VMBOOT \([^ ]*\) .*/\1/p' "$log.txt" | head -n 1)
	[ -n "$kver" ] || kver="$(cat "$k/version" 2>/dev/null || echo "$s")"
	for b in $VM_BACKENDS; do
		line=$(grep -o -m1 "VMRESULT $b .*" "$log.txt")
		if [ -z "$line" ]; then
			if [ $rc -eq 124 ]; then why="timed out after $VM_TIMEOUT s"; else why="no result (qemu exit $rc)"; fi
			echo "vm $a $kver $b: FAIL $why" >> "$res"
			continue
		fi
		set -- $line
		local btf=$3 tag=""
		[ "$btf" = no-btf ] && tag=" no-btf"
		shift 3
		echo "vm $a $kver $b$tag: $*" >> "$res"
	done
	grep '^VMNOTE' "$log.txt" | sed "s/^VMNOTE /vm $a $kver note: /" >> "$res.notes"
}

fetched=$(date +%s)
for g in $VM_GUESTS; do
	while [ "$(jobs -rp | wc -l)" -ge "${VM_JOBS:-2}" ]; do wait -n; done
	rm -f "$VM/run/${g%%:*}-${g#*:}.res.notes"
	boot "${g%%:*}" "${g#*:}" &
done
wait

pass=0 fail=0 skip=0
for g in $VM_GUESTS; do
	res=$VM/run/${g%%:*}-${g#*:}.res
	cat "$res"
	echo "vm ${g%%:*} ${g#*:}: booted and ran in $(cat "$res.secs" 2>/dev/null || echo ?) s"
	[ -f "$res.notes" ] && sort -u "$res.notes"
	p=$(grep -c ': pass$' "$res"); f=$(grep -c ': FAIL' "$res"); k=$(grep -c ': skipped' "$res")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	if [ "$f" -gt 0 ]; then
		echo "--- console of ${g%%:*} ${g#*:} ---"
		cat "$VM/run/${g%%:*}-${g#*:}.log.txt" 2>/dev/null
		echo "--- end of console ---"
	fi
done
echo "test-vm: $(echo $VM_GUESTS | wc -w) guests in $(( $(date +%s) - fetched )) s," \
	"after $(( fetched - start )) s of kernel downloads (cached in $VM/kernel)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
