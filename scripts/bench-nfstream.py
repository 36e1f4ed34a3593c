#!/usr/bin/env python3
"""Times nfstream (statistical_analysis=True, one meter) over a capture, for docs/PERFORMANCE.md.

Usage: python3 scripts/bench-nfstream.py CAPTURE
"""
import sys
import time

from nfstream import NFStreamer

path = sys.argv[1]
start = time.perf_counter()
flows = 0
packets = 0
for flow in NFStreamer(source=path, statistical_analysis=True, n_meters=1):
    flows += 1
    packets += flow.bidirectional_packets
secs = time.perf_counter() - start
print('{"tool":"nfstream","flows":%d,"packets_in_flows":%d,"seconds":%.3f,"packets_per_second":%.0f}' % (flows, packets, secs, packets / secs))
