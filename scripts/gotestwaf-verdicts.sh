#!/usr/bin/env bash
# The GoTestWAF corpus through a server with Rampart, verdict by verdict.
#
#   gotestwaf-verdicts.sh record OUTDIR   # as a conformance script's RAMPART_AFTER_SUITE hook:
#                                         # RAMPART_HOOK_ADAPTER, _BACKEND, _BLOCK are set
#   gotestwaf-verdicts.sh compare OUTDIR  # every OUTDIR/*.json against OUTDIR/proxy.json
#
# `record` serves the conformance suite's echo backend at RAMPART_HOOK_BACKEND (the server's
# upstream), replays the corpus with ../shared/bench/wafbench.py against RAMPART_HOOK_BLOCK (the
# server in block mode with the suite's node-block.toml: 64 KiB body limit, larger bodies
# refused) and writes OUTDIR/<adapter>.json. "Blocked" is what never reaches the application:
# the echo backend answers 200 to everything, so 403 (Rampart), 413 (over the limit), and 400 or
# 404 (the server's own HTTP handling refused it before any module ran: NGINX answers 400 and
# Apache 404 to a %00 in the path) all are. `compare` lists such status differences too. `compare` fails when any
# request got a different verdict through an adapter than through the proxy node.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared=${RAMPART_SHARED:-$root/../shared}
cmd=${1:?record or compare}
out=${2:?OUTDIR}
mkdir -p "$out"
case "$cmd" in
record)
    suite=${RAMPART_CONFORMANCE:-${CARGO_TARGET_DIR:-$root/target}/debug/rampart-conformance}
    name=${RAMPART_HOOK_ADAPTER:?} backend=${RAMPART_HOOK_BACKEND:?} block=${RAMPART_HOOK_BLOCK:?}
    "$suite" backend --listen "$backend" >"$out/$name.backend.log" 2>&1 &
    bpid=$!
    trap 'kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true' EXIT
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/${backend%:*}/${backend##*:}") 2>/dev/null && break
        sleep 0.05
    done
    python3 "$shared/bench/wafbench.py" "$shared/corpus/gotestwaf/testcases" \
        --url "http://$block/" --block-status 400,403,404,413 --label "$name" \
        --json "$out/$name.json" --no-per-case >"$out/$name.txt"
    grep -iE "balanced|true-positive|true-negative|TPR|TNR" "$out/$name.txt" | head -6 | sed "s/^/$name: /"
    ;;
compare)
    python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def verdicts(p):
    d = json.load(open(p))
    return {r["id"]: (r["verdict"], r.get("status")) for r in d.get("records", [])}
base = verdicts(os.path.join(out, "proxy.json"))
bad = 0
for p in sorted(glob.glob(os.path.join(out, "*.json"))):
    name = os.path.splitext(os.path.basename(p))[0]
    if name == "proxy":
        continue
    v = verdicts(p)
    ids = sorted(set(base) | set(v))
    diff = [i for i in ids if (base.get(i) or (None,))[0] != (v.get(i) or (None,))[0]]
    status = [i for i in ids if i not in diff and base.get(i) != v.get(i)]
    same = len([i for i in base if i not in diff])
    print(f"gotestwaf {name}: {same} of {len(base)} requests with the proxy node's verdict, {len(diff)} different")
    for i in diff[:20]:
        print(f"  {i}: proxy {base.get(i)}, {name} {v.get(i)}")
    for i in status[:20]:
        print(f"  same verdict, other status: {i}: proxy {base.get(i)}, {name} {v.get(i)}")
    bad += len(diff)
if not base:
    print("gotestwaf: no proxy run recorded"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
    ;;
*) echo "usage: $0 record|compare OUTDIR" >&2; exit 2 ;;
esac
