#!/usr/bin/env bash
# Runs the adapters' conformance suite against Debian's Apache httpd with mod_rampart.
#
#   adapters/apache/conformance.sh
#
# Env: RAMPART_APACHE_MODULE  the module (default: what build.sh built,
#                             ${CARGO_TARGET_DIR:-target}/apache/mod_rampart.so)
#      RAMPART_CONFORMANCE    the rampart-conformance binary (default:
#                             target/debug/rampart-conformance of the workspace)
#      RAMPART_APACHE_BIN     apache2 (default /usr/sbin/apache2)
#      RAMPART_APACHE_MODULES httpd's modules (default /usr/lib/apache2/modules)
#      RAMPART_KEEP=1         keep the work folder (configs, logs) for a look
#
# Flow (adapters/conformance): `prepare` writes W/node-block.toml and
# W/node-monitor.toml; this script starts two Apache instances on 127.0.0.1 (mpm_event,
# two children each), one per node.toml (each child holds one guard, started in
# child_init), both proxying everything to the suite's echo backend with mod_proxy_http,
# the request passed through unchanged (ProxyPreserveHost, nocanon, encoded slashes kept);
# then `run` serves the backend and checks every case. Apache is stopped on exit; the exit
# status is the suite's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target=${CARGO_TARGET_DIR:-$root/target}
module=${RAMPART_APACHE_MODULE:-$target/apache/mod_rampart.so}
suite=${RAMPART_CONFORMANCE:-$root/target/debug/rampart-conformance}
apache=${RAMPART_APACHE_BIN:-/usr/sbin/apache2}
mods=${RAMPART_APACHE_MODULES:-/usr/lib/apache2/modules}
[ -x "$apache" ] || { echo "conformance: $apache missing (apt-get install apache2)" >&2; exit 1; }
[ -f "$module" ] || { echo "conformance: $module missing (run adapters/apache/build.sh)" >&2; exit 1; }

. "$root/adapters/conformance/harness.sh"
conformance_setup
# The children run as www-data when this runs as root: they read node.toml and the rules
# and append to the logs.
chmod 755 "$work"
chmod 644 "$work"/*.toml "$work"/*.rules
chmod 666 "$work"/*.log

# $1 = name, $2 = node.toml, $3 = port
start_apache() {
    local d="$work/apache-$1" user=""
    mkdir -p "$d"
    chmod 755 "$d"
    [ "$(id -u)" = 0 ] && user=$'User www-data\nGroup www-data'
    cat >"$d/httpd.conf" <<EOF
ServerRoot "$d"
ServerName 127.0.0.1
PidFile "$d/httpd.pid"
DefaultRuntimeDir "$d"
Mutex file:$d default
ErrorLog "$d/error.log"
LogLevel warn rampart:info
$user

LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule rampart_module $module

StartServers 2
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
# Large bodies are Rampart's to refuse (413 per node.toml's over_limit).
LimitRequestBody 16777216

LogFormat "%h \"%r\" %>s %{RAMPART_ACTION}e %{RAMPART_REQUEST_ID}e" rampart
CustomLog "$d/access.log" rampart

Listen 127.0.0.1:$3
RampartConfig "$2"
Rampart On
# The request exactly as the client sent it: its Host, its target bytes.
AllowEncodedSlashes NoDecode
ProxyPreserveHost On
ProxyPass / http://127.0.0.1:$backend/ nocanon
EOF
    spawn "$apache" -d "$d" -f "$d/httpd.conf" -DFOREGROUND 2>>"$d/stderr.log"
    wait_port "apache ($1)" "$3" "$d/stderr.log" "$d/error.log"
}

start_apache block "$work/node-block.toml" "$block"
start_apache monitor "$work/node-monitor.toml" "$monitor"

conformance_run apache
if grep -q "panicked\|Segmentation fault\|rampart: cannot start" "$work"/apache-*/error.log "$work"/apache-*/stderr.log 2>/dev/null; then
    echo "conformance: Apache logged a panic, a crash or a guard that did not start" >&2
    grep -h "panicked\|Segmentation fault\|rampart: cannot start" "$work"/apache-*/error.log "$work"/apache-*/stderr.log >&2 || true
    status=1
fi
exit "$status"
