#!/usr/bin/env bash
# Rampart's cost inside each server it plugs into (issue 9), measured with wrk on
# 127.0.0.1: every server proxies to the same fast backend (an nginx answering
# `return 200 "ok\n"`), first WITHOUT Rampart, then WITH it, for two requests:
#   (a) GET /shop/search with 5 query parameters, a Chrome User-Agent, Accept,
#       Accept-Language and a Cookie header with 3 cookies;
#   (b) POST of a 2 KB JSON order document (Content-Type: application/json).
# Servers:
#   nginx    proxy_pass (keepalive upstream)     vs the same with the module (rampart on)
#   haproxy  examples/haproxy/haproxy.cfg without its SPOE lines
#                                                vs the unchanged cfg + `rampart spoa`
#   apache   mod_proxy (mpm_event)               vs the same with mod_rampart (Rampart On)
# Rampart runs in block mode with node.toml's defaults (built-in detectors, telemetry
# on, no cloud). wrk: 2 threads, 32 connections, a 2 s warm-up (discarded), then the
# measured run. Prints requests/s, latency p50/p99, the ratio with/without, and the CPU
# time the server under test (its workers or children, and the SPOE agent) spent per
# request, read from /proc before and after the measured run.
#
#   bench/adapters-overhead.sh [SECONDS]          (10 s per measured run by default)
#
# Env: RAMPART_BIN            rampart with `rampart spoa` (default target/release/rampart,
#                             cargo build --release -p rampart)
#      RAMPART_NGINX_MODULE   default target/nginx-module/release/libngx_http_rampart_module.so
#                             (adapters/nginx/build.sh; the release file itself, not the
#                             ngx_http_rampart_module.so link, which a debug build moves)
#      RAMPART_APACHE_MODULE  default: mod_rampart built by this script into its work
#                             folder (adapters/apache/build.sh --release --lib ... --out ...)
#                             from target/release/librampart_ffi.a (cargo build --release
#                             -p rampart-ffi, or adapters/apache/build.sh --release), since
#                             target/apache/mod_rampart.so is whichever profile was built last
#      RAMPART_BENCH_SERVERS  which servers, default "nginx haproxy apache"
#      RAMPART_KEEP=1         keep the work folder (configs, logs)
# Needs wrk (apt-get install wrk), nginx, haproxy, apache2, curl, python3. Numbers depend
# on the machine and its load (everything, wrk included, shares the same CPUs): compare
# the two columns of one run, not runs on different machines.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

secs=${1:-10}
warm=2
rampart=${RAMPART_BIN:-$root/target/release/rampart}
ngx_module=${RAMPART_NGINX_MODULE:-$root/target/nginx-module/release/libngx_http_rampart_module.so}
apache_module=${RAMPART_APACHE_MODULE:-}
ffi_lib=$root/target/release/librampart_ffi.a
servers=${RAMPART_BENCH_SERVERS:-nginx haproxy apache}
nginx=/usr/sbin/nginx
haproxy=/usr/sbin/haproxy
apache=/usr/sbin/apache2
apache_mods=/usr/lib/apache2/modules
hadir="$root/examples/haproxy"

need() { [ -e "$1" ] || { echo "adapters-overhead: $1 missing ($2)" >&2; exit 1; }; }
command -v wrk >/dev/null || { echo "adapters-overhead: wrk missing (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "adapters-overhead: curl missing" >&2; exit 1; }
need "$nginx" "apt-get install nginx"
for s in $servers; do
    case "$s" in
        nginx) need "$ngx_module" "adapters/nginx/build.sh" ;;
        haproxy) need "$haproxy" "apt-get install haproxy"
                 need "$rampart" "cargo build --release -p rampart" ;;
        apache) need "$apache" "apt-get install apache2"
                if [ -n "$apache_module" ]; then
                    need "$apache_module" "adapters/apache/build.sh --release"
                else
                    need "$ffi_lib" "adapters/apache/build.sh --release"
                fi ;;
        *) echo "adapters-overhead: unknown server $s" >&2; exit 2 ;;
    esac
done

