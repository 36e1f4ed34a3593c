#!/usr/bin/env bash
# Instructions executed by `custos analyze`, without and with a detector, counted by callgrind:
# deterministic, so a change of a few percent shows on a machine whose wall clock varies by
# tens of percent from run to run (docs/PERFORMANCE.md). Needs valgrind and a release build.
#
#   scripts/bench-instructions.sh CAPTURE [DETECTOR ARGS...]
#   scripts/bench-instructions.sh /tmp/x4.pcap --detector flow --model fmA --allow-unsigned-model
#
# Runs one thread with --events summary (the engine issue's configuration). Prints the total
# instructions of each run, the input's packet count, and the detector's instructions a packet
# with and without the loading of its model (the detectors' `with_model`: reading, parsing and
# hashing the model files, a fixed cost that longer captures amortise).
# Keeps the callgrind files in target/bench/instructions/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:?usage: scripts/bench-instructions.sh CAPTURE [DETECTOR ARGS...]}
shift
bin=./target/release/custos
out=target/bench/instructions
mkdir -p "$out"
run() { # name, extra args...
    local name=$1
    shift
    rm -rf "$out/$name.dir"
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind" \
        "$bin" analyze "$cap" -o "$out/$name.dir" --threads 1 --events summary --quiet "$@" \
        > /dev/null 2> "$out/$name.log"
    callgrind_annotate "$out/$name.callgrind" 2> /dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
without=$(run without)
# The packet count from the run just measured (stats.json is written under callgrind too).
packets=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['packets'])" "$out/without.dir/stats.json")
echo "packets: $packets"
echo "without: $without instructions ($((without / packets)) a packet, the input's SHA-256 included)"
if [ $# -gt 0 ]; then
    with=$(run with "$@")
    # Annotated away from the sources: from the checkout, callgrind_annotate splits a function
    # between its relative and absolute source paths and the inclusive figure comes out short.
    load=$(cd "$out" && callgrind_annotate --inclusive=yes with.callgrind 2> /dev/null \
        | awk '/::with_model \[/ {gsub(",", "", $1); s += $1} END {print s + 0}')
    echo "with:    $with instructions (args: $*)"
    echo "detector: $(((with - without) / packets)) a packet; $(((with - without - load) / packets)) without its model's loading ($load)"
fi
