#!/usr/bin/env bash
# The side-by-side benchmark of issue 11: Rampart against NGINX and NGINX with
# ModSecurity and the OWASP CRS, in front of the same backend, on 127.0.0.1.
#
# One backend: an NGINX (1 worker) serving a 1.5 KB static page for the GET,
# `return 200` for the POST (and for any other path, so that wafbench's requests
# reach a 200). In front of it, each on its own loopback port, NGINX with one
# worker per CPU and a keepalive upstream pool:
#   plain      NGINX as a plain reverse proxy (proxy_pass);
#   modsec     the same with ModSecurity v3 (Debian's libnginx-mod-http-modsecurity)
#              and the OWASP CRS (Debian's modsecurity-crs) at paranoia level 1,
#              anomaly scoring with blocking (SecRuleEngine On, inbound threshold 5),
#              request bodies inspected (JSON body processor), response bodies not
#              (SecResponseBodyAccess Off, as Rampart does not inspect them), no audit log;
#   node       `rampart node` (block mode, every built-in detector, node.toml's
#              defaults) with a signed pack of 1,000 generated rules (the shapes of
#              `rampart rules bench --synthetic`, dsl/src/synthetic.rs: detector calls,
#              lengths and formats, wildcards over points, lists, globs, attack scores;
#              block, score and tag actions), unscoped by default: every rule applies
#              to every request;
#   module     NGINX with Rampart's dynamic module (adapters/nginx), `rampart on`,
#              the same node.toml settings and the same pack.
# Then, one target after the other, with wrk -t2 (a 2 s warm-up, discarded, first):
#   GET  /shop/search with 5 query parameters (+ browser headers and 3 cookies);
#   POST /api/orders with a 2 KB JSON document;
# each at 32 connections (latency: p50, p99 with --latency) and at 256 connections
# (throughput). Prints one table per request (req/s, p50, p99, the p99 added over the
# plain proxy at 32 connections, and the CPU time the target's own processes spent per
# request, read from /proc), the ratios Rampart / plain NGINX and Rampart /
# NGINX+ModSecurity, and issue 11's goals for the node with "holds" or "does not hold".
# Last, ../shared/bench/wafbench.py replays the GoTestWAF corpus
# (../shared/corpus/gotestwaf/testcases) against ModSecurity+CRS and against the node
# (with its pack), and prints TPR, TNR and their mean for each.
#
#   bench/compare.sh [--duration N] [--endpoints N] [--no-wafbench]
#     --duration N   seconds of each measured wrk run (default 20)
#     --endpoints N  spread the 1,000 rules over N endpoint templates that the
#                    measured requests do not match (default 0: every rule applies)
#     --no-wafbench  skip the GoTestWAF replay
#
# Env: RAMPART_BIN           the rampart binary (default target/release/rampart; never
#                            built here: cargo build --release --bin rampart)
#      RAMPART_NGINX_MODULE  the module (default
#                            target/nginx-module/release/libngx_http_rampart_module.so;
#                            adapters/nginx/build.sh --release)
#      RAMPART_SHARED        the shared folder (default ../shared)
#      RAMPART_KEEP=1        keep the work folder (configs, logs, wrk and wafbench output)
# Installs from Debian (apt-get, non-interactive; a policy-rc.d keeps package scripts
# from starting services) what is missing of nginx, libnginx-mod-http-modsecurity,
# modsecurity-crs, wrk, curl and python3-yaml. Exit status 0 when every run completed
# without errors (the goals are reported, not enforced; wrk's timeouts behind an
# overloaded ModSecurity are reported, not errors), 1 otherwise. Everything, wrk
# included, shares this machine's CPUs: compare the rows of one run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

secs=20
endpoints=0
wafbench=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) secs=${2:?--duration needs a number}; shift ;;
        --duration=*) secs=${1#--duration=} ;;
        --endpoints) endpoints=${2:?--endpoints needs a number}; shift ;;
        --endpoints=*) endpoints=${1#--endpoints=} ;;
        --no-wafbench) wafbench=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$secs" in ''|*[!0-9]*|0) echo "compare: --duration $secs: a positive number of seconds" >&2; exit 2 ;; esac
