#!/usr/bin/env bash
# Rampart's cost inside nginx, measured with wrk on 127.0.0.1: the same nginx
# (one worker) proxying to a local `return 200` server, without and with the module
# (rampart on, block mode), for a benign GET, a benign 4 KiB form POST, and an attack
# (answered 403 by Rampart). Prints wrk's requests/s and latency for each.
#
#   adapters/nginx/bench-overhead.sh [SECONDS]      (10 s per run by default)
#
# Env: RAMPART_NGINX_MODULE (default $CARGO_TARGET_DIR/ngx_http_rampart_module.so,
# what build.sh built), RAMPART_NGINX_BIN (default /usr/sbin/nginx). Needs wrk
# (apt-get install wrk). The numbers depend on the machine and its load: compare the
# two columns of one run, not runs on different machines.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

secs=${1:-10}
target=${CARGO_TARGET_DIR:-$root/target/nginx-module}
module=${RAMPART_NGINX_MODULE:-$target/ngx_http_rampart_module.so}
nginx=${RAMPART_NGINX_BIN:-/usr/sbin/nginx}
command -v wrk >/dev/null || { echo "bench-overhead: wrk missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$nginx" ] || { echo "bench-overhead: $nginx missing" >&2; exit 1; }
[ -f "$module" ] || { echo "bench-overhead: $module missing (run adapters/nginx/build.sh)" >&2; exit 1; }

dir=$(mktemp -d)
master=""
stop() {
    if [ -n "$master" ]; then kill -TERM "$master" 2>/dev/null || true; wait "$master" 2>/dev/null || true; master=""; fi
}
trap 'stop; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
front=$(free_port)
back=$(free_port)
while [ "$back" = "$front" ]; do back=$(free_port); done

cat >"$dir/node.toml" <<EOF
mode = "block"
log_format = "json"
log_file = "$dir/rampart.log"
[telemetry]
enabled = false
EOF
body=$(python3 -c 'print("name=Jane+Doe&comment=" + "nice+shoes+" * 370 + "&qty=2", end="")')
cat >"$dir/post.lua" <<EOF
wrk.method = "POST"
wrk.body = "$body"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
EOF

start() { # $1 = with|without
    local load="" http="" user=""
    [ "$1" = with ] && load="load_module $module;" && http="rampart_config $dir/node.toml;"
    [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$dir/nginx.conf" <<EOF
$load
$user
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    $http
    upstream back { server 127.0.0.1:$back; keepalive 16; }
    server {
        listen 127.0.0.1:$front;
        $( [ "$1" = with ] && echo "rampart on;" )
        location / {
            proxy_pass http://back;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    server {
        listen 127.0.0.1:$back;
        location / { return 200 "ok\n"; }
    }
}
EOF
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$dir/stderr.log" &
    master=$!
    for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$front/" && break; sleep 0.05; done
}

measure() { # $1 = label, rest = wrk arguments
    local label="$1"; shift
    local out rps lat p99 non2xx
    out=$(wrk -t1 -c16 -d"${secs}s" --latency "$@")
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    lat=$(echo "$out" | awk '/^ +Latency +[0-9]/ {print $2}')
    p99=$(echo "$out" | awk '/^ +99%/ {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf '  %-26s %10s req/s   avg %8s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$lat" "$p99" "${non2xx:-0}"
}

echo "nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), 1 worker, wrk -t1 -c16 -d${secs}s, $(nproc) CPUs"
for mode in without with; do
    start "$mode"
    echo "$mode module:"
    measure "GET benign query" "http://127.0.0.1:$front/shop/items?q=red+running+shoes&page=2"
    measure "POST 4 KiB form" -s "$dir/post.lua" "http://127.0.0.1:$front/order"
    measure "GET attack (403 with)" "http://127.0.0.1:$front/search?q=1%27%20union%20select%20password%20from%20users--"
    stop
done
