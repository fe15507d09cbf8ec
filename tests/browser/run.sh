#!/usr/bin/env bash
# Runs the console's browser test: starts `rampart demo` on free loopback
# ports with a temporary data folder, waits for its console, runs
# console.spec.mjs in headless Chromium, stops the demo and exits with the
# test's status.
#
# Env: RAMPART_BIN (default: cargo build --bin rampart), CHROMIUM (default
# /usr/bin/chromium), SHOT_DIR (default target/console-screenshots),
# WAIT_SECS (the test's cap per wait, default 240), KEEP_DATA=1 keeps the
# demo's data folder and log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -n "${RAMPART_BIN:-}" ]; then
  bin=$RAMPART_BIN
else
  (cd "$root" && cargo build --bin rampart)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/rampart"
fi
[ -x "$bin" ] || { echo "run.sh: no rampart binary at $bin" >&2; exit 2; }
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "run.sh: no Chromium at $chromium (apt-get install -y chromium)" >&2; exit 2; }

if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

# Four free loopback ports, chosen by the kernel.
read -r p_node p_shop p_admin p_console < <(node -e '
  const net = require("net");
  const servers = [0, 1, 2, 3].map(() => net.createServer());
  Promise.all(servers.map((s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)))))
    .then((ports) => { console.log(ports.join(" ")); servers.forEach((s) => s.close()); });
')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rampart-console-test.XXXXXX")
password=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
shots=${SHOT_DIR:-$root/target/console-screenshots}
mkdir -p "$shots"
rm -f "$shots"/*.png

demo_pid=
cleanup() {
  local rc=$?
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill "$demo_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$demo_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/demo.log" ]; then
    echo "--- warnings and the last lines of the demo's log ---" >&2
    grep -E 'WARN|ERROR' "$tmp/demo.log" | tail -n 30 >&2 || true
    echo "..." >&2
    tail -n 10 "$tmp/demo.log" >&2 || true
  fi
  if [ "${KEEP_DATA:-0}" = 1 ]; then
    echo "run.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin" demo \
  --listen "127.0.0.1:$p_node" \
  --shop-listen "127.0.0.1:$p_shop" \
  --admin "127.0.0.1:$p_admin" \
  --console "127.0.0.1:$p_console" \
  --data "$tmp/data" \
  --admin-password "$password" \
  >"$tmp/demo.log" 2>&1 &
demo_pid=$!

console_url="http://127.0.0.1:$p_console"
echo "run.sh: demo (pid $demo_pid): console $console_url, node http://127.0.0.1:$p_node"
# Wait for the console to answer (any HTTP status from /api/v1/me).
node -e '
  const url = process.argv[1];
  const end = Date.now() + 120000;
  (async () => {
    for (;;) {
      try { await fetch(url); process.exit(0); } catch {}
      if (Date.now() > end) { console.error("run.sh: the console did not answer at " + url); process.exit(1); }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
' "$console_url/api/v1/me"
kill -0 "$demo_pid" 2>/dev/null || { echo "run.sh: the demo exited" >&2; exit 1; }

set +e
(cd "$here" && CONSOLE_URL="$console_url" \
  NODE_URL="http://127.0.0.1:$p_node" \
  RAMPART_USER=admin \
  RAMPART_PASSWORD="$password" \
  SHOT_DIR="$shots" \
  CHROMIUM="$chromium" \
  node console.spec.mjs)
rc=$?
set -e
echo "run.sh: screenshots in $shots"
exit "$rc"