case "$endpoints" in ''|*[!0-9]*) echo "compare: --endpoints $endpoints: not a number" >&2; exit 2 ;; esac

rampart=${RAMPART_BIN:-$root/target/release/rampart}
module=${RAMPART_NGINX_MODULE:-$root/target/nginx-module/release/libngx_http_rampart_module.so}
shared=${RAMPART_SHARED:-$root/../shared}
modsec_module=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so
crs_rules=/usr/share/modsecurity-crs/rules
crs_etc=/etc/modsecurity/crs
nrules=1000
warm=2
lat_conns=32
tput_conns=256

say() { echo "compare: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------- packages
# Installs the Debian packages among "$@" that are not installed. Package scripts
# must not start Debian's own services (nginx would listen on *:80): a policy-rc.d
# that refuses is in place while they install, and removed after if it was made here.
apt_install() {
    local need=() p made=0 rc=0
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
    [ ${#need[@]} -gt 0 ] || return 0
    say "installing ${need[*]} (apt-get install -y)"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        made=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || {
        as_root apt-get update -qq >/dev/null &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    } || rc=$?
    [ "$made" = 1 ] && as_root rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || { say "apt-get install ${need[*]} failed"; exit 1; }
}
pkgs=(nginx libnginx-mod-http-modsecurity modsecurity-crs wrk curl)
[ "$wafbench" = 1 ] && ! python3 -c 'import yaml' 2>/dev/null && pkgs+=(python3-yaml)
apt_install "${pkgs[@]}"
nginx=/usr/sbin/nginx
for f in "$nginx" "$modsec_module" "$crs_rules/REQUEST-949-BLOCKING-EVALUATION.conf" \
    "$crs_etc/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf" "$crs_etc/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf"; do
    [ -e "$f" ] || { say "$f missing after installing ${pkgs[*]}"; exit 1; }
done
for t in wrk curl python3; do command -v "$t" >/dev/null || { say "$t missing"; exit 1; }; done
[ -x "$rampart" ] || { say "$rampart missing (cargo build --release --bin rampart, or RAMPART_BIN)"; exit 1; }
[ -f "$module" ] || { say "$module missing (adapters/nginx/build.sh --release, or RAMPART_NGINX_MODULE)"; exit 1; }
if [ "$wafbench" = 1 ]; then
    [ -f "$shared/bench/wafbench.py" ] || { say "$shared/bench/wafbench.py missing (RAMPART_SHARED)"; exit 1; }
    [ -d "$shared/corpus/gotestwaf/testcases" ] || { say "$shared/corpus/gotestwaf/testcases missing"; exit 1; }
fi

# ---------------------------------------------------------------- processes
dir=$(mktemp -d /tmp/rampart-compare.XXXXXX)
# NGINX's workers read the configs and the backend's files.
chmod 755 "$dir"
pids=()
wrk_pid=""
cleanup() {
    local p
    if [ -n "$wrk_pid" ]; then kill -TERM "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true; fi
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${RAMPART_KEEP:-0}" = 1 ]; then say "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, wait_http
. "$root/bench/lib.sh"
ulimit -n 16384 2>/dev/null || true
workers=$(nproc)
root_user=""
[ "$(id -u)" = 0 ] && root_user="user root;"
temp_paths() { # NGINX's temp folders under $1
    echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"
}

# ---------------------------------------------------------------- the requests
bench_requests "$dir"

# ---------------------------------------------------------------- the backend
back=$(free_port)
mkdir -p "$dir/backend/www/shop"
head -c 1500 /dev/zero | tr '\0' 'x' | sed 's/^/<!doctype html><title>search<\/title><p>/' >"$dir/backend/www/shop/search"
chmod -R a+rX "$dir/backend"
cat >"$dir/backend/nginx.conf" <<EOF
$root_user
worker_processes 1;
worker_rlimit_nofile 16384;
error_log $dir/backend/error.log warn;
pid $dir/backend/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    $(temp_paths "$dir/backend")
    keepalive_requests 1000000;
    client_max_body_size 16m;
    server {
        listen 127.0.0.1:$back backlog=4096;
        root $dir/backend/www;
        default_type text/html;
        location = /shop/search { }
        location = /api/orders { default_type application/json; return 200 '{"ok":true}\n'; }
        location / { default_type text/plain; return 200 "ok\n"; }
    }
}
EOF
"$nginx" -p "$dir/backend" -c "$dir/backend/nginx.conf" -g 'daemon off;' 2>>"$dir/backend/stderr.log" &
pids+=($!)
wait_http "the backend (nginx)" "http://127.0.0.1:$back/shop/search" "$dir/backend/stderr.log"

# ---------------------------------------------------------------- ModSecurity + CRS
# The settings of the connector's modsecurity.conf (Debian's
# /usr/share/nginx/docs/modsecurity/modsecurity.conf), with the engine On, no response
# bodies, no audit log, no status engine (it would resolve a name), files in $dir.
ms="$dir/modsec"
mkdir -p "$ms/tmp" "$ms/data"
cp /etc/nginx/unicode.mapping "$ms/unicode.mapping" 2>/dev/null ||
    cp /usr/share/nginx/docs/modsecurity/unicode.mapping "$ms/unicode.mapping"
cat >"$ms/modsecurity.conf" <<EOF
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \\
     "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
     "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRequestBodyJsonDepthLimit 512
SecArgumentsLimit 1000
SecRule &ARGS "@ge 1000" \\
    "id:'200007',phase:2,t:none,log,deny,status:400,msg:'Failed to fully parse request body due to large argument count',severity:2"
SecRule REQBODY_ERROR "!@eq 0" \\
    "id:'200002',phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \\
    "id:'200003',phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" \\
    "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecRule TX:/^MSC_/ "!@streq 0" \\
    "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"
SecResponseBodyAccess Off
SecTmpDir $ms/tmp/
SecDataDir $ms/data/
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile $ms/unicode.mapping 20127
SecStatusEngine Off
EOF
# CRS setup: Debian's crs-setup.conf (anomaly scoring: the default actions pass, rule
# 949110 denies at the threshold), written out with paranoia level 1 and the default
# thresholds set explicitly.
cat >"$ms/crs-setup.conf" <<'EOF'
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecCollectionTimeout 600
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334"
EOF
# libmodsecurity 3 has no IncludeOptional: Debian's owasp-crs.load with Include.
cat >"$ms/main.conf" <<EOF
Include $ms/modsecurity.conf
Include $ms/crs-setup.conf
Include $crs_etc/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include $crs_rules/*.conf
Include $crs_etc/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
EOF

# ---------------------------------------------------------------- Rampart's rules
# $nrules rules of the shapes of dsl/src/synthetic.rs (which `rampart rules bench
# --synthetic N` and the criterion bench use), written out, checked, and signed
# into a pack.
python3 - "$nrules" "$endpoints" "$dir/rules.rules" <<'EOF'
import sys
n, endpoints, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rules = []
for i in range(n):
    scope = 'endpoint "/api/r%d/{id}"\n  ' % (i % endpoints) if endpoints else ""
    ident = "path.id" if endpoints else "query.page"
    shape = i % 6
    if shape == 0:
        cond = 'sqli(query.q) or contains(lower(header["user-agent"]), "scan%d")' % i
    elif shape == 1:
        cond = "len(query.q) > %d and not is_int(%s)" % (100 + i % 50, ident)
    elif shape == 2:
        cond = 'any(query.*, it ~ "*<script%d*")' % i
    elif shape == 3:
        cond = 'header["x-token"] in ["t%d", "u%d", "v%d"] and method == "POST"' % (i, i, i)
    elif shape == 4:
        cond = 'starts_with(query.q, "%d") or query.sort ~ "*;%d*"' % (i, i)
    else:
        cond = "attack(any, class = xss, min_score = %d) and len(header.accept) > 3" % (50 + i % 40)
    action = ["block", "score(%d, class = sqli)" % (1 + i % 20), 'tag("t%d")' % i][i % 3]
    rules.append('rule r%d "generated %d" {\n  %swhen %s\n  then %s\n}\n' % (i, i, scope, cond, action))
open(out, "w").write("".join(rules))
EOF
"$rampart" rules check "$dir/rules.rules" >"$dir/rules-check.log" 2>&1 || {
    say "the generated rules do not check:"; cat "$dir/rules-check.log" >&2; exit 1
}
"$rampart" rules keygen --out "$dir/pack" >"$dir/keygen.log" 2>&1 || { cat "$dir/keygen.log" >&2; exit 1; }
"$rampart" rules pack --key "$dir/pack.key" --version 1 --out "$dir/rules.pack" \
    "$dir/rules.rules" >"$dir/pack.log" 2>&1 || { say "rules pack failed:"; cat "$dir/pack.log" >&2; exit 1; }
"$rampart" rules verify --pubkey "$dir/pack.pub" "$dir/rules.pack" >"$dir/verify.log" 2>&1 || {
    say "rules verify refuses the pack:"; cat "$dir/verify.log" >&2; exit 1
}

# node.toml for the node and (without the listeners) for the module: block mode,
# every other setting at its default (built-in detectors, telemetry on, no cloud).
# $1 = file, $2 = data folder, $3 = log file, $4... = extra top-level lines
node_toml() {
    local f=$1 data=$2 log=$3
    shift 3
    {
        printf '%s\n' "$@"
        cat <<EOF
mode = "block"
log_format = "json"
log_file = "$log"

[rules]
pack = "$dir/rules.pack"
pack_keys = ["$dir/pack.pub"]

[cloud]
url = ""
data_dir = "$data"
EOF
    } >"$f"
}

# ---------------------------------------------------------------- the fronts
# $1 = name, $2 = lines before `events` (load_module), $3 = http lines, $4 = server lines
start_front() {
    local name=$1 d="$dir/$1" port
    mkdir -p "$d"
    port=$(free_port)
    cat >"$d/nginx.conf" <<EOF
$2
$root_user
worker_processes $workers;
worker_rlimit_nofile 16384;
error_log $d/error.log warn;
pid $d/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    $(temp_paths "$d")
    keepalive_requests 1000000;
    client_max_body_size 16m;
    $3
    upstream back { server 127.0.0.1:$back; keepalive 256; }
    server {
        listen 127.0.0.1:$port backlog=4096;
        $4
        location / {
            proxy_pass http://back;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    "$nginx" -t -p "$d" -c "$d/nginx.conf" >"$d/check.log" 2>&1 || {
        say "nginx -t refuses the $name configuration:"; cat "$d/check.log" >&2; exit 1
    }
    "$nginx" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/stderr.log" &
    pids+=($!)
    tpid[$name]=$!
    url[$name]="http://127.0.0.1:$port"
    wait_http "nginx ($name)" "http://127.0.0.1:$port/" "$d/stderr.log"
}
declare -A url label tpid
label[plain]="NGINX, plain proxy"
label[modsec]="NGINX + ModSecurity + CRS PL1"
label[node]="Rampart node, $nrules rules"
label[module]="NGINX + Rampart module"

start_front plain "" "" ""
start_front modsec "load_module $modsec_module;" "" \
    "modsecurity on; modsecurity_rules_file $ms/main.conf;"
mkdir -p "$dir/module-data"
touch "$dir/module.log"
chmod 666 "$dir/module.log"
node_toml "$dir/module.toml" "$dir/module-data" "$dir/module.log"
start_front module "load_module $module;" "rampart_config $dir/module.toml;" "rampart on;"

front=$(free_port)
admin=$(free_port)
node_toml "$dir/node.toml" "$dir/node-data" "$dir/node.log" \
    "listen = \"127.0.0.1:$front\"" "upstream = \"http://127.0.0.1:$back\"" "admin_listen = \"127.0.0.1:$admin\""
"$rampart" node --config "$dir/node.toml" 2>>"$dir/node.stderr" &
node_pid=$!
pids+=("$node_pid")
tpid[node]=$node_pid
url[node]="http://127.0.0.1:$front"
wait_http "the node" "http://127.0.0.1:$admin/healthz" "$dir/node.stderr"
chmod -R a+rX "$dir"

# Each target must answer 200 to both measured requests, 403 to an SQL injection, and
# (Rampart) 403 to a request that only rule r0 of the pack blocks: the pack is in force.
# $1 = target, $2 = expected status, $3... = curl arguments (URL last)
expect() {
    local t=$1 want=$2 code i
    shift 2
    for i in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$@")
        [ "$code" = "$want" ] && return 0
        sleep 0.1
    done
    say "${label[$t]} answered $code, not $want, to: curl $*"
    exit 1
}
targets=(plain modsec node module)
sqli='/shop/search?q=1%27%20OR%20%271%27%3D%271&page=2'
for t in "${targets[@]}"; do
    u=${url[$t]}
    expect "$t" 200 -H "User-Agent: $ua" -H "Cookie: $cookie" "$u$query"
    expect "$t" 200 -X POST -H 'Content-Type: application/json' -H "User-Agent: $ua" \
        --data-binary @"$dir/order.json" "$u/api/orders"
    case "$t" in
        plain) expect "$t" 200 -H "User-Agent: $ua" "$u$sqli" ;;
        *) expect "$t" 403 -H "User-Agent: $ua" "$u$sqli" ;;
    esac
    case "$t" in
        node|module) expect "$t" 403 -H "User-Agent: compare-scan0" "$u/shop/search?q=shoes" ;;
    esac
done

# ---------------------------------------------------------------- measuring
# wrk's latency in ms ("512.00us", "2.31ms", "1.02s").
to_ms() {
    echo "$1" | awk '{ v = $1 + 0
        if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v += 0; else if ($1 ~ /m$/) v *= 60000; else if ($1 ~ /s$/) v *= 1000
        printf "%.3f", v }'
}
# CPU time (utime + stime, all threads) of process $1 and its children (NGINX's
# workers), in clock ticks.
tree_ticks() {
    local total=0 p st
    for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
        st=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        # After the command name (which may hold spaces): utime is the 12th field, stime the 13th.
        st=${st##*) }
        total=$((total + $(echo "$st" | awk '{print $12 + $13}')))
    done
    echo "$total"
}
hz=$(getconf CLK_TCK)
declare -A rps p50 p99 errs cpu
failed=0
# $1 = target, $2 = request (GET|POST), $3 = connections
measure() {
    local t=$1 r=$2 c=$3 lua u out code=0 non2xx sock t0 t1 n
    out="$dir/wrk-$t-$r-$c.txt"
    if [ "$r" = GET ]; then lua="$dir/get.lua"; u="${url[$t]}$query"; else lua="$dir/post.lua"; u="${url[$t]}/api/orders"; fi
    t0=$(tree_ticks "${tpid[$t]}")
    wrk -t2 -c"$c" -d"${secs}s" --timeout 10s --latency -s "$lua" "$u" >"$out" 2>&1 &
    wrk_pid=$!
    wait "$wrk_pid" || code=$?
    wrk_pid=""
    t1=$(tree_ticks "${tpid[$t]}")
    [ "$code" = 0 ] || { say "wrk failed on ${label[$t]}, $r, $c connections:"; cat "$out" >&2; exit 1; }
    n=$(awk '/requests in/ {print $1}' "$out")
    cpu[$t,$r,$c]=$(awk -v d=$((t1 - t0)) -v n="${n:-0}" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.0f", d * 1e6 / hz / n; else print "-" }')
    rps[$t,$r,$c]=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out")
    p50[$t,$r,$c]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99[$t,$r,$c]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$out")
    sock=$(awk '/Socket errors/ {sub(/^ *Socket errors: */, ""); print}' "$out")
    errs[$t,$r,$c]=$(echo "${sock:-}" | awk -v n="${non2xx:-0}" '{ for (i = 1; i <= NF; i++) s += $i + 0 } END { print n + s }')
    say "$(printf '%-30s %-4s %3s conns: %8s req/s, p50 %8s ms, p99 %8s ms, CPU %5s us/req, errors %s' "${label[$t]}" \
        "$r" "$c" "${rps[$t,$r,$c]}" "${p50[$t,$r,$c]}" "${p99[$t,$r,$c]}" "${cpu[$t,$r,$c]}" "${errs[$t,$r,$c]}")"
    [ "${errs[$t,$r,$c]}" = 0 ] && return 0
    # A non-2xx answer is a wrong result anywhere. Timeouts behind ModSecurity are its
    # overload (requests queued longer than wrk's 10 s): reported, not a failure.
    if [ "${non2xx:-0}" != 0 ] || [ "$t" != modsec ]; then
        say "FAIL: ${errs[$t,$r,$c]} error(s) (non-2xx ${non2xx:-0}, socket: ${sock:-none})"
        failed=1
    else
        say "note: ${errs[$t,$r,$c]} socket error(s) (${sock:-none}): ModSecurity's queue under overload"
    fi
}

