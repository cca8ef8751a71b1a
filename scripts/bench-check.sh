#!/usr/bin/env bash
# Edit-to-verdict time, on the README's own path: how long `cargo workbook check N` (the
# README's command; `cargo run -q -p workbook -- check N` under its alias) takes after a
# one-line edit, for EVERY chapter that chapters/ lists, with the solution's code in place
# (so the tests really run: real handshakes against real peers). Interleaved in the same run
# with `rustlings run` on a solved rustlings exercise after the same kind of edit, so that a
# busy machine slows both alike. Prints, per chapter, min / median / max of RUNS runs
# (default 7), the rustlings median of the runs interleaved with it, and the ratio. Last, the
# floor of this path on this machine: a one-test crate edited and tested the same way, plus
# the README's command with nothing to build.
#
#   scripts/bench-check.sh              every chapter
#   scripts/bench-check.sh 0 3          chapters 0 and 3 only
#   RUNS=11 scripts/bench-check.sh      more runs
#
# Nothing in this checkout is touched: the script copies the working tree (without
# target/) into a scratch folder, puts each solution's src/ into its exercise there, and
# seeds the copy's target/ from this one's (BENCH_SEED_TARGET=0 to build from nothing).
# The copy is removed at the end unless BENCH_KEEP=1.
#
# Goal (issue 7): every chapter's median at or below 1 s and at or below rustlings'.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-7}
export NO_COLOR=1

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/bench-check.XXXXXX")
cleanup() {
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
REPO="$SCRATCH/repo"

# --- The chapters: every chapters/NN-slug.toml, or those named on the command line.
chapters=()
for toml in "$ROOT"/chapters/*.toml; do
  name=$(basename "$toml" .toml)
  n=$((10#${name%%-*}))
  if [ $# -gt 0 ]; then
    want=no
    for a in "$@"; do [ "$((10#$a))" = "$n" ] && want=yes; done
    [ "$want" = yes ] || continue
  fi
  if [ ! -d "$ROOT/exercises/$name" ] || [ ! -d "$ROOT/solutions/$name/src" ]; then
    echo "chapter $name: no exercises/$name or solutions/$name/src: skipped"
    continue
  fi
  chapters+=("$name")
done
[ ${#chapters[@]} -gt 0 ] || { echo "no chapter to measure" >&2; exit 1; }

# --- The scratch copy: the working tree as it is (uncommitted chapters included).
echo "copying the workbook to $REPO ..."
mkdir -p "$REPO"
tar -C "$ROOT" --exclude=./target --exclude=./.git -cf - . | tar -C "$REPO" -xf -
if [ "${BENCH_SEED_TARGET:-1}" = 1 ] && [ -d "$ROOT/target/debug" ]; then
  # The dependencies' builds carry over; the workspace's own crates are rebuilt once in
  # the warm-up (their paths changed). incremental/ is only for those: not copied.
  mkdir -p "$REPO/target/debug"
  for d in deps build .fingerprint; do
    [ -d "$ROOT/target/debug/$d" ] && cp -a --reflink=auto "$ROOT/target/debug/$d" "$REPO/target/debug/"
  done
fi
for name in "${chapters[@]}"; do
  cp -r "$ROOT/solutions/$name/src/." "$REPO/exercises/$name/src/"
  cp "$REPO/exercises/$name/src/lib.rs" "$SCRATCH/$name.base.rs"
done

# A one-line edit: the solved file plus a comment line that differs every time.
EDIT=0
edit() {
  EDIT=$((EDIT + 1))
  { cat "$SCRATCH/$1.base.rs"; echo "// bench-check edit $EDIT"; } > "$REPO/exercises/$1/src/lib.rs"
}

# Seconds taken by a command, its output discarded: "wall cpu", where cpu is the user and
# system time of the command and every process it waited for (cargo, rustc, the test
# programs, their peers). On a busy machine the wall time mostly measures the wait for a
# core; the CPU time says what the command itself costs. The exit code is kept in $LAST_RC.
LAST_RC=0
timed() {
  local t rc=0
  t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1 || rc=$?; echo "rc=$rc" >&2; } 2>&1 )
  LAST_RC=$(printf '%s\n' "$t" | sed -n 's/^rc=//p')
  printf '%s\n' "$t" | awk '/^[0-9.]+ [0-9.]+ [0-9.]+$/ { printf "%.3f %.3f\n", $1, $2 + $3 }'
}

# The README's command, typed in the copy's root.
check() { (cd "$REPO" && cargo workbook check "$1"); }

# --- rustlings 6: a fresh project in the scratch folder, exercise if1 solved by hand (its
# shipped solutions/ files are placeholders until an exercise is done). It needs no network.
if ! command -v rustlings >/dev/null 2>&1; then
  echo "rustlings is not installed: installing it (cargo install rustlings --locked) ..."
  cargo install rustlings --locked >/dev/null 2>&1 ||
    { echo "cannot install rustlings: the comparison needs it" >&2; exit 1; }
fi
(cd "$SCRATCH" && rustlings init >/dev/null 2>&1) && [ -d "$SCRATCH/rustlings" ] ||
  { echo "\`rustlings init\` failed" >&2; exit 1; }
RL="$SCRATCH/rustlings"
awk '{ print } /^fn bigger\(a: i32, b: i32\) -> i32 \{$/ { print "    if a > b { a } else { b }" }' \
  "$RL/exercises/03_if/if1.rs" > "$SCRATCH/rl-base.rs"
rl_edit() {
  EDIT=$((EDIT + 1))
  { cat "$SCRATCH/rl-base.rs"; echo "// bench-check edit $EDIT"; } > "$RL/exercises/03_if/if1.rs"
}
rl_run() { (cd "$RL" && rustlings run if1); }

# --- The floor: what no chapter can beat on this path. A crate as small as a chapter can be
# (one function that makes one verified TLS connection with the openssl crate, one test
# against a real s_server through testkit and certs), edited and tested the same way, plus
# the outer `cargo run` of the README's command with nothing to build. It lives in the copy
# only (exercises/ is a workspace glob there too).
FLOOR="$REPO/exercises/zz-floor"
mkdir -p "$FLOOR/src" "$FLOOR/tests"
cat > "$FLOOR/Cargo.toml" <<'TOML'
[package]
name = "zz-floor"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
test = false
doctest = false

[dependencies]
openssl.workspace = true

[dev-dependencies]
certs.workspace = true
testkit.workspace = true
TOML
cat > "$SCRATCH/floor.base.rs" <<'RUST'
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use openssl::ssl::{SslConnector, SslMethod};

/// One verified TLS connection; the negotiated version.
pub fn version(addr: SocketAddr, ca: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    b.set_ca_file(ca)?;
    let tls = b.build().connect("localhost", TcpStream::connect(addr)?)?;
    Ok(tls.ssl().version_str().to_string())
}
RUST
cat > "$FLOOR/tests/floor.rs" <<'RUST'
testkit::no_system_trust!();

#[test]
fn one_handshake_with_s_server() {
    let files = certs::Files::new().unwrap();
    let server = testkit::peers::SServer::with_identity(&files, "server", &["-www"]);
    let v = testkit::call("version", move || {
        zz_floor::version(server.addr, &files.path("ca.crt")).map_err(|e| e.to_string())
    });
    assert_eq!(v.as_deref(), Ok("TLSv1.3"));
}
RUST
floor_edit() {
  EDIT=$((EDIT + 1))
  { cat "$SCRATCH/floor.base.rs"; echo "// bench-check edit $EDIT"; } > "$FLOOR/src/lib.rs"
}
floor_test() { (cd "$REPO" && cargo test -q -p zz-floor -- --test-threads=4); }
outer_only() { (cd "$REPO" && cargo workbook --version); }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(rustlings --version)"
echo "warming up (builds the copy's workbook and each chapter once) ..."
rl_edit; timed rl_run >/dev/null
[ "$LAST_RC" = 0 ] || { echo "rustlings run if1 fails on the solved exercise" >&2; rl_run || true; exit 1; }
floor_edit; timed floor_test >/dev/null
[ "$LAST_RC" = 0 ] || { echo "the floor crate's test fails" >&2; floor_test || true; exit 1; }
for name in "${chapters[@]}"; do
  n=$((10#${name%%-*}))
  edit "$name"; timed check "$n" >/dev/null
  if [ "$LAST_RC" != 0 ]; then
    echo "WARNING: \`cargo workbook check $n\` does not pass with the solution in place:" >&2
    check "$n" 2>&1 | head -20 >&2 || true
  fi
done

stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f\n", v[1], m, v[NR] }'
}

: > "$SCRATCH/table"
for name in "${chapters[@]}"; do
  n=$((10#${name%%-*}))
  : > "$SCRATCH/wb.times"
  : > "$SCRATCH/rl.times"
  for i in $(seq "$RUNS"); do
    edit "$name"; timed check "$n" >> "$SCRATCH/wb.times"
    rc=$LAST_RC
    rl_edit; timed rl_run >> "$SCRATCH/rl.times"
    read -r w c < <(tail -1 "$SCRATCH/wb.times")
    read -r rw rc2 < <(tail -1 "$SCRATCH/rl.times")
    printf '  chapter %02d run %d: check %ss (cpu %ss, exit %d), rustlings %ss (cpu %ss)\n' \
      "$n" "$i" "$w" "$c" "$rc" "$rw" "$rc2"
  done
  read -r mn md mx < <(cut -d' ' -f1 "$SCRATCH/wb.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
  read -r _ cpu _ < <(cut -d' ' -f2 "$SCRATCH/wb.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
  read -r _ rlmd _ < <(cut -d' ' -f1 "$SCRATCH/rl.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
  read -r _ rlcpu _ < <(cut -d' ' -f2 "$SCRATCH/rl.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
  ratio=$(awk -v a="$md" -v b="$rlmd" 'BEGIN { printf "%.2f", a / b }')
  cratio=$(awk -v a="$cpu" -v b="$rlcpu" 'BEGIN { printf "%.2f", a / b }')
  verdict=$(check "$n" 2>/dev/null | head -1 || true)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$mn" "$md" "$mx" "$rlmd" "$ratio" \
    "$cpu" "$rlcpu" "$cratio" "$verdict" >> "$SCRATCH/table"
done

echo
echo "edit-to-verdict, \`cargo workbook check N\` after a one-line edit, solution in place, $RUNS runs each,"
echo "interleaved with \`rustlings run if1\` (solved) after the same edit:"
echo "(wall: seconds until the verdict; cpu: median user+system seconds, children included)"
printf '  %-28s %6s %7s %6s %10s %6s   %6s %7s %6s  %s\n' chapter min median max rustlings ratio \
  cpu rl-cpu ratio goal
while IFS=$'\t' read -r name mn md mx rlmd ratio cpu rlcpu cratio verdict; do
  goal=$(awk -v m="$md" -v r="$rlmd" 'BEGIN { print (m <= 1.0 && m <= r) ? "met" : "NOT met" }')
  printf '  %-28s %5ss %6ss %5ss %9ss %6s   %5ss %6ss %6s  %s\n' "$name" "$mn" "$md" "$mx" "$rlmd" \
    "$ratio" "$cpu" "$rlcpu" "$cratio" "$goal"
  printf '  %-28s %s\n' "" "last verdict: $verdict"
done < "$SCRATCH/table"

: > "$SCRATCH/floor.times"
: > "$SCRATCH/outer.times"
for i in $(seq "$RUNS"); do
  floor_edit; timed floor_test >> "$SCRATCH/floor.times"
  timed outer_only >> "$SCRATCH/outer.times"
done
read -r _ fmd _ < <(cut -d' ' -f1 "$SCRATCH/floor.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
read -r _ omd _ < <(cut -d' ' -f1 "$SCRATCH/outer.times" > "$SCRATCH/w"; stats "$SCRATCH/w")
echo
echo "the floor, $RUNS runs each (medians): a one-test crate (openssl, certs, testkit, one handshake"
echo "with s_server) after the same edit, \`cargo test -p\` ${fmd}s; the README's command with"
echo "nothing to build (\`cargo workbook --version\`) ${omd}s; together $(awk -v a="$fmd" -v b="$omd" \
  'BEGIN { printf "%.2f", a + b }')s. No chapter's check can be faster on this machine."
