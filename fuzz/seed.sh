#!/bin/sh
# Fills fuzz/corpus/<target>/ with seeds taken from real captures.
#
#   fuzz/seed.sh [CORPUS_DIR]     (default: /work/shared/corpus)
#
# pcap_reader:   whole pcap / modified-pcap captures of at most 64 KiB (gzip ones decompressed).
# pcapng_reader: whole pcapng captures of at most 64 KiB (gzip ones decompressed).
# decoder:       frames extracted from every pcap/pcapng capture (gzip included) whose link type
#                the decoder target can select, written as <selector byte><frame>; plus groups of
#                consecutive frames, and groups of the IPv4/IPv6 fragments of a capture, joined
#                with the frame marker (see fuzz_targets/decoder.rs) so that reassembly state
#                carries across the frames of one input.
# rules_parse:   the rule files of seeds/rules_parse/ and suricata-verify's test.rules (by name).
# model_files, model_signature, evaluate_inputs, case_bundle, evidence_log: the files of
#                seeds/<target>/ (see README.md).
# Seeds are named by content hash, so re-running only adds what is missing.
set -eu
SRC=${1:-/work/shared/corpus}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$HERE/corpus/pcap_reader" "$HERE/corpus/pcapng_reader" "$HERE/corpus/decoder"
# ioc_load: the indicator files of custos-ioc's tests (plain list, CSV, STIX; good and broken).
mkdir -p "$HERE/corpus/ioc_load"
cp "$HERE/../crates/ioc/tests/data/"* "$HERE/corpus/ioc_load/"
# model_files, model_signature: seeds/<target>/ (a small flow model, its trees, a Kitsune model
# with and without its hash; a bundle the target's key signed, and its statement).
for t in model_files model_signature; do
    mkdir -p "$HERE/corpus/$t"
    cp "$HERE/seeds/$t/"* "$HERE/corpus/$t/"