echo "Side by side (issue 11): $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -srm), $(nproc) CPUs"
echo "  $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  $("$nginx" -v 2>&1 | sed 's/.*: //') ($workers workers per front, backend 1 worker);" \
    "ModSecurity $(dpkg-query -W -f='${Version}' libmodsecurity3 2>/dev/null)," \
    "CRS $(dpkg-query -W -f='${Version}' modsecurity-crs 2>/dev/null) PL1;" \
    "$(wrk -v 2>&1 | awk 'NR==1 {print $1, $2}') -t2, ${warm} s warm-up, ${secs} s per run"
echo "  rampart: $rampart; module: $module"
echo "  rules: $nrules generated rules (dsl/src/synthetic.rs shapes), $( [ "$endpoints" = 0 ] && echo "unscoped" || echo "over $endpoints endpoints"), signed pack"
echo "  GET $query (+ UA, Accept, Accept-Language, 3 cookies); POST /api/orders, $body_bytes bytes of JSON"
echo
for r in GET POST; do
    for t in "${targets[@]}"; do
        if [ "$r" = GET ]; then
            wrk -t2 -c"$lat_conns" -d"${warm}s" -s "$dir/get.lua" "${url[$t]}$query" >/dev/null 2>&1
        else
            wrk -t2 -c"$lat_conns" -d"${warm}s" -s "$dir/post.lua" "${url[$t]}/api/orders" >/dev/null 2>&1
        fi
        measure "$t" "$r" "$lat_conns"
        measure "$t" "$r" "$tput_conns"
    done
