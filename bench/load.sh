#!/usr/bin/env bash
# Load and soak of the proxy node (issue 11), with wrk on 127.0.0.1.
#
# An NGINX (1 worker) serves the backend: a static page for the GET, `return 200` for
# the POST. `rampart node` runs in front of it in block mode with node.toml's defaults
# (built-in detectors, telemetry on, no cloud, [overload] defaults). Then:
#   1. GET  /shop/search with 5 query parameters (+ browser headers and 3 cookies),
#      wrk -c256 for SECONDS;
#   2. POST /api/orders with a 2 KB JSON document, wrk -c256 for SECONDS;
#   3. the same GET at 1,000 connections (wrk -c1000 for 30 s) for the node's memory.
# The node's RSS (VmRSS) is sampled every 5 s during each run. Prints requests/s,
# latency p50/p99, errors (non-2xx responses, socket errors) and RSS min/max/last.
# Exit 1 on any error in any run, when RSS grows by more than 10% between the second
# sample and the last of a 256-connection run, or when RSS reaches 64 MiB at 1,000
# connections.
#
#   bench/load.sh [--soak] [--secs N] [--no-build]
#     --soak      runs 1 and 2 last 10 minutes each (default: 60 s each)
#     --secs N    runs 1 and 2 last N seconds each
#     --no-build  use target/release/rampart as it is
#
# Env: RAMPART_BIN   the rampart binary to run (default target/release/rampart, built
#                    with `cargo build --release --bin rampart` when missing or older
#                    than a source file)
#      RAMPART_KEEP=1  keep the work folder (configs, logs, wrk output)
# Installs wrk and nginx from Debian (apt-get) when missing. Everything, wrk included,
# shares the machine's CPUs: the figures are this machine's, under its current load.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

secs=60
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --soak) secs=600 ;;
        --secs) secs=${2:?--secs needs a number}; shift ;;
        --no-build) build=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "load: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$secs" in ''|*[!0-9]*) echo "load: --secs $secs: not a number" >&2; exit 2 ;; esac
[ "$secs" -ge 15 ] || { echo "load: --secs $secs: at least 15 (RSS is sampled every 5 s)" >&2; exit 2; }
wide_secs=30
conns=256
wide_conns=1000
rss_goal_kb=$((64 * 1024))

say() { echo "load: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { # $1 = package
    say "installing $1 (apt-get install -y $1)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null 2>&1 || {
        as_root apt-get update >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null
    }
}
command -v wrk >/dev/null || apt_install wrk
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { apt_install nginx; nginx=/usr/sbin/nginx; }
for t in curl python3; do command -v "$t" >/dev/null || { say "$t missing"; exit 1; }; done

# ---------------------------------------------------------------- the binary
rampart=${RAMPART_BIN:-}
if [ -z "$rampart" ]; then
    rampart=$root/target/release/rampart
    stale=""
    if [ -x "$rampart" ] && [ "$build" = 1 ]; then
        stale=$(find "$root" \( -path "$root/target" -o -path "$root/fuzz" -o -name .git \) -prune -o \
            \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -newer "$rampart" -print -quit)
    fi
    if [ ! -x "$rampart" ] || [ -n "$stale" ]; then
        [ "$build" = 1 ] || { say "$rampart missing (cargo build --release --bin rampart)"; exit 1; }
        say "building $rampart${stale:+ ($stale is newer)}: cargo build --release --bin rampart"
        (cd "$root" && cargo build --release --bin rampart)
    fi
fi
[ -x "$rampart" ] || { say "$rampart is not an executable"; exit 1; }