done
# case_bundle, evidence_log: each file of the fixture behind its selector byte (path order);
# for bundles also with bit 7 set (SHA256SUMS rewritten to match).
for t in case_bundle evidence_log; do
    mkdir -p "$HERE/corpus/$t"
    case $t in case_bundle) d=bundle ;; *) d=log ;; esac
    i=0
    for f in $(cd "$HERE/seeds/$t/$d" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
        { printf "\\$(printf %03o $i)"; cat "$HERE/seeds/$t/$d/$f"; } > "$HERE/corpus/$t/seed-$i"
        if [ $t = case_bundle ]; then
            { printf "\\$(printf %03o $((i + 128)))"; cat "$HERE/seeds/$t/$d/$f"; } \
                > "$HERE/corpus/$t/seed-$i-sums"
        fi
        i=$((i + 1))
    done
done
# evaluate_inputs: each file of the fixture run behind its selector byte.
mkdir -p "$HERE/corpus/evaluate_inputs"
i=0
for f in labels.csv run/scores.csv run/alerts.jsonl run/stats.json run/flows.jsonl run/conn.log; do
    { printf "\\$(printf %03o $i)"; cat "$HERE/seeds/evaluate_inputs/$f"; } \
        > "$HERE/corpus/evaluate_inputs/seed-$i"
    i=$((i + 1))
done
# rules_parse: the hand-written rule files of seeds/rules_parse/ and suricata-verify's test.rules.
mkdir -p "$HERE/corpus/rules_parse"
cp "$HERE/seeds/rules_parse/"* "$HERE/corpus/rules_parse/"
for f in "$SRC"/suricata-verify/tests/*/test.rules; do
    if [ -f "$f" ]; then
        cp "$f" "$HERE/corpus/rules_parse/sv-$(basename "$(dirname "$f")").rules"
    fi
done
exec python3 - "$SRC" "$HERE/corpus" <<'PY'
import gzip, hashlib, os, struct, sys

src, out = sys.argv[1], sys.argv[2]
MAX_FILE = 64 * 1024
MAX_FRAME = 4000          # the decoder runs with -max_len=4096
MARKER = b"\xffNXT"
# Same order as custos_fuzz::LINKTYPES: the selector byte is the index.
LINKTYPES = [1, 101, 113, 276, 0, 108, 9, 228, 229, 12, 14, 50, 51, 105, 127]
PCAP_MAGICS = {0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34}
SINGLES_PER_FILE = 6
GROUPS_PER_FILE = 2

def write(target, data):
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(out, target, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0

def pcap_frames(b):
    m = b[:4]
    for endian in "<>":
        magic = struct.unpack(endian + "I", m)[0]
        if magic in PCAP_MAGICS:
            break
    else:
        return
    hlen = 24 if magic == 0xa1b2cd34 else 16
    lt = struct.unpack(endian + "I", b[20:24])[0] & 0xffff
    pos = 24
    while pos + hlen <= len(b):
        caplen = struct.unpack(endian + "I", b[pos + 8:pos + 12])[0]
        data = b[pos + hlen:pos + hlen + caplen]
        if len(data) < caplen:
            return
        yield lt, data
        pos += hlen + caplen

def pcapng_frames(b):
    pos, endian, ifaces = 0, "<", []
    while pos + 12 <= len(b):
        btype = struct.unpack(endian + "I", b[pos:pos + 4])[0]
        if b[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            endian = "<" if b[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype, ifaces = 0x0a0d0d0a, []
        blen = struct.unpack(endian + "I", b[pos + 4:pos + 8])[0]
        if blen < 12 or pos + blen > len(b):
            return
        body = b[pos + 8:pos + blen - 4]
        if btype == 1 and len(body) >= 2:
            ifaces.append(struct.unpack(endian + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, caplen = struct.unpack(endian + "IIII", body[:16])
            if iface < len(ifaces):
                yield ifaces[iface], body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and ifaces:
            yield ifaces[0], body[4:]
        pos += blen

def ip_start(lt, f):
    """Offset of the IP header for the common link types, else None."""
    if lt == 1:
        off, et = 14, f[12:14]
        while et in (b"\x81\x00", b"\x88\xa8") and len(f) >= off + 4:
            et, off = f[off + 2:off + 4], off + 4
        return off if et in (b"\x08\x00", b"\x86\xdd") else None
    return {101: 0, 12: 0, 14: 0, 228: 0, 229: 0, 113: 16, 276: 20, 0: 4, 108: 4}.get(lt)

def is_fragment(lt, f):
    o = ip_start(lt, f)
    if o is None or len(f) < o + 40:
        return False
    v = f[o] >> 4
    if v == 4:
        return struct.unpack(">H", f[o + 6:o + 8])[0] & 0x3fff != 0
    return v == 6 and f[o + 6] == 44

def groups(frames, n):
    """Up to n groups of consecutive frames, each joined with MARKER and below MAX_FRAME bytes."""
    res, cur = [], []
    for f in frames:
        if cur and sum(len(x) + 4 for x in cur) + len(f) > MAX_FRAME:
            res.append(cur)
            cur = []
            if len(res) >= n:
                break
        cur.append(f)
    if cur and len(res) < n:
        res.append(cur)
    return [g for g in res if len(g) > 1]

counts = {"pcap_reader": 0, "pcapng_reader": 0, "decoder": 0}
for root, _, files in os.walk(src):
    for name in sorted(files):
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        b = raw
        if raw[:2] == b"\x1f\x8b":
            try:
                b = gzip.decompress(raw)
            except Exception:
                continue
        if len(b) < 4:
            continue
        is_ng = b[:4] == b"\x0a\x0d\x0d\x0a"
        is_pcap = struct.unpack("<I", b[:4])[0] in PCAP_MAGICS or struct.unpack(">I", b[:4])[0] in PCAP_MAGICS
        if not (is_ng or is_pcap):
            continue
        if len(b) <= MAX_FILE:
            target = "pcapng_reader" if is_ng else "pcap_reader"
            counts[target] += write(target, b)
        try:
            frames = list((pcapng_frames if is_ng else pcap_frames)(b))
        except struct.error:
            frames = []
        by_lt = {}
        for lt, f in frames:
            if lt in LINKTYPES and len(f) <= MAX_FRAME:
                by_lt.setdefault(lt, []).append(f)
        for lt, fs in by_lt.items():
            sel = bytes([LINKTYPES.index(lt)])
            # Singles: the first frames and an even sample of the rest.
            step = max(1, len(fs) // SINGLES_PER_FILE)
            picks = {0, 1, 2} | set(range(0, len(fs), step))
            for i in sorted(picks)[:SINGLES_PER_FILE + 3]:
                if i < len(fs):
                    counts["decoder"] += write("decoder", sel + fs[i])
            for g in groups(fs, GROUPS_PER_FILE):
                counts["decoder"] += write("decoder", sel + MARKER.join(g))
            frags = [f for f in fs if is_fragment(lt, f)]
            for g in groups(frags, 8):
                counts["decoder"] += write("decoder", sel + MARKER.join(g))
                # Also 20 s apart (selector bit 0x80), to reach the reassembly timeout.
                counts["decoder"] += write("decoder", bytes([sel[0] | 0x80]) + MARKER.join(g))
for t, n in counts.items():
    print(f"{t}: {n} new seeds, {len(os.listdir(os.path.join(out, t)))} in total")
PY