done
for t in node module; do
    if [ "$t" = node ]; then p=$node_pid; else p=$(cat "$dir/module/nginx.pid" 2>/dev/null || echo 0); fi
    kill -0 "$p" 2>/dev/null || { say "FAIL: ${label[$t]} is gone"; failed=1; }
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
for r in GET POST; do
    if [ "$r" = GET ]; then echo "GET, 5 query parameters"; else echo "POST, $body_bytes bytes of JSON"; fi
    printf '  %-31s %12s %12s %10s %10s %11s %12s %7s\n' target "req/s ${tput_conns}c" "req/s ${lat_conns}c" \
        "p50 ${lat_conns}c" "p99 ${lat_conns}c" "+p99 ${lat_conns}c" "CPU us/req" errors
    for t in "${targets[@]}"; do
        added=$(awk -v a="${p99[$t,$r,$lat_conns]}" -v b="${p99[plain,$r,$lat_conns]}" 'BEGIN { printf "%+.2f ms", a - b }')
        [ "$t" = plain ] && added="-"
        e1=${errs[$t,$r,$lat_conns]}
        e2=${errs[$t,$r,$tput_conns]}
        printf '  %-31s %12s %12s %7.2f ms %7.2f ms %11s %12s %7s\n' "${label[$t]}" "${rps[$t,$r,$tput_conns]}" \
            "${rps[$t,$r,$lat_conns]}" "${p50[$t,$r,$lat_conns]}" "${p99[$t,$r,$lat_conns]}" "$added" \
            "${cpu[$t,$r,$tput_conns]}" "$((e1 + e2))"
    done
    echo
