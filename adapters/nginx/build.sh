#!/usr/bin/env bash
# Builds the Rampart NGINX dynamic module against Debian's nginx (1.22) sources.
#
#   adapters/nginx/build.sh [--release|--debug] [--src DIR] [--install-deps]
#
# 1. (--install-deps, as root) apt-get install nginx nginx-dev libclang-dev
# 2. copies /usr/share/nginx/src (shipped by nginx-dev) to a writable folder
#    (DIR, default $CARGO_TARGET_DIR/nginx-src) and runs its ./configure with the
#    flags of its conf_flags file, the ones Debian built its nginx with, so that
#    the structures the module sees are the ones the nginx binary uses;
# 3. builds the module with NGINX_SOURCE_DIR pointing there.
#
# Idempotent: the prepared source is reused while it matches the installed
# nginx-dev version (a stamp file records it); a Debian upgrade of nginx makes
# it prepare the source again, and the module must then be rebuilt.
#
# The last line printed on stdout is the path of the built .so.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=release
src_dir=""
install_deps=0
while [ $# -gt 0 ]; do
    case "$1" in
        --release) profile=release ;;
        --debug) profile=debug ;;
        --src) src_dir="$2"; shift ;;
        --src=*) src_dir="${1#--src=}" ;;
        --install-deps) install_deps=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# Incremental artifacts only cost disk in a build like this one.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/nginx-module}"
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
export CARGO_TARGET_DIR
[ -n "$src_dir" ] || src_dir="$CARGO_TARGET_DIR/nginx-src"

if [ "$install_deps" = 1 ]; then
    if ! dpkg -s nginx nginx-dev libclang-dev >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx nginx-dev libclang-dev >&2
    fi
fi

debian_src=/usr/share/nginx/src
if [ ! -f "$debian_src/conf_flags" ] || [ ! -x "$debian_src/configure" ]; then
    echo "build.sh: $debian_src is missing: install nginx-dev (apt-get install nginx nginx-dev libclang-dev)" >&2
    exit 1
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "build.sh: the nginx binary is missing: apt-get install nginx" >&2
    exit 1
fi

version="$(dpkg-query -W -f='${Version}' nginx-dev 2>/dev/null || echo unknown)"
installed="$(dpkg-query -W -f='${Version}' nginx-common 2>/dev/null || echo unknown)"
if [ "$version" != "$installed" ]; then
    echo "build.sh: warning: nginx-dev $version does not match the installed nginx $installed;" \
        "nginx refuses a module built for another version: install matching packages" >&2
fi
stamp="$src_dir/.rampart-prepared"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$version" ] || [ ! -f "$src_dir/objs/ngx_auto_config.h" ]; then
    echo "build.sh: preparing nginx sources $version in $src_dir" >&2
    # Only a folder this script prepared before (or an empty one) is replaced.
    if [ -d "$src_dir" ] && [ -n "$(ls -A "$src_dir")" ] && [ ! -f "$stamp" ] && [ ! -f "$src_dir/conf_flags" ]; then
        echo "build.sh: $src_dir is not empty and not a prepared nginx source: choose another --src" >&2
        exit 1
    fi
    rm -rf "$src_dir"
    mkdir -p "$src_dir"
    cp -a "$debian_src/." "$src_dir/"
    # conf_flags defines NGX_CONF_FLAGS=( ... ), a bash array.
    # shellcheck disable=SC1091
    . "$src_dir/conf_flags"
    (cd "$src_dir" && ./configure "${NGX_CONF_FLAGS[@]}") >"$src_dir/configure.log" 2>&1 || {
        echo "build.sh: ./configure failed, see $src_dir/configure.log" >&2
        tail -20 "$src_dir/configure.log" >&2
        exit 1
    }
    echo "$version" >"$stamp"
fi
export NGINX_SOURCE_DIR="$src_dir"

cargo_flags=(--manifest-path "$here/Cargo.toml" --lib)
[ "$profile" = release ] && cargo_flags+=(--release)
cargo build "${cargo_flags[@]}" >&2

so="$CARGO_TARGET_DIR/$profile/libngx_http_rampart_module.so"
if [ ! -f "$so" ]; then
    echo "build.sh: $so was not produced" >&2
    exit 1
fi
# The tests and bench/nginx-reload.sh look for the module here (or in $RAMPART_NGINX_MODULE).
ln -sf "$so" "$CARGO_TARGET_DIR/ngx_http_rampart_module.so"
echo "$so"
