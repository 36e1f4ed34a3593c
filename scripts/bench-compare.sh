#!/usr/bin/env bash
# Decode + flow throughput of custos, ndpiReader and nfstream on the same capture, in one run.
# Needs: a release build (cargo build --release), ndpiReader (Debian libndpi-bin),
# nfstream (pip install nfstream). Usage: scripts/bench-compare.sh [CAPTURE]
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:-target/bench/iotlab-x47.pcap}
if [ ! -f "$cap" ]; then
    mkdir -p "$(dirname "$cap")"
    python3 scripts/make-bench-capture.py ../shared/reference/kitsune/iotlab-dev.pcap "$cap" 1500000
fi
cat "$cap" > /dev/null # into the page cache
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== custos bench (the engine without output: read + decode + flow + application layer + inventory, one thread)"
./target/release/custos bench "$cap" --iterations 4 --threads 1
echo "== custos analyze (everything, incl. writing conn.log / flows.jsonl)"
rm -rf target/bench/out && /usr/bin/time -f "wall %e s, user %U s, max RSS %M KiB" ./target/release/custos analyze "$cap" -o target/bench/out --quiet
grep -A2 '"run"' target/bench/out/stats.json
echo "== ndpiReader $(ndpiReader -h 2>&1 | grep -m1 -o 'nDPI [0-9.]*') (one thread)"
ndpiReader -i "$cap" -n 1 2>&1 | grep -E "Packet Processing Time|nDPI throughput|IP packets"
echo "== nfstream (statistical_analysis=True, n_meters=1)"
python3 scripts/bench-nfstream.py "$cap"
