#!/bin/sh
# Cuts the test captures of rules/iot.rules (rules/tests/) out of `custos lab` runs:
#   sudo custos lab run -s mqtt-abuse -o LAB/mqtt-abuse     (and mirai-like, benign-long,
#   iot-exposure), then: scripts/extract-rule-captures.sh LAB
# Packet ranges come from each run's labels.csv (the phase column); editcap counts from 1.
# iot-exposure is kept whole, with its phases as index ranges (iot-exposure.phases.csv);
# the floods are cut to their first seconds and gzipped (custos reads .pcap.gz).
set -eu
lab=${1:?usage: extract-rule-captures.sh LABDIR}
out=$(dirname "$0")/../rules/tests
tmp=$(mktemp -d)
# phase_range RUN PHASE: "first-last" editcap frame numbers of PHASE in RUN's labels.
phase_range() {
    awk -F, -v p="$2" 'NR > 1 && $3 == p { if (!f) f = $1 + 1; l = $1 + 1 } END { print f "-" l }' "$lab/$1.labels.csv"
}
# first_frames RUN PHASE N: the first N frames of PHASE in RUN.
first_frames() {
    awk -F, -v p="$2" -v n="$3" 'NR > 1 && $3 == p { if (!f) f = $1 + 1 } END { print f "-" f + n - 1 }' "$lab/$1.labels.csv"
}
editcap -r "$lab/mqtt-abuse.pcap" "$tmp/enum.pcap" "$(phase_range mqtt-abuse enumerate)"
tshark -r "$tmp/enum.pcap" -Y "tcp.port==1883" -w "$out/mqtt-enumerate.pcap"
editcap -r "$lab/mirai-like.pcap" "$tmp/bf.pcap" "$(phase_range mirai-like bruteforce)"
tshark -r "$tmp/bf.pcap" -Y "tcp.port==23" -w "$tmp/bf23.pcap"
editcap -r "$tmp/bf23.pcap" "$out/telnet-bruteforce.pcap" 1-350
stream=$(tshark -r "$lab/benign-long.pcap" -Y 'http.request.uri contains "firmware"' -T fields -e tcp.stream | head -1)
tshark -r "$lab/benign-long.pcap" -Y "tcp.stream==$stream" -w "$out/firmware-http.pcap"
# Floods: the first seconds of each, replies included.
editcap -r "$lab/mirai-like.pcap" "$tmp/syn.pcap" "$(first_frames mirai-like synflood 7500)"
editcap -r "$lab/mirai-like.pcap" "$tmp/udp.pcap" "$(first_frames mirai-like udpflood 12000)"
editcap -r "$lab/mqtt-abuse.pcap" "$tmp/mqtt.pcap" "$(first_frames mqtt-abuse flood 1500)"
tshark -r "$tmp/mqtt.pcap" -Y "tcp.port==1883 && ip.addr==198.18.0.66" -w "$tmp/mqtt-flood.pcap"
for f in syn udp mqtt; do
    src=$tmp/$f.pcap
    [ "$f" = mqtt ] && src=$tmp/mqtt-flood.pcap
    gzip -9n < "$src" > "$out/$f-flood.pcap.gz"
done
# iot-exposure whole, and its phases as index ranges.
gzip -9n < "$lab/iot-exposure.pcap" > "$out/iot-exposure.pcap.gz"
awk -F, 'NR == 1 { print "phase,first,last"; next }
    $3 != p { if (p != "") print p "," f "," l; p = $3; f = $1 } { l = $1 }
    END { print p "," f "," l }' "$lab/iot-exposure.labels.csv" > "$out/iot-exposure.phases.csv"
rm -r "$tmp"
