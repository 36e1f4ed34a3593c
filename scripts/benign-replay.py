#!/usr/bin/env python3
"""Multi-hour benign traffic from one benign capture: COPIES time-shifted copies back to back.

    scripts/benign-replay.py benign-long.pcap COPIES OUT.pcap [LABELS.csv]

With the labels `custos lab run` wrote, only the packets of the `benign` phase are copied: the
lab's `startup` (every device booting, DHCP, first connections) and `teardown` phases are not
steady benign traffic, and repeating them would make every copy a reboot of the whole network.
Copy k (0-based) is the input with every timestamp moved by k * (span + 1 s), span = last minus
first packet time, so the copies follow each other without overlap and packet time grows as in
one long capture. Flows of a copy restart with the same addresses and ports as the copy before
(as devices that reconnect do); nothing else changes. Classic pcap input (µs or ns, either byte
order), written in the input's own format.
"""
import struct
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    src, copies, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    keep = None
    if len(sys.argv) == 5:
        with open(sys.argv[4]) as f:
            next(f)
            keep = {int(l.split(",")[0]) for l in f if l.split(",")[2] == "benign"}
    data = open(src, "rb").read()
    magic = data[:4]
    formats = {
        b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
        b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
        b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
        b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
    }
    if magic not in formats:
        sys.exit(f"{src}: not a classic pcap file (magic {magic.hex()})")
    endian, per_sec = formats[magic]
    rec = struct.Struct(endian + "IIII")
    records = []
    records_seen = []
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = rec.unpack_from(data, pos)
        body = data[pos + 16 : pos + 16 + incl]
        if len(body) < incl:
            sys.exit(f"{src}: truncated record at byte offset {pos}")
        if keep is None or len(records_seen) in keep:
            records.append((sec * per_sec + frac, incl, orig, body))
        records_seen.append(pos)
        pos += 16 + incl
    if not records:
        sys.exit(f"{src}: no packets")
    span = records[-1][0] - records[0][0]
    shift = span + per_sec
    with open(dst, "wb") as out:
        out.write(data[:24])
        for k in range(copies):
            for t, incl, orig, body in records:
                t += k * shift
                out.write(rec.pack(t // per_sec, t % per_sec, incl, orig))
                out.write(body)
    hours = (span * copies + per_sec * (copies - 1)) / per_sec / 3600
    print(f"{dst}: {copies} copies of {len(records)} packets, {hours:.2f} h of packet time")


if __name__ == "__main__":
    main()
