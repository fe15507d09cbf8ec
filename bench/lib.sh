# Helpers shared by the scripts under bench/ (sourced, not run).

# A free loopback port, as the kernel hands them out (callers run it in
# $(...), a subshell, so it cannot remember what it handed out before).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 30 s for $2 to answer 200; else shows the log $3 and exits
# ($1 names what was waited for).
wait_http() {
    local i
    for i in $(seq 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$2" 2>/dev/null)" = 200 ]; then return 0; fi
        sleep 0.05
    done
    echo "$(basename "$0"): $1 does not answer 200 at $2:" >&2
    cat "$3" >&2 2>/dev/null || true
    exit 1
}
