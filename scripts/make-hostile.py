#!/usr/bin/env python3
"""Writes the hostile-input benchmark captures of docs/PERFORMANCE.md.

  fragments  N single 8-byte first fragments (MF set, offset 0) of UDP datagrams, each from a
             distinct source in 10.0.0.0/8 to 198.19.0.1, 1 µs apart: reassembly state that
             never completes, so every new datagram past the limit evicts one.
  udp        the same count of plain (unfragmented) UDP packets, the control for `fragments`.
  zeros      a pcap header followed by N zero-length records (every frame decodes to nothing).

Usage: python3 scripts/make-hostile.py fragments|udp|zeros OUTPUT.pcap [N]   (default 200000)
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


kind, out_path = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
if kind not in ("fragments", "udp", "zeros"):
    sys.exit("kind must be fragments, udp or zeros")
dst = bytes([198, 19, 0, 1])
eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
with open(out_path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(n):
        ts = 1_700_000_000_000_000 + i
        if kind == "zeros":
            out.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, 0, 0))
            continue
        src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
        udp = struct.pack("!HHHH", 1024 + i % 60000, 5683, 8 + 16, 0) + bytes(16)
        if kind == "fragments":
            payload, flags = udp[:8], 0x2000  # MF, offset 0: the rest never comes
        else:
            payload, flags = udp, 0
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), i & 0xFFFF, flags, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frame = eth + ip + payload
        out.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame)
print("wrote %s: %d %s packets" % (out_path, n, kind))