dir=$(mktemp -d)
# Apache's children run as www-data when this runs as root: they read node.toml and
# append to the log.
chmod 755 "$dir"
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    stop_all
    [ -n "${backend_pid:-}" ] && { kill -TERM "$backend_pid" 2>/dev/null || true; wait "$backend_pid" 2>/dev/null || true; }
    if [ "${RAMPART_KEEP:-0}" = 1 ]; then echo "adapters-overhead: kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

# free_port, wait_http
. "$(dirname "$0")/lib.sh"
wait_port() {
    local i
    for i in $(seq 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "adapters-overhead: $1 does not listen on $2:" >&2
    cat "$3" >&2 2>/dev/null || true
    exit 1
}
root_user=""
[ "$(id -u)" = 0 ] && root_user="user root;"
temp_paths() { # nginx temp folders under $1
    echo "client_body_temp_path $1/client_body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"
}

case " $servers " in
    *" apache "*)
        if [ -z "$apache_module" ]; then
            apache_module=$("$root/adapters/apache/build.sh" --release --lib "$ffi_lib" \
                --out "$dir/mod_rampart" 2>"$dir/mod_rampart.log" | tail -n 1) || {
                echo "adapters-overhead: building mod_rampart failed:" >&2
                cat "$dir/mod_rampart.log" >&2
                exit 1
            }
        fi ;;
esac

# ---------------------------------------------------------------- the requests
query='/shop/search?q=red+running+shoes&category=footwear&sort=price_asc&page=2&size=42'
cat >"$dir/get.lua" <<'EOF'
wrk.method = "GET"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9,de;q=0.8"
wrk.headers["Cookie"] = "session_id=8f14e45fceea167a5a36dedd4bea2543; cart_id=c7d2a1f0-3b9e-4e61-9a55-0d2f6b8e4c13; consent=analytics%3Dtrue%2Cmarketing%3Dfalse"
EOF
# A 2 KB order as a browser's JSON.stringify sends it (one line, no spaces).
cat >"$dir/order.src.json" <<'EOF'
{"order_id":"ORD-2024-0001873",
"created_at":"2024-05-14T09:31:27Z",
"currency":"EUR",
"customer":{"id":48213,"first_name":"Jane","last_name":"Doe","email":"jane.doe@example.com","phone":"+49 30 1234567","loyalty":{"tier":"gold","points":1840,"member_since":"2019-03-02"},"marketing_opt_in":false,"locale":"de-DE"},
"shipping_address":{"name":"Jane Doe","street":"Friedrichstrasse 123","additional":"Hinterhaus, 3. OG","postal_code":"10117","city":"Berlin","region":"BE","country":"DE"},
"billing_address":{"same_as_shipping":true,"vat_id":null},
"items":[
{"sku":"SHOE-RUN-RED-42","name":"Trail Runner 3 running shoes, red","size":"42","color":"red","quantity":1,"unit_price":89.95,"discount":10.0,"tax_rate":0.19,"category":"footwear","warehouse":"BER-2"},
{"sku":"SOCK-RUN-BLK-L","name":"Running socks (3 pack), black","size":"L","color":"black","quantity":2,"unit_price":12.5,"discount":0.0,"tax_rate":0.19,"category":"accessories","warehouse":"BER-2"},
{"sku":"BOTL-STEEL-750","name":"Insulated steel bottle 750 ml","size":null,"color":"silver","quantity":1,"unit_price":24.9,"discount":2.5,"tax_rate":0.19,"category":"accessories","warehouse":"HAM-1"},
{"sku":"JACK-WIND-BLU-M","name":"Lightweight wind jacket, blue","size":"M","color":"blue","quantity":1,"unit_price":69.0,"discount":0.0,"tax_rate":0.19,"category":"apparel","warehouse":"HAM-1"}
],
"shipping":{"method":"standard","carrier":"DHL","price":4.95,"estimated_delivery":"2024-05-17","instructions":"Please leave the parcel with the neighbour on the ground floor if nobody is at home."},
"payment":{"method":"card","brand":"visa","last4":"4242","holder":"Jane Doe","expiry":"08/27","three_d_secure":true},
"coupon":{"code":"SPRING24","type":"percent","value":10},
"totals":{"subtotal":209.35,"discount":12.5,"shipping":4.95,"tax":32.21,"total":201.8},
"gift":{"wrap":true,"message":"Happy birthday, Tom! Have fun on the trails. Jane"},
"client":{"app":"web-shop","version":"5.12.3","session":"8f14e45fceea167a5a36dedd4bea2543","referrer":"https://www.example.com/shop/search?q=running+shoes"}}
EOF
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")), end="")' \
    "$dir/order.src.json" >"$dir/order.json"
{
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo 'wrk.headers["Accept"] = "application/json"'
    echo 'wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"'
    printf 'wrk.body = [==[%s]==]\n' "$(cat "$dir/order.json")"
} >"$dir/post.lua"
body_bytes=$(wc -c <"$dir/order.json")