done
echo "(CPU us/req: CPU time of the target's own processes (NGINX master and workers, or the node)"
echo " per request during the $tput_conns-connection run; wrk and the backend are not counted)"
echo
echo "Ratios of req/s at $tput_conns connections       GET      POST"
for t in node module; do
    printf '  %-40s %8s %8s\n' "${label[$t]} / plain NGINX" \
        "$(ratio "${rps[$t,GET,$tput_conns]}" "${rps[plain,GET,$tput_conns]}")" \
        "$(ratio "${rps[$t,POST,$tput_conns]}" "${rps[plain,POST,$tput_conns]}")"
    printf '  %-40s %8s %8s\n' "${label[$t]} / ModSecurity" \
        "$(ratio "${rps[$t,GET,$tput_conns]}" "${rps[modsec,GET,$tput_conns]}")" \
        "$(ratio "${rps[$t,POST,$tput_conns]}" "${rps[modsec,POST,$tput_conns]}")"
done
echo
echo "Issue 11's goals for the Rampart node:"
held=0
goal() { # $1 = text, $2 = figure, $3 = awk condition on x
    local ok
    if awk -v x="$2" "BEGIN { exit !($3) }"; then ok="holds"; held=$((held + 1)); else ok="does not hold"; fi
    printf '  %-58s %10s  %s\n' "$1" "$2" "$ok"
}
for r in GET POST; do
    goal "req/s >= 70% of plain NGINX's, $r" "$(ratio "${rps[node,$r,$tput_conns]}" "${rps[plain,$r,$tput_conns]}")" 'x >= 0.70'
