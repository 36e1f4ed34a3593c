#!/usr/bin/env python3
"""Writes a SYN flood capture: N TCP SYNs, 1 µs apart, each from a distinct (address, port) in
10.0.0.0/8 to 198.19.0.1:80, with correct checksums. For the flow-table memory measurement in
docs/PERFORMANCE.md.

Usage: python3 scripts/make-synflood.py OUTPUT.pcap [N]   (default N = 1000000)
"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


out_path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
dst = bytes([198, 19, 0, 1])
with open(out_path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, 80, (i * 2654435761) & 0xFFFFFFFF, 0, 0x50, 2, 64240, 0, 0)
        c = csum(src + dst + struct.pack("!BBH", 0, 6, 20) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        frame = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + tcp
        ts = 1_795_651_200 * 1_000_000 + i
        out.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame)
print("wrote %s: %d SYNs" % (out_path, n))