# node.toml: the defaults (block mode, built-in detectors, telemetry on, no cloud, no
# admin listener), the log in the work folder.
touch "$dir/rampart.log"
chmod 666 "$dir/rampart.log"
cat >"$dir/node.toml" <<EOF
mode = "block"
log_format = "json"
log_file = "$dir/rampart.log"

[telemetry]
enabled = true

[cloud]
url = ""
data_dir = "$dir/data"
EOF
chmod 644 "$dir/node.toml" "$dir"/*.lua "$dir/order.json"

# ---------------------------------------------------------------- the backend
back=$(free_port)
mkdir -p "$dir/backend"
cat >"$dir/backend/nginx.conf" <<EOF
$root_user
worker_processes 1;
error_log $dir/backend/error.log warn;
pid $dir/backend/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    $(temp_paths "$dir/backend")
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$back backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
EOF
"$nginx" -p "$dir/backend" -c "$dir/backend/nginx.conf" -g 'daemon off;' 2>>"$dir/backend/stderr.log" &
backend_pid=$!
wait_http "the backend" "http://127.0.0.1:$back/" "$dir/backend/stderr.log"

# ---------------------------------------------------------------- the servers
# $1 = without|with; sets $front
start_nginx() {
    local d="$dir/nginx-$1" load="" http="" on=""
    mkdir -p "$d"
    front=$(free_port)
    if [ "$1" = with ]; then
        load="load_module $ngx_module;"
        http="rampart_config $dir/node.toml;"
        on="rampart on;"
    fi
    cat >"$d/nginx.conf" <<EOF
$load
$root_user
worker_processes 2;
error_log $d/error.log warn;
pid $d/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    $(temp_paths "$d")
    keepalive_requests 100000;
    $http
    upstream back { server 127.0.0.1:$back; keepalive 32; }
    server {
        listen 127.0.0.1:$front backlog=4096;
        $on
        location / {
            proxy_pass http://back;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    "$nginx" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/stderr.log" &
    pids+=("$!")
    wait_http "nginx ($1)" "http://127.0.0.1:$front/" "$d/stderr.log"
}

# The plain HAProxy: examples/haproxy/haproxy.cfg without the SPOE filter, the rules
# that read its variables and the agents' backend.
plain_haproxy_cfg() {
    awk '
        /^backend rampart-agents/ { skip = 1 }
        /^(frontend|backend|defaults|global|listen)/ && !/^backend rampart-agents/ { skip = 0 }
        skip { next }
        /^[ \t]*#/ { print; next }
        /filter spoe/ || /rampart/ { next }
        { print }
    ' "$hadir/haproxy.cfg"
}
start_haproxy() {
    local d="$dir/haproxy-$1" cfg agent
    mkdir -p "$d"
    front=$(free_port)
    agent=$(free_port)
    if [ "$1" = with ]; then
        cfg="$hadir/haproxy.cfg"
        "$rampart" spoa --listen "127.0.0.1:$agent" --config "$dir/node.toml" >"$d/agent.out" 2>&1 &
        pids+=("$!")
        wait_port "the agent" "$agent" "$d/agent.out"
    else
        cfg="$d/haproxy.cfg"
        plain_haproxy_cfg >"$cfg"
    fi
    (
        cd "$d"
        RAMPART_FRONTEND="127.0.0.1:$front" \
        RAMPART_UPSTREAM="127.0.0.1:$back" \
        RAMPART_SPOA="127.0.0.1:$agent" \
        RAMPART_SPOE_CONF="$hadir/spoe-rampart.conf" \
        exec "$haproxy" -f "$cfg" -db
    ) >"$d/haproxy.log" 2>&1 &
    pids+=("$!")
    wait_http "haproxy ($1)" "http://127.0.0.1:$front/" "$d/haproxy.log"
}

start_apache() {
    local d="$dir/apache-$1" user="" load="" on=""
    mkdir -p "$d"
    chmod 755 "$d"
    front=$(free_port)
    [ "$(id -u)" = 0 ] && user=$'User www-data\nGroup www-data'
    if [ "$1" = with ]; then
        load="LoadModule rampart_module $apache_module"
        on=$'RampartConfig "'"$dir/node.toml"$'"\nRampart On'
    fi
    cat >"$d/httpd.conf" <<EOF
ServerRoot "$d"
ServerName 127.0.0.1
PidFile "$d/httpd.pid"
DefaultRuntimeDir "$d"
Mutex file:$d default
ErrorLog "$d/error.log"
LogLevel warn
$user

LoadModule mpm_event_module $apache_mods/mod_mpm_event.so
LoadModule authz_core_module $apache_mods/mod_authz_core.so
LoadModule proxy_module $apache_mods/mod_proxy.so
LoadModule proxy_http_module $apache_mods/mod_proxy_http.so
$load

StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
KeepAlive On
MaxKeepAliveRequests 0
ListenBacklog 4096

Listen 127.0.0.1:$front
$on
ProxyPreserveHost On
ProxyPass / http://127.0.0.1:$back/
EOF
    "$apache" -d "$d" -f "$d/httpd.conf" -DFOREGROUND 2>>"$d/stderr.log" &
    pids+=("$!")
    wait_http "apache ($1)" "http://127.0.0.1:$front/" "$d/error.log"
}

# ---------------------------------------------------------------- measuring
results=()
# CPU time (utime + stime, every thread) of what was started for the server under test
# (the processes in pids and their descendants: nginx workers, Apache children, the
# SPOE agent), in clock ticks.
server_ticks() {
    local todo=("${pids[@]}") seen=" " p kids total=0 st
    while [ "${#todo[@]}" -gt 0 ]; do
        p=${todo[0]}; todo=("${todo[@]:1}")
        case "$seen" in *" $p "*) continue ;; esac
        seen="$seen$p "
        if st=$(cat "/proc/$p/stat" 2>/dev/null); then
            # Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
            st=${st##*) }
            total=$((total + $(echo "$st" | awk '{print $12 + $13}')))
        fi
        kids=$(pgrep -P "$p" 2>/dev/null || true)
        for k in $kids; do todo+=("$k"); done
    done
    echo "$total"
}
hz=$(getconf CLK_TCK)
# $1 = server, $2 = without|with, $3 = request label, $4 = lua script, $5 = URL
measure() {
    local out rps p50 p99 non2xx errs total
    # Warm-up, discarded (connections, caches, the backend's keepalive pool).
    wrk -t2 -c32 -d"${warm}s" -s "$4" "$5" >/dev/null
    local t0 t1 cpu_us
    t0=$(server_ticks)
    out=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$4" "$5")
    t1=$(server_ticks)
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    total=$(echo "$out" | awk '/requests in/ {print $1}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    errs=$(echo "$out" | awk '/Socket errors/ {sub(/^ *Socket errors: */, ""); print}')
    cpu_us=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v n="$total" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / hz * 1e6 / n; else print "-" }')
    results+=("$1|$3|$2|$rps|$p50|$p99|${non2xx:-0}|${errs:-none}|$total|$cpu_us")
    printf '  %-8s %-7s %-5s %10s req/s  p50 %8s  p99 %8s  server CPU %4s us/req  requests %s  non-2xx %s  socket errors %s\n' \
        "$1" "$2" "$3" "$rps" "$p50" "$p99" "$cpu_us" "$total" "${non2xx:-0}" "${errs:-none}"
}
# The same request must get 200 with Rampart: a false positive would measure the block page.
check_200() { # $1 = label, $2 = URL, $3 = GET|POST
    local code
    if [ "$3" = POST ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            --data-binary @"$dir/order.json" "$2")
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' \
            -H 'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' \
            -H 'Cookie: session_id=8f14e45fceea167a5a36dedd4bea2543; cart_id=c7d2a1f0-3b9e-4e61-9a55-0d2f6b8e4c13; consent=analytics%3Dtrue%2Cmarketing%3Dfalse' \
            "$2")
    fi
    [ "$code" = 200 ] || { echo "adapters-overhead: $1 answered $code, not 200" >&2; cat "$dir/rampart.log" >&2; exit 1; }
}

