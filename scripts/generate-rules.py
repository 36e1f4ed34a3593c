#!/usr/bin/env python3
"""Writes N generated Suricata-language content rules for `custos bench --rules`.

Deterministic (seeded): payload rules on TCP and UDP and application rules on the sticky
buffers custos fills (HTTP, DNS, TLS, MQTT), with random 5-10 byte patterns and a mix of
nocase, depth/offset and relative second contents. Random patterns rarely match: the set
measures the cost of carrying rules, as a large real rule set mostly does.

Usage: scripts/generate-rules.py N [SEED] > bench.rules
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-"


def pattern():
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 10)))


headers = [
    ("tcp", None, "any any -> any any"),
    ("udp", None, "any any -> any any"),
    ("http", "http.uri", "any any -> any any"),
    ("http", "http.host", "any any -> any any"),
    ("http", "http.user_agent", "any any -> any any"),
    ("dns", "dns.query", "any any -> any any"),
    ("tls", "tls.sni", "any any -> any any"),
    ("mqtt", "mqtt.publish.topic", "any any -> any any"),
    ("mqtt", "mqtt.connect.clientid", "any any -> any any"),
]
for i in range(n):
    proto, buf, hdr = headers[i % len(headers)]
    opts = [f'msg:"generated {i}"']
    if proto in ("tcp", "udp"):
        opts.append("flow:to_server" if proto == "tcp" else "")
    if buf:
        opts.append(buf)
    opts.append(f'content:"{pattern()}"')
    r = rng.random()
    if r < 0.3:
        opts.append("nocase")
    elif r < 0.5 and not buf:
        opts.append(f"depth:{rng.randint(20, 200)}")
    if rng.random() < 0.3:
        opts.append(f'content:"{pattern()}"')
        opts.append(f"distance:0")
    opts.append(f"sid:{1000000 + i}")
    opts.append("rev:1")
    body = "; ".join(o for o in opts if o) + ";"
    print(f"alert {proto} {hdr} ({body})")
