#!/usr/bin/env bash
# Live capture benchmark: replays a capture over a veth pair (far end in a namespace this
# script creates, removed at exit) at several rates and prints, for each rate, with and without
# Kitsune, the frames custos read and the frames the kernel dropped. Needs root, iproute2 and
# tcpreplay. Usage: sudo scripts/bench-live.sh CAPTURE [BUFFER_BYTES] [RATES...]
set -euo pipefail
cap=$1; buf=${2:-33554432}; shift $(( $# > 1 ? 2 : 1 )); rates=${*:-"150000 300000 600000 topspeed"}
bin=${CUSTOS:-target/release/custos}
ns=custos-bench-$$; host=cbh$$; peer=cbp$$
cleanup() { ip link del "$host" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"; ip link add "$host" type veth peer name "$peer"; ip link set "$peer" netns "$ns"
sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1"; ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$peer.disable_ipv6=1"
ip link set "$host" up; ip netns exec "$ns" ip link set "$peer" up
out=$(mktemp -d)
echo "| detector | rate asked (pps) | rate sent (pps) | sent | read | kernel dropped | buffer bytes |"
echo "|---|---|---|---|---|---|---|"
for det in none kitsune; do
  for rate in $rates; do
    args=(analyze --interface "$host" --quiet --live-buffer "$buf" -o "$out/o")
    [ "$det" = kitsune ] && args+=(--detector kitsune --fm-grace 1000 --ad-grace 5000)
    "$bin" "${args[@]}" 2>/dev/null & pid=$!
    sleep 0.5
    if [ "$rate" = topspeed ]; then speed=--topspeed; else speed=--pps=$rate; fi
    res=$(ip netns exec "$ns" tcpreplay -i "$peer" "$speed" "$cap" 2>&1)
    sent=$(echo "$res" | awk '/Successful packets:/ {print $3}')
    pps=$(echo "$res" | sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1)
    sleep 2; kill -INT $pid; wait $pid || true
    python3 - "$out/o/stats.json" "$det" "$rate" "$pps" "$sent" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); l = s["live"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {s['packets']} | {l['kernel_dropped']} | {l['buffer_bytes']} |")
PY
  done
done
rm -rf "$out"
