#!/usr/bin/env bash
# The whole test suite: the workspace, then the out-of-tree plugin examples
# (which load their libraries into the rampart binary the workspace build made).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
# The rule language's golden tests on both back-ends: the interpreter and
# the cranelift JIT (a cargo feature the node builds without).
cargo test -p rampart-dsl --features jit --locked
for ex in examples/plugins/*/; do
  [ -f "$ex/Cargo.toml" ] || continue
  echo "== $ex"
  cargo test --manifest-path "$ex/Cargo.toml"
done
