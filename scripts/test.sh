#!/usr/bin/env bash
# The whole test suite: the workspace, then the out-of-tree plugin examples
# (which load their libraries into the rampart binary the workspace build made).
set -euo pipefail
cd "$(dirname "$0")/.."
# tests/hostile.rs opens 1,000 slow connections at once (this process and
# the node hold a socket each): raise the soft limit on open files.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo test --workspace --locked
# The workspace build has the rules JIT (the binary's default feature `jit`);
# the rule language and the engine's rules must also work without it, on the
# reference interpreter alone.
cargo test -p rampart-dsl --locked
cargo test -p rampart-core --test rules --locked
for ex in examples/plugins/*/; do
  [ -f "$ex/Cargo.toml" ] || continue
  echo "== $ex"
  cargo test --manifest-path "$ex/Cargo.toml"
done
# The server adapters against their real servers: the NGINX module (its own
# cargo workspace) and the conformance suite through NGINX, HAProxy and Apache.
scripts/adapters.sh
# The web console in headless Chromium against `rampart demo` (screenshots
# in target/console-screenshots/).
tests/browser/run.sh
