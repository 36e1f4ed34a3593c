#!/bin/sh
# Cuts the small test captures of rules/iot.rules (rules/tests/*.pcap) out of `custos lab`
# runs: sudo custos lab run -s mqtt-abuse -o LAB/mqtt-abuse (and mirai-like, benign-long),
# then: scripts/extract-rule-captures.sh LAB
# Packet ranges are those of the phases in each run's labels.csv (enumerate: 1084–1688,
# bruteforce: 1460–3087 in the committed excerpts' runs); editcap counts from 1.
set -eu
lab=${1:?usage: extract-rule-captures.sh LABDIR}
out=$(dirname "$0")/../rules/tests
tmp=$(mktemp -d)
editcap -r "$lab/mqtt-abuse.pcap" "$tmp/enum.pcap" 1085-1689
tshark -r "$tmp/enum.pcap" -Y "tcp.port==1883" -w "$out/mqtt-enumerate.pcap"
editcap -r "$lab/mirai-like.pcap" "$tmp/bf.pcap" 1461-3088
tshark -r "$tmp/bf.pcap" -Y "tcp.port==23" -w "$tmp/bf23.pcap"
editcap -r "$tmp/bf23.pcap" "$out/telnet-bruteforce.pcap" 1-350
stream=$(tshark -r "$lab/benign-long.pcap" -Y 'http.request.uri contains "firmware"' -T fields -e tcp.stream | head -1)
tshark -r "$lab/benign-long.pcap" -Y "tcp.stream==$stream" -w "$out/firmware-http.pcap"
rm -r "$tmp"
