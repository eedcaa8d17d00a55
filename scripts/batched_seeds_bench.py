"""Batched seeds against separate runs, timed in one process (issue 23, Deliver 5; docs/batched_seeds.md).

For S in --seeds (1, 2, 4 by default) it times S seeds of one setting trained as one stacked model
(weakneg.batched_seeds) and the same S seeds as separate `train.Experiment` runs one after another, both on bags
loaded beforehand, interleaved (which goes first alternates each repeat) and repeated; it prints the median wall time of
each and the ratio separate / stacked (above 1: stacking wins), per sampler.

    python scripts/batched_seeds_bench.py                                   # the CPU measurement (1 thread)
    python scripts/batched_seeds_bench.py --device cuda --threads 4         # on a GPU (scripts/device_bench.sh)
    python scripts/batched_seeds_bench.py --dataset digits --max-instances 0 --epochs 1 --seeds 1,2 --repeats 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's weakneg, wherever it runs from

from weakneg import threads  # noqa: E402
from weakneg.batched_seeds import load_seeds, train_seeds  # noqa: E402
from weakneg.config import RunConfig  # noqa: E402
from weakneg.data import LoadedBags  # noqa: E402
from weakneg.train import Experiment  # noqa: E402


def separate(cfg: RunConfig, seeds: list[int], data: list[LoadedBags]) -> float:
    start = time.perf_counter()
    for seed, bags in zip(seeds, data):
        Experiment(dataclasses.replace(cfg, seed=seed), bags, None, None).run()
    return time.perf_counter() - start


def stacked(cfg: RunConfig, seeds: list[int], data: list[LoadedBags]) -> float:
    start = time.perf_counter()
    train_seeds(cfg, seeds, data)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--max-instances", type=int, default=6000, help="instances per split (0: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samplers", default="random,grad_norm", help="comma-separated")
    parser.add_argument("--seeds", default="1,2,4", help="the stack sizes S to time, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each mode per S (median reported)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (weakneg.threads.apply)")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    args = parser.parse_args(argv)
    threads.apply(args.threads)
    sizes = [int(s) for s in args.seeds.split(",")]
    seeds = list(range(max(sizes)))
    rows: list[dict] = []
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    for sampler in args.samplers.split(","):
        cfg = RunConfig(
            dataset=args.dataset,
            target_class=0,
            sampler=sampler,
            epochs=args.epochs,
            max_instances=args.max_instances,
            save_embeddings="none",
            device=args.device,
        )
        data = load_seeds(cfg, seeds)
        warm = dataclasses.replace(cfg, epochs=1)  # first calls (kernels, allocator) paid outside the timings
        stacked(warm, seeds[:1], data[:1])
        separate(warm, seeds[:1], data[:1])
        for size in sizes:  # each stack size finished and printed before the next: a time limit keeps those
            times: dict[str, list[float]] = {"stacked": [], "separate": []}
            for repeat in range(args.repeats):
                for mode in ("stacked", "separate") if repeat % 2 == 0 else ("separate", "stacked"):
                    timed = stacked if mode == "stacked" else separate
                    times[mode].append(timed(cfg, seeds[:size], data[:size]))
            st, se = statistics.median(times["stacked"]), statistics.median(times["separate"])
            rows.append(
                {
                    "sampler": sampler,
                    "seeds": size,
                    "stacked_s": st,
                    "separate_s": se,
                    "ratio": se / st,
                    "stacked_all": times["stacked"],
                    "separate_all": times["separate"],
                }
            )
            print(
                f"{args.dataset} {args.max_instances or 'all'} instances, {args.epochs} epochs, {sampler:>9}, "
                f"S={size}: stacked {st:6.2f} s, separate {se:6.2f} s, separate/stacked {se / st:4.2f}x "
                f"(median of {args.repeats}, device {args.device}, {args.threads} thread(s))",
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
