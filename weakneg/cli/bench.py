"""`python -m weakneg bench`: the sampler benchmark (`make bench`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..paths import home
from .common import Command
from .format import json_safe


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quick",
        action="store_true",
        help="a 300-bag pool and digits for the epoch floor (CI): seconds instead of minutes",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still goes to stderr)")
    p.add_argument("--repeats", type=int, default=None, help="timings per figure; the median is reported (default 3)")
    p.add_argument(
        "--pool-size", type=int, default=None, help="negative bags in the pool (default 50,000; k = pool / 10)"
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default 1: steadiest on a shared CPU)")
    p.add_argument(
        "--device",
        default=None,
        choices=["cpu", "cuda"],
        help="where the model, the scoring and our samplers run (default cpu; peers stay on the CPU)",
    )
    p.add_argument(
        "--skip-original-badge",
        action="store_true",
        help="skip the slow original-BADGE reference (no speedup_vs_original then)",
    )
    p.add_argument("--skip-peers", action="store_true", help="skip scikit-learn / scikit-activeml side by side")
    p.add_argument("--skip-epoch", action="store_true", help="skip the epoch-floor figures")
    p.add_argument(
        "--peer-dims", default=None, help="BADGE embedding sizes for the peers, comma-separated (default 130,170)"
    )
    p.add_argument(
        "--throughput",
        action="store_true",
        help="only the sweep figures: epoch time at 1, 2 and all threads (alone and two processes at once), a "
        "Fashion-MNIST sweep's runs per hour and efficiency, and the 12-run digits sweep against `run` one after "
        "another (minutes; --quick: a 2-run digits grid)",
    )
    p.add_argument(
        "--baseline-src",
        default=None,
        metavar="DIR",
        help="with --throughput: a source tree of an earlier release (e.g. `git archive 4041d7f | tar -x -C DIR`) "
        "that runs the same sweep for the speed-up",
    )
    p.add_argument(
        "--out",
        default=None,
        help="where to save the JSON result (default $WEAKNEG_HOME/bench/<UTC timestamp>.json; '-' saves nothing)",
    )


def cmd_bench(args: argparse.Namespace) -> int:
    from ..bench import QUICK, BenchSettings, run_benchmark

    if args.throughput:
        return throughput(args)
    if args.baseline_src:
        raise ConfigError("--baseline-src goes with --throughput")

    settings = QUICK if args.quick else BenchSettings()
    changes = {}
    if args.repeats is not None:
        if args.repeats < 1:
            raise ConfigError(f"--repeats must be at least 1, got {args.repeats}")
        changes["repeats"] = args.repeats
    if args.pool_size is not None:
        if args.pool_size < 10:
            raise ConfigError(f"--pool-size must be at least 10, got {args.pool_size}")
        changes.update(
            pool_size=args.pool_size,
            n_pos=max(1, args.pool_size // 20),
            distinct_images=min(settings.distinct_images, args.pool_size * 5),
        )
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {args.threads}")
        changes["threads"] = args.threads
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("--device cuda: torch sees no CUDA device on this machine")
    if args.device is not None:
        changes["device"] = args.device
    if args.skip_original_badge:
        changes["original_badge"] = False
    if args.skip_peers:
        changes["peers"] = False
    if args.skip_epoch:
        changes["epoch_floor"] = False
    if args.peer_dims is not None:
        try:
            dims = tuple(int(dim) for dim in args.peer_dims.split(","))
        except ValueError:
            dims = ()
        if not dims or any(dim < 4 or dim % 2 for dim in dims):
            raise ConfigError(f"--peer-dims takes even sizes of at least 4, comma-separated, got {args.peer_dims!r}")
        changes["peer_dims"] = dims
    settings = dataclasses.replace(settings, **changes)
    out = (
        None
        if args.out == "-"
        else Path(args.out)
        if args.out
        else home() / "bench" / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    )
    stream = sys.stderr if args.json else sys.stdout  # with --json, stdout holds nothing but the JSON object

    def log(line: str) -> None:
        print(line, file=stream, flush=True)

    result = run_benchmark(settings, log)
    result["when_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = json.dumps(json_safe(result))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        log(f"saved {out}")
    if args.json:
        print(text)
    else:
        print(summary(result))
    return 0


def throughput(args: argparse.Namespace) -> int:
    from ..bench.allocator import QUICK_RUN, RUN, allocator_figures
    from ..bench.throughput import DIGITS, FASHION, QUICK_GRID, thread_figures, throughput_figures

    baseline = Path(args.baseline_src) if args.baseline_src else None
    if baseline is not None and not (baseline / "weakneg" / "__main__.py").is_file():
        raise ConfigError(f"--baseline-src {baseline}: no weakneg/__main__.py there; unpack a release into it")
    stream = sys.stderr if args.json else sys.stdout

    def log(line: str) -> None:
        print(line, file=stream, flush=True)

    grid = QUICK_GRID if args.quick else FASHION
    log(f"threads: one epoch of {grid.dataset} ({grid.max_instances or 'all'} instances per split)")
    result: dict[str, Any] = {"threads": thread_figures(grid.dataset, grid.max_instances, log=log)}
    result.update(throughput_figures(grid, QUICK_GRID if args.quick else DIGITS, baseline, log))
    log("a multi-label soundscapes run with freed memory kept and not (weakneg.allocator)")
    result["allocator"] = allocator_figures(1 if args.quick else 2, QUICK_RUN if args.quick else RUN, log)
    result["when_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = json.dumps(json_safe(result))
    out = None if args.out == "-" else Path(args.out) if args.out else home() / "bench" / f"throughput-{_stamp()}.json"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
        log(f"saved {out}")
    if args.json:
        print(text)
    else:
        print(throughput_summary(result))
    return 0


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def throughput_summary(result: dict) -> str:
    user, t = result["user_check"], result["threads"]
    lines = [
        "",
        f"throughput (this machine: {result['cores']} cores, load average {result['load_average']['before']} "
        f"before, {result['load_average']['after']} after)",
        f"  threads: best {t['best']} (default per run: {t['default_run_threads']})",
        f"  {result['grid']['dataset']} sweep: {result['sweep_s']:.1f} s, {result['runs_per_hour']:.0f} runs/hour; "
        f"one at a time {result['one_at_a_time_s']:.1f} s; efficiency {result['efficiency']:.2f} on "
        f"{result['cores_in_use']} cores (goal >= 0.9: {verdict(result['goals']['efficiency_0.9'])})",
        f"  one at a time on one core (its maps too): {result['one_core_s']:.1f} s; efficiency "
        f"{result['efficiency_one_core']:.2f} (goal >= 0.9: {verdict(result['goals']['efficiency_one_core_0.9'])})",
    ]
    if "baseline_s" in result:
        lines.append(
            f"  baseline {result['baseline']}: {result['baseline_s']:.1f} s -> {result['speedup_vs_baseline']:.2f}x "
            f"faster (goal >= 2: {verdict(result['goals']['2x_faster_than_baseline'])})"
        )
    lines.append(
        f"  user's check: sweep {user['sweep_s']:.1f} s vs `run` one after another "
        f"{user['runs_one_after_another_s']:.1f} s -> {user['speedup']:.2f}x (goal >= 2: "
        f"{verdict(result['goals']['user_check_2x'])})"
    )
    if "allocator" in result:
        memory = result["allocator"]
        kept, plain = memory["kept"], memory["not_kept"]
        lines.append(
            f"  freed memory kept ({memory['run']}): {kept['wall_s']:.1f} s vs {plain['wall_s']:.1f} s -> "
            f"{memory['wall_ratio']:.2f}x the time, peak {kept['peak_gb']:.2f} vs {plain['peak_gb']:.2f} GB"
        )
    return "\n".join(lines)


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "NOT met"


def summary(result: dict) -> str:
    g, b, goals = result["grad_embedding"], result["badge"], result["goals"]
    lines = [
        "",
        "summary (medians; ratios measured in this run)",
        f"  score samplers within 1.2x one inference pass: "
        f"{sum(goals['score_samplers_within_1.2x'].values())} of {len(goals['score_samplers_within_1.2x'])}",
        f"  set samplers' selection within 1x on top: "
        f"{sum(goals['set_samplers_select_within_1x'].values())} of {len(goals['set_samplers_select_within_1x'])}",
        f"  gradient embeddings: {g['speedup_vs_autograd']:.0f}x faster than per-bag autograd (extrapolated from "
        f"{g['autograd_bags']} bags), max abs diff {g['max_abs_diff']:.2e}",
    ]
    if "speedup_vs_original" in b:
        lines.append(f"  BADGE k={b['k']} of {b['pool']}: {b['speedup_vs_original']:.1f}x faster than the original")
    peers = result.get("peers", {})
    if "skipped" in peers:
        lines.append(f"  peers: skipped ({peers['skipped']})")
    for dim, entry in peers.get("badge", {}).items():
        lines.append(f"  BADGE N={entry['n']} k={entry['k']} dim {dim}: ours {entry['ours_s']:.2f} s")
        for name, peer in entry["peers"].items():
            lines.append(f"    {name:34s} {peer['s']:8.2f} s   peer / ours {peer['peer_over_ours']:6.1f}")
    for name, figures in peers.get("d2_agreement", {}).items():
        lines.append(f"  D^2 agreement {name:46s} chi-square p = {figures['chi2_p']:.3g}")
    if "coreset" in peers:
        c = peers["coreset"]
        lines.append(
            f"  core-set N={c['n']} centres={c['centres']} k={c['k']}: ours {c['ours_s']:.2f} s, "
            f"scikit-activeml {c['peer_s']:.2f} s, peer / ours {c['peer_over_ours']:.1f}, "
            f"same picks: {c['same_picks']}"
        )
    for name, u in peers.get("uncertainty", {}).items():
        lines.append(
            f"  {name:17s} ours {u['ours_s']:.4f} s, scikit-activeml {u['peer_s']:.4f} s, peer / ours "
            f"{u['peer_over_ours']:.1f}, picks in common {u['picks_in_common']:.3f}"
        )
    if "epoch" in result:
        e = result["epoch"]
        lines.append(
            f"  epoch floor ({e['dataset']}, {e['n_pos']} positive bags, pool {e['pool']}, k {e['k']}, "
            f"{e['threads']} threads, {e['device']}): "
            + ", ".join(f"{name} {t:.2f} s" for name, t in e["seconds"].items())
        )
        for name, ratio in e["ratios"].items():
            lines.append(f"    {name:36s} {ratio:5.2f}  (goal <= 1.1: {verdict(e['goals'][name])})")
    lines.append("  goals:")
    for name, met in goals.items():
        if isinstance(met, dict):
            lines.append(f"    {name}: {sum(met.values())} of {len(met)} met")
        else:
            lines.append(f"    {name}: {verdict(met)}")
    return "\n".join(lines)


COMMANDS = [
    Command(
        "bench",
        "time every sampler against one inference pass, gradient embeddings against autograd, "
        "BADGE and core-set against scikit-learn / scikit-activeml / the original, and an epoch "
        "against a plain PyTorch loop",
        add_bench_arguments,
        cmd_bench,
    )
]
