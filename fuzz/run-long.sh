#!/usr/bin/env bash
# The long fuzzing run; see fuzz/README.md. Builds what it needs, then runs
#   - cargo-fuzz (libFuzzer, coverage-guided) on the agent's Message::decode
#     and on frame_io::read_frame,
#   - the TypeScript properties (object readers, decodeMessage, FrameSplitter)
#     over a million inputs or more, in worker threads,
#   - the TypeScript and Rust decoders side by side on the same payloads,
# and prints how many inputs were tried and how many failures were found.
# Exits non-zero if there were failures. Extra arguments go to long-run.js,
# e.g. `fuzz/run-long.sh --inputs 3000000 --seed 7`.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
DECODE_RUNS="${IPBP_FUZZ_DECODE_RUNS:-5000000}"
FRAMES_RUNS="${IPBP_FUZZ_FRAMES_RUNS:-2000000}"
TS_INPUTS="${IPBP_FUZZ_INPUTS:-2000000}"

npx tsc -p fuzz/tsconfig.json

if cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo +nightly fuzz build --fuzz-dir fuzz -O -a -s address decode
  cargo +nightly fuzz build --fuzz-dir fuzz -O -a -s none frames
else
  echo "cargo-fuzz or the nightly toolchain is missing (cargo install cargo-fuzz): skipping the coverage-guided part" >&2
  DECODE_RUNS=0
  FRAMES_RUNS=0
fi
# The Rust side of the differential check; a plain stable build.
cargo build --quiet --release --manifest-path fuzz/Cargo.toml --bin verdicts

exec node dist/fuzz/long-run.js \
  --inputs "$TS_INPUTS" --workers 2 \
  --cargo-decode-runs "$DECODE_RUNS" --cargo-frames-runs "$FRAMES_RUNS" \
  --differential 200000 "$@"
