#!/usr/bin/env python3
"""Scores a Kitsune run on a labelled lab capture, as docs/kitsune.md's table does.

    scripts/kitsune-lab-eval.py OUTDIR LABELS.csv [NAME]

Reads OUTDIR/alerts.jsonl (the alerts a user sees: at most one per flow and second unless
--alert-every-packet), OUTDIR/stats.json and the labels `custos lab run` wrote (index, label,
phase, attacker, time). Prints one JSON object: for each attack phase the alerts on its attack
packets; alerts on benign packets before the first attack packet; alerts on benign packets
after it; the benign packet time in which alerts were possible (from stats.json's
`detecting_from` to the first attack) and the false alerts per hour of it; the threshold.
"""
import csv
import json
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    out, labels_path = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) == 4 else out
    labels = []
    with open(labels_path) as f:
        for row in csv.DictReader(f):
            labels.append((row["label"] == "1", row["phase"], float(row["time"])))
    attack_idx = [i for i, (a, _, _) in enumerate(labels) if a]
    first_attack = attack_idx[0] if attack_idx else len(labels)
    phases = {}
    for a, p, _ in labels:
        if a:
            phases.setdefault(p, 0)
    pre, benign_after = 0, 0
    with open(f"{out}/alerts.jsonl") as f:
        for line in f:
            i = json.loads(line)["custos"]["packet"]
            is_attack, phase, _ = labels[i]
            if is_attack:
                phases[phase] += 1
            elif i < first_attack:
                pre += 1
            else:
                benign_after += 1
    stats = json.load(open(f"{out}/stats.json"))
    det = stats.get("detector", {})
    span_h = (labels[-1][2] - labels[0][2]) / 3600 if labels else 0
    # Benign time in which an alert was possible: from the first packet checked for attacks
    # (after online training and calibration, or a model's warm-up) to the first attack.
    start = (det.get("detecting_from") or {}).get("packet")
    end = first_attack - 1 if attack_idx else len(labels) - 1
    benign_h = (
        (labels[end][2] - labels[start][2]) / 3600 if start is not None and end > start else 0
    )
    print(json.dumps({
        "run": name,
        "packets": len(labels),
        "hours": round(span_h, 3),
        "attack_phases": phases,
        "phases_missed": sorted(p for p, n in phases.items() if n == 0),
        "alerts_before_first_attack": pre,
        "alerts_on_benign_after_first_attack": benign_after,
        "detecting_from_packet": start,
        "benign_hours_checked": round(benign_h, 3),
        "false_alerts_per_benign_hour": round(pre / benign_h, 2) if benign_h > 0 else None,
        "threshold": (det.get("threshold") or {}).get("value"),
        "warning": det.get("warning"),
    }))


if __name__ == "__main__":
    main()