# ---------------------------------------------------------------- processes
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
wrk_pid=""
cleanup() {
    local p
    [ -n "$wrk_pid" ] && { kill -TERM "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true; }
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    if [ "${RAMPART_KEEP:-0}" = 1 ]; then say "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, wait_http
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- the requests
bench_requests "$dir"

# ---------------------------------------------------------------- the backend
back=$(free_port)
mkdir -p "$dir/backend/www/shop" "$dir/backend/logs"
head -c 1500 /dev/zero | tr '\0' 'x' | sed 's/^/<!doctype html><title>search<\/title><p>/' >"$dir/backend/www/shop/search"
chmod -R a+rX "$dir/backend/www"
user=""
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$dir/backend/nginx.conf" <<EOF
$user
worker_processes 1;
worker_rlimit_nofile 8192;
error_log $dir/backend/error.log warn;
pid $dir/backend/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/backend/body; proxy_temp_path $dir/backend/proxy;
    fastcgi_temp_path $dir/backend/fastcgi; uwsgi_temp_path $dir/backend/uwsgi;
    scgi_temp_path $dir/backend/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$back backlog=4096;
        root $dir/backend/www;
        default_type text/html;
        location = /api/orders { default_type application/json; return 200 '{"ok":true}\n'; }
    }
}
EOF
"$nginx" -p "$dir/backend" -c "$dir/backend/nginx.conf" -g 'daemon off;' 2>>"$dir/backend/stderr.log" &
pids+=($!)
wait_http "the backend (nginx)" "http://127.0.0.1:$back/shop/search" "$dir/backend/stderr.log"

# ---------------------------------------------------------------- the node
front=$(free_port)
admin=$(free_port)
cat >"$dir/node.toml" <<EOF
listen = "127.0.0.1:$front"
upstream = "http://127.0.0.1:$back"
admin_listen = "127.0.0.1:$admin"
mode = "block"
log_format = "json"
log_file = "$dir/node.log"

[cloud]
url = ""
data_dir = "$dir/node-data"
EOF
ulimit -n 16384 2>/dev/null || true
"$rampart" node --config "$dir/node.toml" 2>>"$dir/node.stderr" &
node_pid=$!
pids+=("$node_pid")
wait_http "the node" "http://127.0.0.1:$admin/healthz" "$dir/node.stderr"
url="http://127.0.0.1:$front"
for r in GET POST; do
    if [ "$r" = POST ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            -H "User-Agent: $ua" --data-binary @"$dir/order.json" "$url/api/orders")
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "User-Agent: $ua" -H "Cookie: $cookie" "$url$query")
    fi
    [ "$code" = 200 ] || { say "$r through the node answered $code, not 200"; cat "$dir/node.log" >&2; exit 1; }
