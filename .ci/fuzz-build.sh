#!/usr/bin/env bash
# Builds the fuzz target (fuzz/fuzz_targets/decode_analyze.rs) with cargo-fuzz.
#
# cargo fuzz needs nightly compiler flags (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. To fuzz afterwards (CPU-heavy; see fuzz/README.md):
#   fuzz/seeds.sh && RUSTC_BOOTSTRAP=1 cargo fuzz run decode_analyze -- -max_total_time=600
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
RUSTC_BOOTSTRAP=1 cargo fuzz build -O decode_analyze
echo "fuzz target built: fuzz/target/x86_64-unknown-linux-gnu/release/decode_analyze"
