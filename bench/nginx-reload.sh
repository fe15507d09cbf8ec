#!/usr/bin/env bash
# Memory across `nginx -s reload` with the Rampart module (issue 9): starts Debian's
# nginx on 127.0.0.1 with the module (rampart on, block mode), performs N reloads (50 by
# default) with a few requests after each (benign ones answered 200, an attack 403), and
# prints the RSS of the master and of the workers before and after. For comparison it
# runs the same loop first on the same nginx without the module.
#
#   bench/nginx-reload.sh [RELOADS]
#   RAMPART_NGINX_MODULE=/path/to/ngx_http_rampart_module.so bench/nginx-reload.sh
#
# The module defaults to what adapters/nginx/build.sh built
# ($CARGO_TARGET_DIR/ngx_http_rampart_module.so, CARGO_TARGET_DIR=target/nginx-module
# unless set). Only 127.0.0.1 is used; nginx is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

reloads=${1:-50}
target=${CARGO_TARGET_DIR:-$root/target/nginx-module}
module=${RAMPART_NGINX_MODULE:-$target/ngx_http_rampart_module.so}
nginx=${RAMPART_NGINX_BIN:-/usr/sbin/nginx}
workers=${RAMPART_BENCH_WORKERS:-2}
[ -x "$nginx" ] || { echo "nginx-reload: $nginx missing (apt-get install nginx)" >&2; exit 1; }
[ -f "$module" ] || { echo "nginx-reload: $module missing (run adapters/nginx/build.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "nginx-reload: curl missing" >&2; exit 1; }

dir=$(mktemp -d)
master=""
stop() {
    if [ -n "$master" ]; then
        kill -TERM "$master" 2>/dev/null || true
        wait "$master" 2>/dev/null || true
        master=""
    fi
}
trap 'stop; rm -rf "$dir"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/www"
echo "hello" >"$dir/www/index.html"
cat >"$dir/node.toml" <<EOF
mode = "block"
log_format = "json"
log_file = "$dir/rampart.log"
[inspection]
body_limit = 1048576
[telemetry]
enabled = false
EOF

# $1 = with|without
write_conf() {
    local load="" http=""
    if [ "$1" = with ]; then
        load="load_module $module;"
        http="rampart_config $dir/node.toml; rampart on;"
    fi
    local user=""
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$dir/nginx.conf" <<EOF
$load
$user
worker_processes $workers;
error_log $dir/error.log notice;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    $http
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
    }
}
EOF
}

children() { # pids of the master's children (the workers), sorted
    local p
    for p in /proc/[0-9]*; do
        if [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$master" ]; then echo "${p#/proc/}"; fi
    done | sort -n
}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
workers_rss() {
    local total=0 p
    for p in $(children); do total=$((total + $(rss "$p"))); done
    echo "$total"
}

requests() { # $1 = with|without
    local i code
    for i in 1 2 3; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?q=red+shoes&i=$i")
        [ "$code" = 200 ] || { echo "nginx-reload: benign request answered $code" >&2; exit 1; }
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "comment=<script>alert(1)</script>" "http://127.0.0.1:$port/")
    if [ "$1" = with ] && [ "$code" != 403 ]; then
        echo "nginx-reload: attack answered $code, expected 403" >&2; exit 1
    fi
}

# Waits until every worker is one started after the reload (the old ones
# exited) and the new ones answer.
wait_new_generation() {
    local old="$1" n cur
    for n in $(seq 600); do
        cur=$(children)
        if [ "$(echo "$cur" | grep -c .)" = "$workers" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$cur"))" ]; then
            return 0
        fi
        sleep 0.05
    done
    echo "nginx-reload: the old workers did not exit" >&2
    exit 1
}

run() { # $1 = with|without
    write_conf "$1"
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/stderr.log" &
    master=$!
    for _ in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.05
    done
    for _ in $(seq 600); do [ "$(children | grep -c .)" = "$workers" ] && break; sleep 0.05; done
    requests "$1"
    # Two reloads first, so that "before" is a steady state (the first
    # reload allocates the second cycle).
    for _ in 1 2; do
        local old; old=$(children); kill -HUP "$master"; wait_new_generation "$old"; requests "$1"
    done
    local m0 w0 m1 w1 start end
    m0=$(rss "$master"); w0=$(workers_rss)
    start=$(date +%s)
    for _ in $(seq "$reloads"); do
        local old; old=$(children)
        kill -HUP "$master"
        wait_new_generation "$old"
        requests "$1"
    done
    end=$(date +%s)
    m1=$(rss "$master"); w1=$(workers_rss)
    printf '%-16s %10s %10s %10s   %10s %10s %10s   %5ss\n' "$1 module" "$m0" "$m1" "$((m1 - m0))" "$w0" "$w1" "$((w1 - w0))" "$((end - start))"
    stop
}

echo "nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), $workers workers, $reloads reloads with 4 requests after each"
echo "RSS in KiB (master; all workers together), before and after the reloads:"
printf '%-16s %10s %10s %10s   %10s %10s %10s   %6s\n' "" "master" "after" "delta" "workers" "after" "delta" "time"
run without
run with
if grep -q panic "$dir/error.log" "$dir/stderr.log" 2>/dev/null; then
    echo "nginx-reload: a panic was logged" >&2
    exit 1
fi
