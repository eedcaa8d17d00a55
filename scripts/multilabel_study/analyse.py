"""Issue 22's show: one multi-label run against one run per class, per dataset and sampler (seeds 0-2): the CPU
cost ratio from times.log, and the AP difference per class (seeds averaged within a class, a t over the classes).
Usage: STUDY_DIR=... python scripts/multilabel_study/analyse.py [DATASET ...]"""

import json
import os
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

STUDY = Path(os.environ.get("STUDY_DIR", Path.home() / "weakneg-study"))
# (sampler, against one-class multi-label runs `c,` on the same bags; else binary runs `c`)
PAIRS = (("random", False), ("badge", False), ("random", True), ("badge", True), ("adaptive_multilabel", True))
LINE = re.compile(r"TIME (\S+) (\S+) (\S+) (\S+) (\S+) wall (\S+) user (\S+) sys (\S+)")


def times() -> tuple[dict, dict]:
    cpu, wall = {}, {}
    for line in (STUDY / "times.log").read_text().splitlines():
        if m := LINE.match(line):
            wall[m.groups()[:5]], cpu[m.groups()[:5]] = float(m[6]), float(m[7]) + float(m[8])
    return cpu, wall


def summary(dataset: str, kind: str, sampler: str, seed: int, target: str) -> dict | None:
    name = f"{dataset} {kind} {sampler} {seed} {target}".replace(" ", "_").replace(",", "_") + ".json"
    try:
        found = json.loads((STUDY / "out" / name).read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return found if found.get("status") == "finished" else None


def report(dataset: str, sampler: str, one_class: bool, cpu: dict, wall: dict) -> None:
    against = "one-class (same bags)" if one_class else "binary"
    deltas, ratios, ratios_wall, ml_cpu, one_cpu, better = defaultdict(list), [], [], [], [], []
    for seed in (0, 1, 2):
        ml = summary(dataset, "ml", sampler, seed, "all")
        targets = [f"{c}," if one_class else f"{c}" for c in range(len(ml["classes"]))] if ml else []
        ones = [summary(dataset, "one", sampler, seed, t) for t in targets]
        if not ml or not all(ones):
            continue
        keys = [(dataset, "one", sampler, str(seed), t) for t in targets]
        key = (dataset, "ml", sampler, str(seed), "all")
        if key in cpu and all(k in cpu for k in keys):
            ml_cpu.append(cpu[key])
            one_cpu.append(sum(cpu[k] for k in keys) / len(keys))
            ratios.append(sum(cpu[k] for k in keys) / cpu[key])
            ratios_wall.append(sum(wall[k] for k in keys) / wall[key])
        seed_deltas = [ml["per_class"][name]["ap"] - one["ap"] for name, one in zip(ml["classes"], ones)]
        for name, value in zip(ml["classes"], seed_deltas):
            deltas[name].append(value)
        better.append(sum(v > 0 for v in seed_deltas))
    if not deltas:
        print(f"{sampler} vs {against}: no complete seed")
        return
    per_class = np.array([np.mean(v) for v in deltas.values()])
    t = stats.ttest_1samp(per_class, 0.0)
    ci = t.confidence_interval(0.95)
    print(
        f"{sampler} vs {against}: seeds {len(better)}; AP delta {per_class.mean():+.4f} [{ci.low:+.4f}, "
        f"{ci.high:+.4f}] p {t.pvalue:.3g} over {len(per_class)} classes; better in {better} per seed"
    )
    if ratios:
        print(
            f"   CPU s a run: multi-label {statistics.median(ml_cpu):.0f}, one class {statistics.median(one_cpu):.0f}; "
            f"one-class runs / one multi-label run: CPU {', '.join(f'{r:.2f}x' for r in ratios)}, "
            f"wall {', '.join(f'{r:.2f}x' for r in ratios_wall)}"
        )


if __name__ == "__main__":
    cpu, wall = times()
    for dataset in sys.argv[1:] or ["fashion_mnist", "soundscapes"]:
        print(f"\n## {dataset}")
        for sampler, one_class in PAIRS:
            report(dataset, sampler, one_class, cpu, wall)
