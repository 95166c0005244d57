#!/bin/sh
# Print the URI of the Debian mirror this machine's apt uses for suite $1
# (deb822 .sources files first, then one-line sources.list entries), so a
# private apt configuration can reach the other suites and architectures
# of the same mirror.
suite=$1
{
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk -v s="$suite" '
		/^[ \t]*$/ { u = ""; t = ""; ok = 0 }
		/^Types:/ { t = $0 }
		/^URIs:/ { u = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
		ok && u != "" && t ~ /deb( |$)/ { print u; exit }
	' "$f"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	# deb [options] uri suite components...
	sed -n "s/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+$suite[ \t].*/\2/p" "$f"
done
} | head -n 1
