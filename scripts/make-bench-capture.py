#!/usr/bin/env python3
"""Makes a large benchmark capture by time-shifted concatenation of a source pcap.

Each copy is shifted by the source's span plus 10 minutes, so flows of one copy have timed out
before the next begins (every copy is new traffic to the flow table).

Usage: python3 scripts/make-bench-capture.py SOURCE.pcap OUTPUT.pcap [MIN_PACKETS]
       (default MIN_PACKETS 1500000; SOURCE must be a classic little-endian pcap)
"""
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
min_packets = int(sys.argv[3]) if len(sys.argv) > 3 else 1_500_000
data = open(src, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic not in (0xA1B2C3D4, 0xA1B23C4D):
    sys.exit("source must be a little-endian pcap")
scale = 1_000_000 if magic == 0xA1B2C3D4 else 1_000_000_000
records = []
at = 24
while at + 16 <= len(data):
    sec, frac, caplen, origlen = struct.unpack("<IIII", data[at:at + 16])
    records.append((sec * scale + frac, data[at + 8:at + 16 + caplen]))
    at += 16 + caplen
first, last = records[0][0], records[-1][0]
shift = last - first + 600 * scale
copies = -(-min_packets // len(records))
with open(out, "wb") as f:
    f.write(data[:24])
    for k in range(copies):
        for ts, rest in records:
            t = ts + k * shift
            f.write(struct.pack("<II", t // scale, t % scale) + rest)
print("wrote %s: %d packets (%d copies of %s)" % (out, copies * len(records), copies, src))
