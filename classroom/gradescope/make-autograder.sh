#!/usr/bin/env bash
# Writes the Gradescope autograder zip: the workbook as committed (git archive HEAD), with
# setup.sh and run_autograder at the top, where Gradescope looks for them.
# Usage: classroom/gradescope/make-autograder.sh [OUT.zip]   (default: target/autograder.zip)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
out=${1:-$root/target/autograder.zip}
case $out in /*) ;; *) out="$PWD/$out" ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$root" archive --format=tar HEAD | tar -x -C "$tmp"
cp "$here/setup.sh" "$here/run_autograder" "$tmp/"
chmod +x "$tmp/setup.sh" "$tmp/run_autograder"
mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$tmp" && python3 -m zipfile -c "$out" ./*  .cargo)
echo "wrote $out: upload it as the assignment's autograder (Ubuntu base image)"