done
for r in GET POST; do
    goal "req/s >= 30x NGINX+ModSecurity+CRS's, $r" "$(ratio "${rps[node,$r,$tput_conns]}" "${rps[modsec,$r,$tput_conns]}")" 'x >= 30'
done
for r in GET POST; do
    goal "p99 added at $lat_conns connections < 1 ms, $r (ms)" \
        "$(awk -v a="${p99[node,$r,$lat_conns]}" -v b="${p99[plain,$r,$lat_conns]}" 'BEGIN { printf "%.2f", a - b }')" 'x < 1'
done
echo "  $held of 6 hold; load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- detection
if [ "$wafbench" = 1 ]; then
    echo
    echo "GoTestWAF ($shared/corpus/gotestwaf/testcases, $(basename "$shared")/bench/wafbench.py, 403 = blocked):"
    for t in modsec node; do
        python3 "$shared/bench/wafbench.py" "$shared/corpus/gotestwaf/testcases" --url "${url[$t]}/" \
            --label "$t" --json "$dir/wafbench-$t.json" --no-records --no-per-case \
            >"$dir/wafbench-$t.txt" 2>&1 || {
            say "wafbench against ${label[$t]} failed:"; tail -20 "$dir/wafbench-$t.txt" >&2; failed=1; continue
        }
        python3 - "$dir/wafbench-$t.json" "${label[$t]}" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
a, b = s["attack"], s["benign"]
pct = lambda v: "-" if v is None else "%.1f%%" % v
print("  %-31s TPR %s (%d/%d attacks blocked), TNR %s (%d/%d benign passed), mean %s"
      % (sys.argv[2], pct(s["tpr"]), a["blocked"], a["blocked"] + a["passed"], pct(s["tnr"]),
         b["passed"], b["blocked"] + b["passed"], pct(s["balanced"])))
EOF
    done
fi
exit "$failed"
