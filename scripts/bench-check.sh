#!/usr/bin/env bash
# Edit-to-verdict time: how long `workbook check 0` takes after a one-line edit of the
# exercise, beside a bare `cargo test -p ch00-overview` after the same kind of edit and
# `rustlings run` on a solved rustlings exercise, interleaved in one run so that a busy
# machine slows all three alike. Prints min / median / max of RUNS runs (default 7).
#
#   scripts/bench-check.sh            chapter 00 solved (its tests pass: real handshakes)
#   scripts/bench-check.sh --shipped  chapter 00 as shipped (its tests fail on todo!())
#
# The exercise file is put back byte for byte when the script ends, however it ends.
# The workbook's state goes to a scratch folder, not to target/workbook.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-7}
MODE=solved
[ "${1:-}" = "--shipped" ] && MODE=shipped

FILE="$ROOT/exercises/00-overview/src/lib.rs"
SOLUTION="$ROOT/solutions/00-overview/src/lib.rs"
BIN="$ROOT/target/debug/workbook"

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/bench-check.XXXXXX")
cp -p "$FILE" "$SCRATCH/original.rs"
restore() {
  cp -p "$SCRATCH/original.rs" "$FILE"
  if cmp -s "$SCRATCH/original.rs" "$FILE"; then
    echo "restored $FILE exactly"
  else
    echo "WARNING: could not restore $FILE; the original is in $SCRATCH/original.rs" >&2
    return
  fi
  rm -rf "$SCRATCH"
}
trap restore EXIT
export WORKBOOK_STATE_DIR="$SCRATCH/state"
export NO_COLOR=1

cd "$ROOT"
if [ ! -x "$BIN" ]; then
  echo "building the workbook first (cargo build -p workbook)"
  cargo build -q -p workbook
fi

if [ "$MODE" = solved ]; then
  cp "$SOLUTION" "$SCRATCH/base.rs"
else
  cp "$SCRATCH/original.rs" "$SCRATCH/base.rs"
fi

# A one-line edit: the base file plus a comment line that differs every time.
EDIT=0
edit() {
  EDIT=$((EDIT + 1))
  { cat "$SCRATCH/base.rs"; echo "// bench-check edit $EDIT"; } > "$FILE"
}

# Seconds taken by a command, its output discarded; the exit code is ignored (a failing
# chapter is still a verdict).
timed() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# rustlings, if installed: a fresh project in the scratch folder, one solved exercise.
RUSTLINGS=""
if command -v rustlings >/dev/null 2>&1; then
  if (cd "$SCRATCH" && rustlings init >/dev/null 2>&1) && [ -d "$SCRATCH/rustlings" ]; then
    RL="$SCRATCH/rustlings"
    cp "$RL/solutions/03_if/if1.rs" "$RL/exercises/03_if/if1.rs"
    cp "$RL/exercises/03_if/if1.rs" "$SCRATCH/rl-base.rs"
    RUSTLINGS=yes
  else
    echo "rustlings is installed but \`rustlings init\` failed: skipped"
  fi
else
  echo "rustlings not installed: skipped (cargo install rustlings)"
fi
rl_edit() {
  { cat "$SCRATCH/rl-base.rs"; echo "// bench-check edit $EDIT"; } > "$RL/exercises/03_if/if1.rs"
}
rl_run() { (cd "$RL" && rustlings run if1); }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "chapter 00 $MODE; $RUNS runs each, interleaved; warming up..."
edit; timed "$BIN" check 0 >/dev/null
edit; timed cargo test -q -p ch00-overview >/dev/null
if [ -n "$RUSTLINGS" ]; then EDIT=$((EDIT + 1)); rl_edit; timed rl_run >/dev/null; fi

: > "$SCRATCH/workbook.times"
: > "$SCRATCH/cargo.times"
: > "$SCRATCH/rustlings.times"
for i in $(seq "$RUNS"); do
  edit; timed "$BIN" check 0 >> "$SCRATCH/workbook.times"
  edit; timed cargo test -p ch00-overview >> "$SCRATCH/cargo.times"
  if [ -n "$RUSTLINGS" ]; then EDIT=$((EDIT + 1)); rl_edit; timed rl_run >> "$SCRATCH/rustlings.times"; fi
  printf '  run %d: workbook %ss, cargo test %ss%s\n' "$i" \
    "$(tail -1 "$SCRATCH/workbook.times")" "$(tail -1 "$SCRATCH/cargo.times")" \
    "$([ -n "$RUSTLINGS" ] && printf ', rustlings %ss' "$(tail -1 "$SCRATCH/rustlings.times")")"
done

# The verdict of the last edit, to show the timing was of a real grade.
edit
"$BIN" check 0 | head -1 || true

stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "no runs"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "min %.2f s   median %.2f s   max %.2f s\n", v[1], m, v[NR] }'
}
echo
echo "edit-to-verdict, chapter 00 ($MODE), $RUNS runs:"
printf '  %-34s %s\n' "workbook check 0" "$(stats "$SCRATCH/workbook.times")"
printf '  %-34s %s\n' "cargo test -p ch00-overview" "$(stats "$SCRATCH/cargo.times")"
if [ -n "$RUSTLINGS" ]; then
  printf '  %-34s %s\n' "rustlings run if1 (solved)" "$(stats "$SCRATCH/rustlings.times")"
fi
