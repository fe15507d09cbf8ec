#!/usr/bin/env bash
# Runs the adapters' conformance suite against Debian's HAProxy 2.6 with the Rampart SPOE agent.
#
#   examples/haproxy/conformance.sh
#
# Env: RAMPART_BIN          the rampart binary with `rampart spoa` (default: target/debug/rampart
#                           of the workspace, or $CARGO_TARGET_DIR/debug/rampart)
#      RAMPART_CONFORMANCE  the rampart-conformance binary (default: next to RAMPART_BIN)
#      RAMPART_HAPROXY_BIN  haproxy (default /usr/sbin/haproxy)
#      RAMPART_KEEP=1       keep the work folder (logs, configuration)
#
# Flow (adapters/conformance): `prepare` writes W/node-block.toml and W/node-monitor.toml; this
# script starts two agents (`rampart spoa`, one per node.toml) and two HAProxy instances from the
# unchanged examples/haproxy/haproxy.cfg and spoe-rampart.conf (addresses passed through their
# environment variables), both proxying to the suite's echo backend; then `run` serves the
# backend and checks every case. Everything started here is stopped on exit, by PID; the exit
# status is the suite's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target=${CARGO_TARGET_DIR:-$root/target}
rampart=${RAMPART_BIN:-$target/debug/rampart}
suite=${RAMPART_CONFORMANCE:-$(dirname "$rampart")/rampart-conformance}
haproxy=${RAMPART_HAPROXY_BIN:-/usr/sbin/haproxy}
[ -x "$haproxy" ] || { echo "conformance: $haproxy missing (apt-get install haproxy)" >&2; exit 1; }
[ -x "$rampart" ] || { echo "conformance: $rampart missing (cargo build)" >&2; exit 1; }

. "$root/adapters/conformance/harness.sh"
conformance_setup
agent_block=$(next_port); taken_ports="$taken_ports$agent_block "
agent_monitor=$(next_port); taken_ports="$taken_ports$agent_monitor "

# $1 = name, $2 = node.toml, $3 = agent port, $4 = HAProxy port
start() {
    local d="$work/haproxy-$1"
    mkdir -p "$d"
    spawn "$rampart" spoa --listen "127.0.0.1:$3" --config "$2" >"$d/agent.out" 2>&1
    wait_port "the agent ($1)" "$3" "$d/agent.out"
    (
        cd "$d"
        RAMPART_FRONTEND="127.0.0.1:$4" \
        RAMPART_UPSTREAM="127.0.0.1:$backend" \
        RAMPART_SPOA="127.0.0.1:$3" \
        RAMPART_SPOE_CONF="$here/spoe-rampart.conf" \
        exec "$haproxy" -f "$here/haproxy.cfg" -db
    ) >"$d/haproxy.log" 2>&1 &
    pids+=("$!")
    wait_port "haproxy ($1)" "$4" "$d/haproxy.log"
}

start block "$work/node-block.toml" "$agent_block" "$block"
start monitor "$work/node-monitor.toml" "$agent_monitor" "$monitor"

conformance_run haproxy
if grep -qi "panic" "$work"/haproxy-*/agent.out 2>/dev/null; then
    echo "conformance: the agent panicked" >&2
    status=1
fi
exit "$status"
