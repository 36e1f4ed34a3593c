#!/usr/bin/env python3
"""ROC AUC of custos' per-packet scores against per-packet labels (standard library only).

Usage: python3 scripts/auc.py SCORES.csv LABELS.csv [FIRST_INDEX]
  SCORES.csv: custos' `index,ts,score`; LABELS.csv: `index,label,phase,...` (custos lab or
  ../shared/reference/kitsune/iotlab-dev.labels.csv). Packets before FIRST_INDEX (default: the
  first packet with a non-zero score) are left out. Prints overall AUC and, per attack phase,
  the AUC of benign packets against that phase's attack packets; ties count half (Mann–Whitney).
"""
import csv
import sys


def auc(neg, pos):
    if not neg or not pos:
        return float("nan")
    items = sorted([(s, 0) for s in neg] + [(s, 1) for s in pos])
    rank_sum, i, n = 0.0, 0, len(items)
    while i < n:
        j = i
        while j + 1 < n and items[j + 1][0] == items[i][0]:
            j += 1
        avg = (i + j) / 2.0 + 1.0
        rank_sum += avg * sum(1 for k in range(i, j + 1) if items[k][1] == 1)
        i = j + 1
    return (rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg))


scores = {}
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        scores[int(row["index"])] = float(row["score"])
first = int(sys.argv[3]) if len(sys.argv) > 3 else min((i for i, s in scores.items() if s > 0), default=0)
labels = {}
with open(sys.argv[2]) as f:
    for row in csv.DictReader(f):
        labels[int(row["index"])] = (int(row["label"]), row["phase"])
neg = [scores[i] for i, (l, _) in labels.items() if i >= first and i in scores and l == 0]
pos = [scores[i] for i, (l, _) in labels.items() if i >= first and i in scores and l == 1]
print("packets %d..%d: benign %d, attack %d, AUC %.4f" % (first, max(scores), len(neg), len(pos), auc(neg, pos)))
for phase in sorted({p for (l, p) in labels.values() if l == 1}):
    ph = [scores[i] for i, (l, p) in labels.items() if i >= first and i in scores and l == 1 and p == phase]
    print("  %-10s %6d packets  AUC %.4f" % (phase, len(ph), auc(neg, ph)))
