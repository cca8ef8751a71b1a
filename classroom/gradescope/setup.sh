#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image. The zip that
# make-autograder.sh writes holds the workbook itself; Gradescope unpacks it into
# /autograder/source. Installs what the chapters' tests need and builds every chapter once,
# so grading a submission only recompiles the files the learner changed.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  build-essential pkg-config libssl-dev openssl python3 curl ca-certificates
if ! command -v cargo >/dev/null; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
# shellcheck disable=SC1091
source "$HOME/.cargo/env"
cd /autograder/source
cargo test --workspace --no-run -q
