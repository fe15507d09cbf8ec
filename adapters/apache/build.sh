#!/usr/bin/env bash
# Builds mod_rampart, the Rampart module for Apache httpd 2.4.
#
#   adapters/apache/build.sh [--release|--debug] [--lib FILE] [--out DIR] [--install-deps]
#
# 1. (--install-deps, as root) apt-get install apache2 apache2-dev
# 2. builds the engine's C ABI as a static library: cargo build -p rampart-ffi
#    (skipped with --lib FILE: an already built librampart_ffi.a);
# 3. compiles mod_rampart.c with apxs (Debian's apache2-dev) against
#    adapters/ffi/include/rampart.h and links the static library into the
#    module, with the libraries a Rust static library needs
#    (-lpthread -ldl -lm) and its symbols kept private to the module.
#
# The build happens in DIR (default $CARGO_TARGET_DIR/apache), not in the
# source tree. The last line printed on stdout is the path of the built
# mod_rampart.so; install it with
#   install -m 644 "$(adapters/apache/build.sh | tail -n 1)" /usr/lib/apache2/modules/
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=release
lib=""
out=""
install_deps=0
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release ;;
        --debug) profile=debug ;;
        --lib) lib="$2"; shift ;;
        --lib=*) lib="${1#--lib=}" ;;
        --out) out="$2"; shift ;;
        --out=*) out="${1#--out=}" ;;
        --install-deps) install_deps=1 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$install_deps" = 1 ]; then
    if ! dpkg -s apache2 apache2-dev >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 apache2-dev >&2
    fi
fi

apxs="${APXS:-$(command -v apxs || command -v apxs2 || true)}"
if [ -z "$apxs" ]; then
    echo "build.sh: apxs not found: install Debian's apache2-dev (or set APXS)" >&2
    exit 1
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
export CARGO_TARGET_DIR

if [ -z "$lib" ]; then
    flag=()
    [ "$profile" = release ] && flag=(--release)
    (cd "$root" && cargo build -p rampart-ffi "${flag[@]}" >&2)
    lib="$CARGO_TARGET_DIR/$profile/librampart_ffi.a"
fi
if [ ! -f "$lib" ]; then
    echo "build.sh: no static library at $lib" >&2
    exit 1
fi
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

[ -n "$out" ] || out="$CARGO_TARGET_DIR/apache"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cp "$here/mod_rampart.c" "$out/mod_rampart.c"
rm -f "$out/mod_rampart.so"

# apxs compiles with the flags httpd was built with (-fPIC, the APR
# includes) and links through libtool; the Rust archive is position
# independent on x86_64, so it can go into the shared object.
# A version script keeps the Rust symbols out of the module's dynamic
# symbol table (libtool may unpack the archive, so --exclude-libs is not
# enough): only rampart_module is visible to httpd and to other modules.
printf '{\n  global: rampart_module;\n  local: *;\n};\n' > "$out/mod_rampart.map"
(
    cd "$out"
    "$apxs" -c -o mod_rampart.so \
        -I "$root/adapters/ffi/include" \
        -Wc,-Wall -Wc,-Wextra -Wc,-Wno-unused-parameter -Wc,-Wno-missing-field-initializers \
        -Wl,-Wl,--version-script="$out/mod_rampart.map" \
        mod_rampart.c "$lib" -lpthread -ldl -lm >&2
)
so="$out/.libs/mod_rampart.so"
if [ ! -f "$so" ]; then
    echo "build.sh: apxs did not produce $so" >&2
    exit 1
fi
mv -f "$so" "$out/mod_rampart.so"
echo "$out/mod_rampart.so"
