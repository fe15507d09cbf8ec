#!/usr/bin/env bash
# Detection figures: replays the GoTestWAF corpus and the CRS regression tests with
# ../shared/bench/wafbench.py against `rampart demo` (a node in block mode in front of the demo
# shop), on 127.0.0.1 only. Prints the summaries; writes JSON runs under bench/results/.
#   bench/wafbench.sh            # both corpora
#   bench/wafbench.sh gotestwaf  # one of them
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${RAMPART_SHARED:-../shared}
which=${1:-all}
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet pyyaml
cargo build --release --quiet -p rampart
mkdir -p bench/results
data=$(mktemp -d)
port=${RAMPART_BENCH_PORT:-18480}
target/release/rampart demo --listen 127.0.0.1:$port --shop-listen 127.0.0.1:$((port + 1)) \
  --admin 127.0.0.1:$((port + 2)) --data "$data" > "$data/demo.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$((port + 2))/healthz" && break
  sleep 0.1
done
url="http://127.0.0.1:$port/"
if [ "$which" = all ] || [ "$which" = gotestwaf ]; then
  echo "== GoTestWAF"
  python3 "$shared/bench/wafbench.py" "$shared/corpus/gotestwaf/testcases" --url "$url" \
    --json bench/results/gotestwaf.json --no-per-case --show-bypasses 40 --show-false-positives 40
fi
if [ "$which" = all ] || [ "$which" = crs ]; then
  echo "== CRS regression tests (921, 930-934, 941-944)"
  python3 "$shared/bench/wafbench.py" "$shared/corpus/crs-regression/tests" --format crs \
    --test-set '^REQUEST-9(21|3[0-4]|4[1-4])' --url "$url" --json bench/results/crs.json \
    --no-per-case --show-bypasses 40 --show-false-positives 20
fi
