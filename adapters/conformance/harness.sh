# Sourced by the adapters' conformance scripts (adapters/nginx/conformance.sh,
# examples/haproxy/conformance.sh, adapters/apache/conformance.sh): the part every run shares.
#
#   conformance_setup        work folder, three distinct free ports (backend, block, monitor),
#                            `rampart-conformance prepare`; everything spawned is stopped on exit
#   spawn CMD...             runs CMD in the background and remembers its PID
#   wait_port WHAT PORT LOG  waits for a listener (30 s), else shows LOG and exits 1
#   conformance_run NAME     runs the suite (and RAMPART_AFTER_SUITE while the servers are up);
#                            sets `status`
#
# Needs `suite` (the rampart-conformance binary) set by the caller.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A free port not yet handed out by this run.
taken_ports=" "
next_port() {
    local p
    while :; do
        p=$(free_port)
        case "$taken_ports" in *" $p "*) ;; *) taken_ports="$taken_ports$p "; echo "$p"; return ;; esac
    done
}

pids=()
conformance_cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ "${RAMPART_KEEP:-0}" = 1 ]; then echo "conformance: kept $work" >&2; else rm -rf "$work"; fi
}

conformance_setup() {
    [ -x "$suite" ] || { echo "conformance: $suite missing (cargo build -p rampart-conformance)" >&2; exit 1; }
    work=$(mktemp -d)
    trap conformance_cleanup EXIT
    backend=$(next_port); taken_ports="$taken_ports$backend "
    block=$(next_port); taken_ports="$taken_ports$block "
    monitor=$(next_port); taken_ports="$taken_ports$monitor "
    "$suite" prepare --dir "$work" --backend "127.0.0.1:$backend" >/dev/null
}

spawn() {
    "$@" &
    pids+=("$!")
}

wait_port() {
    local i
    for i in $(seq 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "conformance: $1 did not start:" >&2
    shift 2
    cat "$@" >&2 || true
    exit 1
}

conformance_run() {
    status=0
    "$suite" run --dir "$work" --backend-listen "127.0.0.1:$backend" \
        --block "127.0.0.1:$block" --monitor "127.0.0.1:$monitor" --adapter "$1" || status=$?
    # Optional: a replay through the block-mode server while it is up (scripts/adapters.sh uses
    # it to compare the GoTestWAF verdicts of every adapter with the proxy node's).
    if [ -n "${RAMPART_AFTER_SUITE:-}" ]; then
        RAMPART_HOOK_ADAPTER="$1" RAMPART_HOOK_BACKEND="127.0.0.1:$backend" \
            RAMPART_HOOK_BLOCK="127.0.0.1:$block" $RAMPART_AFTER_SUITE || status=$?
    fi
}
