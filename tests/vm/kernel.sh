#!/bin/sh
# Fetch a Debian kernel image into $1/vmlinuz: architecture $2 (Debian's
# name), flavour $3 (amd64, arm64, armmp, ...), suite $4.  $APTBIN is the
# private apt-get command.  The meta package linux-image-<flavour> names
# the versioned image package; from 7.x that one holds no kernel and
# depends on linux-binary-*, whose kernel is usr/lib/modules/*/vmlinuz.
# Only the kernel is unpacked, not the modules.
set -e
out=$1 arch=$2 flavour=$3 suite=$4
[ -s "$out/vmlinuz" ] && exit 0
rm -rf "$out" && mkdir -p "$out/deb" "$out/root"
cd "$out/deb"
$APTBIN download "linux-image-$flavour:$arch/$suite" >/dev/null
img=$(dpkg-deb -f linux-image-"$flavour"_*.deb Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -n "$img" ] || { echo "kernel.sh: no image package behind linux-image-$flavour ($suite)"; exit 1; }
$APTBIN download "$img:$arch/$suite" >/dev/null
bin=$(dpkg-deb -f "$img"_*.deb Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-binary-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -z "$bin" ] || $APTBIN download "$bin:$arch/$suite" >/dev/null
# tar stops at the first match (--occurrence): the kernel comes before the
# modules, and decompressing the whole package took half a minute of CPU.
for d in *.deb; do
	case $d in
	linux-image-"$flavour"_*) continue ;;
	linux-binary-*) pat='./usr/lib/modules/*/vmlinu[xz]' ;;
	*) pat='./boot/vmlinu[xz]*' ;;
	esac
	dpkg-deb --fsys-tarfile "$d" 2>/dev/null | (cd ../root && tar -x --wildcards \
		--occurrence=1 "$pat" 2>/dev/null) || true
done
cd ..
# ppc64el, mips64el and riscv64 ship vmlinux (an ELF or a raw Image)
# where the others ship vmlinuz; qemu -kernel takes either.
k=$(find root -type f \( -path 'root/boot/vmlinu[xz]*' -o -path 'root/usr/lib/modules/*/vmlinu[xz]' \) | sort -r | head -n 1)
[ -n "$k" ] || { echo "kernel.sh: no vmlinuz in $img ${bin:-}"; exit 1; }
cp "$k" vmlinuz.tmp && mv vmlinuz.tmp vmlinuz
dpkg-deb -f deb/"$img"_*.deb Version > version
rm -rf deb root
