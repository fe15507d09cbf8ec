#!/usr/bin/env bash
# Runs the adapters' conformance suite against Debian's nginx with the Rampart module.
#
#   adapters/nginx/conformance.sh
#
# Env: RAMPART_NGINX_MODULE  the module (default: what build.sh built,
#                            $CARGO_TARGET_DIR/ngx_http_rampart_module.so)
#      RAMPART_CONFORMANCE   the rampart-conformance binary (default:
#                            target/debug/rampart-conformance of the workspace)
#      RAMPART_NGINX_BIN     nginx (default /usr/sbin/nginx)
#
# Flow (adapters/conformance): `prepare` writes W/node-block.toml and
# W/node-monitor.toml; this script starts two nginx instances on 127.0.0.1, one per
# node.toml (a worker holds one guard, made from the http block's rampart_config), both
# proxying to the suite's echo backend with the request passed through unchanged; then
# `run` serves the backend and checks every case. nginx is stopped on exit; the exit
# status is the suite's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target=${CARGO_TARGET_DIR:-$root/target/nginx-module}
module=${RAMPART_NGINX_MODULE:-$target/ngx_http_rampart_module.so}
suite=${RAMPART_CONFORMANCE:-$root/target/debug/rampart-conformance}
nginx=${RAMPART_NGINX_BIN:-/usr/sbin/nginx}
[ -x "$nginx" ] || { echo "conformance: $nginx missing (apt-get install nginx)" >&2; exit 1; }
[ -f "$module" ] || { echo "conformance: $module missing (run adapters/nginx/build.sh)" >&2; exit 1; }

. "$root/adapters/conformance/harness.sh"
conformance_setup

# $1 = name, $2 = node.toml, $3 = port
start_nginx() {
    local d="$work/nginx-$1" user=""
    mkdir -p "$d"
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$d/nginx.conf" <<EOF
load_module $module;
$user
worker_processes 2;
error_log $d/error.log notice;
pid $d/nginx.pid;
events { worker_connections 512; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/client_body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    # Large bodies are Rampart's to refuse (413 per node.toml's over_limit).
    client_max_body_size 16m;
    underscores_in_headers on;
    rampart_config $2;
    server {
        listen 127.0.0.1:$3;
        rampart on;
        location / {
            proxy_pass http://127.0.0.1:$backend;
            proxy_http_version 1.1;
            proxy_set_header Host \$http_host;
            proxy_set_header Connection "";
        }
    }
}
EOF
    spawn "$nginx" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/stderr.log"
    wait_port "nginx ($1)" "$3" "$d/stderr.log" "$d/error.log"
}

start_nginx block "$work/node-block.toml" "$block"
start_nginx monitor "$work/node-monitor.toml" "$monitor"

conformance_run nginx
if grep -q "panic" "$work"/nginx-*/error.log 2>/dev/null; then
    echo "conformance: a panic was logged by nginx" >&2
    status=1
fi
exit "$status"