done

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$node_pid/status" 2>/dev/null || echo 0; }
node_metric() { # $1 = name of an unlabelled metric
    curl -s "http://127.0.0.1:$admin/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

failed=0
rows=()
# $1 = label, $2 = connections, $3 = seconds, $4 = lua script, $5 = URL
run() {
    local label=$1 c=$2 s=$3 out="$dir/wrk-$1.txt" samples=() open_max=0 fds_max=0 i n
    wrk -t2 -c"$c" -d"${s}s" --timeout 10s --latency -s "$4" "$5" >"$out" 2>&1 &
    wrk_pid=$!
    # An RSS sample every 5 s while wrk runs (and the open connections with it).
    while kill -0 "$wrk_pid" 2>/dev/null; do
        samples+=("$(rss_kb)")
        n=$(node_metric rampart_connections_open)
        [ "${n:-0}" -gt "$open_max" ] && open_max=$n
        n=$(ls "/proc/$node_pid/fd" 2>/dev/null | wc -l)
        [ "$n" -gt "$fds_max" ] && fds_max=$n
        for i in 1 2 3 4 5; do
            kill -0 "$wrk_pid" 2>/dev/null || break
            sleep 1
        done
    done
    i=0
    wait "$wrk_pid" || i=$?
    wrk_pid=""
    [ "$i" = 0 ] || { say "wrk failed:"; cat "$out" >&2; exit 1; }
    local rps p50 p99 non2xx sock errors min max last second growth
    rps=$(awk '/^Requests\/sec/ {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
    non2xx=${non2xx:-0}
    sock=$(awk '/Socket errors/ {sub(/^ *Socket errors: */, ""); print}' "$out")
    # "connect 0, read 0, write 0, timeout 0": the sum of the numbers.
    errors=$(echo "${sock:-}" | awk -v n="$non2xx" '{ for (i = 1; i <= NF; i++) s += $i + 0 } END { print n + s }')
    min=$(printf '%s\n' "${samples[@]}" | awk 'NR == 1 || $1 < m { m = $1 } END { print m + 0 }')
    max=$(printf '%s\n' "${samples[@]}" | awk '$1 > m { m = $1 } END { print m + 0 }')
    last=${samples[-1]}
    second=${samples[1]:-${samples[0]}}
    growth=$(awk -v a="$second" -v b="$last" 'BEGIN { if (a > 0) printf "%.1f", (b - a) * 100 / a; else print "0" }')
    rows+=("$(printf '%-9s %6s %5ss %10s %9s %9s %7s %6s %6s %8s %8s %8s %7s%%' "$label" "$c" "$s" "$rps" "$p50" "$p99" \
        "$errors" "$open_max" "$fds_max" "$(mb "$min")" "$(mb "$max")" "$(mb "$last")" "$growth")")
    say "$label: ${rps} req/s, p50 $p50, p99 $p99, errors $errors (non-2xx $non2xx; socket: ${sock:-none}), RSS MiB min $(mb "$min") max $(mb "$max") last $(mb "$last") (${#samples[@]} samples, growth from the 2nd $growth%)"
    if [ "$errors" != 0 ]; then
        say "FAIL $label: $errors error(s)"
        failed=1
    fi
    if [ "$c" = "$conns" ] && awk -v g="$growth" 'BEGIN { exit !(g > 10) }'; then
        say "FAIL $label: RSS grew $growth% (more than 10%) from the second sample to the last"
        failed=1
    fi
    if [ "$c" = "$wide_conns" ] && [ "$max" -ge "$rss_goal_kb" ]; then
        say "FAIL $label: RSS reached $(mb "$max") MiB at $c connections (goal: under 64 MiB)"
        failed=1
    fi
}

echo "Rampart node under load: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -srm), $(nproc) CPUs"
echo "  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $("$nginx" -v 2>&1 | sed 's/.*: //') backend (1 worker); $(wrk -v 2>&1 | awk 'NR==1 {print $1, $2}') -t2"
echo "  node: $rampart, block mode, node.toml defaults; RSS idle $(mb "$(rss_kb)") MiB"
echo "  GET $query (+ UA, Accept, Accept-Language, 3 cookies); POST /api/orders, $body_bytes bytes of JSON"
echo
# Warm-up, discarded: connections, the upstream pool, the allocator's arenas.
wrk -t2 -c"$conns" -d5s -s "$dir/get.lua" "$url$query" >/dev/null 2>&1
run GET "$conns" "$secs" "$dir/get.lua" "$url$query"
run POST "$conns" "$secs" "$dir/post.lua" "$url/api/orders"
run GET-1000c "$wide_conns" "$wide_secs" "$dir/get.lua" "$url$query"

echo
printf '%-9s %6s %6s %10s %9s %9s %7s %6s %6s %8s %8s %8s %8s\n' run conns time "req/s" p50 p99 errors open fds "RSS min" "RSS max" "RSS last" growth
printf '%s\n' "${rows[@]}"
echo "(RSS in MiB, sampled every 5 s; open: most client connections seen open at a sample"
echo " (rampart_connections_open); fds: most file descriptors of the node at a sample (client"
echo " and upstream connections, listeners); growth: RSS last vs second sample)"
shed=$(node_metric rampart_shed_total)
upstream_errors=$(node_metric rampart_upstream_errors_total)
echo "node: rampart_shed_total ${shed:-?}, rampart_upstream_errors_total ${upstream_errors:-?}, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if ! kill -0 "$node_pid" 2>/dev/null; then
    say "FAIL: the node exited"
    failed=1
fi
if [ "$failed" = 0 ]; then echo "PASS"; else echo "FAIL"; fi
exit "$failed"
