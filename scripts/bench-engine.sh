#!/usr/bin/env bash
# The engine's speed on one capture: `custos analyze` at 1 and 2 threads with each event level
# (outputs on tmpfs, so the disk's write-back does not enter), `custos bench` (the engine
# without output) and `custos bench --detector kitsune`, and ndpiReader on the same file for
# context. Prints markdown tables of medians over RUNS runs.
# Usage: scripts/bench-engine.sh [CAPTURE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:-target/bench/iotlab-x47.pcap}; runs=${2:-3}
bin=target/release/custos
out=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$out"' EXIT
cat "$cap" > /dev/null
packets=$(python3 -c "import sys,struct; d=open(sys.argv[1],'rb').read(); n=0; o=24
while o+16<=len(d): n+=1; o+=16+struct.unpack_from('<I',d,o+8)[0]
print(n)" "$cap")
echo "capture: $cap ($packets packets), $(nproc) cores, $(date -u +%F)"
echo
echo "| events | threads | wall s (median of $runs) | CPU s (user+sys) | packets per wall s | packets per CPU s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
for ev in all summary none; do
  for t in 1 2; do
    rows=()
    for i in $(seq "$runs"); do
      rm -rf "$out/o"
      r=$( { /usr/bin/time -f "%e %U %S %M" "$bin" analyze "$cap" -o "$out/o" --quiet --threads "$t" --events "$ev" 2>&1 1>/dev/null; } | tail -1)
      rows+=("$r")
    done
    printf '%s\n' "${rows[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p" | awk -v ev="$ev" -v t="$t" -v n="$packets" \
      '{cpu=$2+$3; printf "| %s | %s | %.2f | %.2f | %.2f M | %.2f M | %.0f |\n", ev, t, $1, cpu, n/$1/1e6, n/cpu/1e6, $4/1024}'
  done
done
echo
for t in 1 2; do
  "$bin" bench "$cap" --iterations "$runs" --threads "$t" | tail -1
done
for t in 1 2; do
  "$bin" bench "$cap" --detector kitsune --threads "$t" | tail -1
done
if command -v ndpiReader >/dev/null; then
  echo "ndpiReader $(ndpiReader -h 2>&1 | grep -m1 -o 'nDPI [0-9.]*'), one thread:"
  ndpiReader -i "$cap" -n 1 2>&1 | grep -E "Packet Processing Time|nDPI throughput"
fi
