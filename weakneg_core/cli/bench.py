"""`python -m weakneg_core bench`: the sampler benchmark (`make bench`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from ..errors import ConfigError
from .common import Command
from .format import json_safe


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="a 2,000-bag pool (CI): seconds instead of minutes")
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still goes to stderr)")
    p.add_argument("--repeats", type=int, default=None, help="timings per figure; the median is reported (default 3)")
    p.add_argument("--pool-size", type=int, default=None, help="negative bags in the pool (default 50,000; "
                                                               "k = pool / 10)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default 1: steadiest on a shared CPU)")
    p.add_argument("--skip-original-badge", action="store_true",
                   help="skip the slow original-BADGE reference (no speedup_vs_original then)")


def cmd_bench(args: argparse.Namespace) -> int:
    from ..bench import QUICK, BenchSettings, run_benchmark

    settings = QUICK if args.quick else BenchSettings()
    changes = {}
    if args.repeats is not None:
        if args.repeats < 1:
            raise ConfigError(f"--repeats must be at least 1, got {args.repeats}")
        changes["repeats"] = args.repeats
    if args.pool_size is not None:
        if args.pool_size < 10:
            raise ConfigError(f"--pool-size must be at least 10, got {args.pool_size}")
        changes.update(pool_size=args.pool_size, n_pos=max(1, args.pool_size // 20),
                       distinct_images=min(settings.distinct_images, args.pool_size * 5))
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {args.threads}")
        changes["threads"] = args.threads
    if args.skip_original_badge:
        changes["original_badge"] = False
    settings = dataclasses.replace(settings, **changes)
    stream = sys.stderr if args.json else sys.stdout  # with --json, stdout holds nothing but the JSON object

    def log(line: str) -> None:
        print(line, file=stream, flush=True)

    result = run_benchmark(settings, log)
    if args.json:
        print(json.dumps(json_safe(result)))
    else:
        print(summary(result))
    return 0


def summary(result: dict) -> str:
    g, b, goals = result["grad_embedding"], result["badge"], result["goals"]
    lines = ["", "summary (medians; ratios measured in this run)",
             f"  score samplers within 1.2x one inference pass: "
             f"{sum(goals['score_samplers_within_1.2x'].values())} of {len(goals['score_samplers_within_1.2x'])}",
             f"  set samplers' selection within 1x on top: "
             f"{sum(goals['set_samplers_select_within_1x'].values())} of {len(goals['set_samplers_select_within_1x'])}",
             f"  gradient embeddings: {g['speedup_vs_autograd']:.0f}x faster than per-bag autograd (extrapolated from "
             f"{g['autograd_bags']} bags), max abs diff {g['max_abs_diff']:.2e}"]
    if "speedup_vs_original" in b:
        lines.append(f"  BADGE k={b['k']} of {b['pool']}: {b['speedup_vs_original']:.1f}x faster than the original")
    return "\n".join(lines)


COMMANDS = [Command("bench", "time every sampler against one inference pass, gradient embeddings against autograd, "
                            "BADGE against the original", add_bench_arguments, cmd_bench)]