cpus=$(nproc)
echo "Rampart adapters overhead: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -srm), $cpus CPUs"
echo "  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "  nginx $("$nginx" -v 2>&1 | sed 's/.*\///'), haproxy $("$haproxy" -v 2>/dev/null | awk 'NR==1 {print $3}'), apache $("$apache" -v 2>/dev/null | awk -F/ 'NR==1 {print $2}' | awk '{print $1}'), $(wrk -v 2>&1 | awk 'NR==1 {print $1, $2}')"
echo "  wrk -t2 -c32, ${warm}s warm-up then ${secs}s measured; backend: nginx (1 worker) return 200 \"ok\\n\""
echo "  (a) GET $query + Chrome UA, Accept, Accept-Language, Cookie (3 cookies)"
echo "  (b) POST /api/orders, ${body_bytes} bytes of JSON (application/json)"
echo "  Rampart: block mode, node.toml defaults, telemetry on; release builds"
echo "  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

for server in $servers; do
    for variant in without with; do
        "start_$server" "$variant"
        url="http://127.0.0.1:$front"
        check_200 "$server $variant GET" "$url$query" GET
        check_200 "$server $variant POST" "$url/api/orders" POST
        measure "$server" "$variant" "GET" "$dir/get.lua" "$url$query"
        measure "$server" "$variant" "POST" "$dir/post.lua" "$url/api/orders"
        stop_all
    done
    echo "  load after $server: $(cut -d' ' -f1-3 /proc/loadavg)"
