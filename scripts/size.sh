#!/bin/sh
# size.sh FILE: print FILE's size raw, gzip -9 and brotli (-q 11), and the
# same for a wasm-opt -Oz build of it when binaryen's wasm-opt is installed.
# Uses the brotli command when present, else scripts/brotlisize (a Go
# program in its own module). Run by `make size`.
set -eu
file=$1
here=$(cd "$(dirname "$0")" && pwd)

brotli_size() {
	if command -v brotli >/dev/null 2>&1; then
		brotli -c -q 11 -w 24 "$1" | wc -c
	else
		(cd "$here/brotlisize" && ${GO:-go} run . "$1")
	fi
}

report() {
	raw=$(wc -c <"$1")
	gz=$(gzip -9 -c "$1" | wc -c)
	br=$(brotli_size "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")")
	printf '%-22s raw %9d   gzip -9 %9d   brotli %9d\n' "$2" "$raw" "$gz" "$br"
}

report "$file" "$(basename "$file")"
if command -v wasm-opt >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# Binaryen 108 (Debian 12) must be told which features Go's output uses.
	wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
		-o "$tmp/opt.wasm" "$file"
	report "$tmp/opt.wasm" "wasm-opt -Oz"
else
	echo "(wasm-opt not installed: apt-get install binaryen to see its size too)"
fi
