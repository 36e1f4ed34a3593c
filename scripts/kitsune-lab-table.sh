#!/usr/bin/env bash
# The threshold table of docs/kitsune.md: Kitsune with its default settings on every lab
# scenario, benign-long and a two-hour benign replay.
#
#   scripts/kitsune-lab-table.sh LABDIR [CUSTOS]
#
# LABDIR holds lab captures with their labels (made with `custos lab run`, root needed):
#   benign-long        custos lab run -s benign-long -o LABDIR/benign-long
#   benign-long-s6     custos lab run -s benign-long --seed 6 -o LABDIR/benign-long-s6
#   S (each scenario)  custos lab run -s S -o LABDIR/S
#   S-long             the scenario with its benign phase lengthened to 600 s, so Kitsune can
#                      train online on the network it then watches:
#                      custos lab show S | <benign duration_s = 600.0> > S-long.toml;
#                      custos lab run -s S-long.toml -o LABDIR/S-long
# Prints one JSON line per run (scripts/kitsune-lab-eval.py) and the SHA-256 of every capture.
set -euo pipefail
lab=$1
custos=${2:-target/release/custos}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
eval_run() { python3 "$here/kitsune-lab-eval.py" "$out/$1" "$2" "$1"; }

# Online: train (1000 + 10 000 packets) and calibrate (5000) on the scenario's own benign
# traffic, then detect.
# Where the benign warm-up holds fewer packets than the defaults need (16 001), training and
# calibration are scaled to fit it, keeping 5 % of it as margin: --fm-grace 1000, 60 % of the
# rest for --ad-grace, 40 % for --calibration.
settings() {
    python3 - "$1" <<'PY'
import csv, sys
rows = csv.DictReader(open(sys.argv[1]))
first = next((int(r["index"]) for r in rows if r["label"] == "1"), None)
if first is None or first * 0.95 >= 16001:
    print("")
else:
    rest = int(first * 0.95) - 1001
    print(f"--ad-grace {rest * 6 // 10} --calibration {rest * 4 // 10}")
PY
}
for s in smoke mitm mirai-like mqtt-abuse; do
    [ -f "$lab/$s-long.pcap" ] || continue
    extra=$(settings "$lab/$s-long.labels.csv")
    [ -n "$extra" ] && echo "$s-long: $extra" >&2
    # shellcheck disable=SC2086
    "$custos" analyze "$lab/$s-long.pcap" -o "$out/$s-long" -q --events none --detector kitsune $extra
    eval_run "$s-long" "$lab/$s-long.labels.csv"
done
"$custos" analyze "$lab/benign-long-s6.pcap" -o "$out/benign-long-s6" -q --events none --detector kitsune
eval_run benign-long-s6 "$lab/benign-long-s6.labels.csv"

# With a model trained on benign-long (seed 5), scoring captures it never saw.
"$custos" keygen --model -o "$out/signer" >/dev/null
"$custos" train --detector kitsune "$lab/benign-long.pcap" -o "$out/model" --sign "$out/signer.pem"
for s in smoke mitm mirai-like mqtt-abuse; do
    [ -f "$lab/$s.pcap" ] || continue
    "$custos" analyze "$lab/$s.pcap" -o "$out/$s-model" -q --events none --model "$out/model" --trust "$out/signer.pub"
    eval_run "$s-model" "$lab/$s.labels.csv"
done
"$custos" analyze "$lab/benign-long-s6.pcap" -o "$out/benign-long-s6-model" -q --events none --model "$out/model" --trust "$out/signer.pub"
eval_run benign-long-s6-model "$lab/benign-long-s6.labels.csv"

# Two hours of benign traffic: twelve time-shifted copies of benign-long-s6's benign phase.
python3 "$here/benign-replay.py" "$lab/benign-long-s6.pcap" 12 "$out/replay.pcap" "$lab/benign-long-s6.labels.csv" >&2
python3 - "$out/replay.pcap" "$out/replay.labels.csv" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
big = data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d")
per = 1e9 if data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
rec = struct.Struct((">" if big else "<") + "IIII")
pos, i = 24, 0
with open(sys.argv[2], "w") as out:
    out.write("index,label,phase,attacker,time\n")
    while pos + 16 <= len(data):
        sec, frac, incl, _ = rec.unpack_from(data, pos)
        out.write(f"{i},0,benign,0,{sec + frac / per:.9f}\n")
        pos += 16 + incl
        i += 1
PY
"$custos" analyze "$out/replay.pcap" -o "$out/replay-model" -q --events none --model "$out/model" --trust "$out/signer.pub"
eval_run replay-model "$out/replay.labels.csv"
sha256sum "$lab"/*.pcap >&2
