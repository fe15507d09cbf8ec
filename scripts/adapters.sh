#!/usr/bin/env bash
# The server adapters against their real servers (issue 9): builds the NGINX module, runs its
# tests, then the conformance suite (adapters/conformance) against NGINX, HAProxy (SPOE agent)
# and Apache httpd with Rampart, and checks that the GoTestWAF corpus gets the same verdict,
# request by request, through every adapter as through the proxy node. The proxy node's own
# conformance run is a workspace test (tests/conformance.rs); the SPOE agent's and the Apache
# module's own tests are workspace tests too (adapters/spoa, adapters/ffi).
#
# Needs nginx, nginx-dev, libclang-dev, haproxy, apache2, apache2-dev (.ci/run installs them).
# Everything listens on 127.0.0.1 and is stopped by PID when done.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
missing=()
for b in /usr/sbin/nginx /usr/sbin/haproxy /usr/sbin/apache2 /usr/bin/apxs; do
    [ -x "$b" ] || missing+=("$b")
done
[ -d /usr/share/nginx/src ] || missing+=("/usr/share/nginx/src (nginx-dev)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "adapters: missing ${missing[*]}" >&2
    echo "adapters: apt-get install nginx nginx-dev libclang-dev haproxy apache2 apache2-dev" >&2
    exit 1
fi
export RAMPART_REQUIRE_SERVERS=1

cargo build --locked -p rampart -p rampart-conformance
suite=$target/debug/rampart-conformance
export RAMPART_CONFORMANCE=$suite RAMPART_BIN=$target/debug/rampart

echo "== NGINX module: build and tests"
ngx=$target/nginx-module
CARGO_TARGET_DIR=$ngx adapters/nginx/build.sh --debug
NGINX_SOURCE_DIR=$ngx/nginx-src CARGO_TARGET_DIR=$ngx \
    cargo clippy --locked --manifest-path adapters/nginx/Cargo.toml --all-targets -- -D warnings
NGINX_SOURCE_DIR=$ngx/nginx-src CARGO_TARGET_DIR=$ngx \
    cargo test --locked --manifest-path adapters/nginx/Cargo.toml

echo "== Apache module: build"
adapters/apache/build.sh --debug >/dev/null

verdicts=$(mktemp -d)
trap 'rm -rf "$verdicts"' EXIT
export RAMPART_AFTER_SUITE="$root/scripts/gotestwaf-verdicts.sh record $verdicts"

echo "== GoTestWAF through the proxy node"
(
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    backend=$(free_port)
    block=$(free_port)
    "$suite" prepare --dir "$work" --backend "127.0.0.1:$backend" >/dev/null
    "$RAMPART_BIN" node --config "$work/node-block.toml" --listen "127.0.0.1:$block" 2>"$work/node.err" &
    pid=$!
    trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
    for _ in $(seq 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$block") 2>/dev/null && break
        sleep 0.05
    done
    RAMPART_HOOK_ADAPTER=proxy RAMPART_HOOK_BACKEND="127.0.0.1:$backend" \
        RAMPART_HOOK_BLOCK="127.0.0.1:$block" $RAMPART_AFTER_SUITE
)

echo "== Conformance: NGINX"
CARGO_TARGET_DIR=$ngx adapters/nginx/conformance.sh
echo "== Conformance: HAProxy (rampart spoa)"
examples/haproxy/conformance.sh
echo "== Conformance: Apache httpd"
adapters/apache/conformance.sh

echo "== GoTestWAF verdicts, adapters against the proxy node"
scripts/gotestwaf-verdicts.sh compare "$verdicts"