done

ms() { # wrk latency (e.g. 812.00us, 1.23ms, 1.01s) in ms
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.2f", n }'
}
echo
echo "Results (ratio = req/s with / req/s without; latencies in ms, without / with; server CPU:"
echo "CPU time of the server's processes (with the SPOE agent for haproxy) per request, in us)"
printf '%-8s %-5s %12s %12s %7s %17s %17s %15s\n' server req "req/s w/o" "req/s with" ratio "p50 w/o / with" "p99 w/o / with" "CPU w/o / with"
for server in $servers; do
    for req in GET POST; do
        wo="" wi=""
        for r in "${results[@]}"; do
            IFS='|' read -r s q v rps p50 p99 _ _ _ cpu <<<"$r"
            [ "$s" = "$server" ] && [ "$q" = "$req" ] || continue
            if [ "$v" = without ]; then wo="$rps|$p50|$p99|$cpu"; else wi="$rps|$p50|$p99|$cpu"; fi
        done
        IFS='|' read -r r0 a0 b0 c0 <<<"$wo"
        IFS='|' read -r r1 a1 b1 c1 <<<"$wi"
        ratio=$(awk -v a="$r0" -v b="$r1" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
        printf '%-8s %-5s %12s %12s %7s %17s %17s %15s\n' "$server" "$req" "$r0" "$r1" "$ratio" \
            "$(ms "$a0") / $(ms "$a1")" "$(ms "$b0") / $(ms "$b1")" "$c0 / $c1"
    done
done
bad=0
for r in "${results[@]}"; do
    IFS='|' read -r s q v _ _ _ non2xx errs _ _ <<<"$r"
    if [ "$non2xx" != 0 ] || [ "$errs" != none ]; then
        echo "warning: $s $v $q: non-2xx $non2xx, socket errors: $errs"
        bad=1
    fi
done
[ "$bad" = 0 ] && echo "every response was 2xx, no socket errors"
if [ -s "$dir/rampart.log" ]; then
    echo "note: Rampart logged $(wc -l <"$dir/rampart.log") line(s); the last:"
    tail -n 3 "$dir/rampart.log"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
