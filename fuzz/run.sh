#!/bin/sh
# Runs one fuzz target the way the table in README.md was produced:
#   fuzz/run.sh <target> [extra libFuzzer flags]
# Logs go to fuzz/target/logs/<target>.log (libFuzzer's own output: fuzz/target/fuzz-0.log).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
T=$1; shift
case $T in decoder) MAXLEN=4096 ;; *) MAXLEN=65536 ;; esac
mkdir -p "$HERE/target/logs" "$HERE/corpus/$T"
cd "$HERE/target"   # -jobs=1 makes libFuzzer write fuzz-0.log into the current directory
RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run --fuzz-dir "$HERE" -s none "$T" -- \
  -jobs=1 -workers=1 -max_len=$MAXLEN -timeout=10 -print_final_stats=1 "$@" \
  > "$HERE/target/logs/$T.cargo.log" 2>&1 || true
cp fuzz-0.log "$HERE/target/logs/$T.log"
grep -E "^stat::|SUMMARY|panicked|Test unit written" "$HERE/target/logs/$T.log" || true
