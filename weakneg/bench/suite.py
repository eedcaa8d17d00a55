"""The sampler benchmark: every figure is a ratio of two timings taken in the same run.

A pool of negative bags of the default model (simple_cnn, mean_softmax head, bags of five 28x28
single-channel images shaped like Fashion-MNIST; random pixels, which cost the same to process) on the
CPU, scored by the trainer's own `Experiment.forward_all`. Reported, each the median of `repeats`:
- per sampler: (scoring pass + the sampler's selection) / one plain inference pass over the pool;
- gradient embeddings (closed form / head-only vmap) vs per-bag autograd: speed ratio per bag and max abs
  difference; autograd runs on a subset of `autograd_bags` bags and its per-bag time is extrapolated;
- BADGE's k-means++ selection vs a straightforward implementation of the original algorithm (dense
  embedding matrix, pairwise distances to the newest center, a scipy rv_discrete draw per pick).
The plain inference and scoring passes alternate slice by slice so that load from other processes on a shared
machine falls on both alike. Then the peers (`peers`: scikit-learn, scikit-activeml, the original
BADGE on identical inputs) and the epoch floor (`epoch`: our epoch against a minimal plain PyTorch
epoch on Fashion-MNIST bags). `--device cuda` runs the model, the scoring and our samplers on the GPU (the
peers are CPU libraries and stay there).
"""

from __future__ import annotations

import copy
import dataclasses
import statistics
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch

from . import peers
from .epoch import epoch_figures
from .reference import original_badge
from ..config import RunConfig
from ..data import LoadedBags
from ..data.bags import ImageBags
from ..models import HEADS
from ..models.gradients import autograd_embedding, gradient_embedding
from ..samplers import SAMPLERS, Pool
from ..samplers.badge import kmeans_pp_seeds
from ..train import Experiment

T = TypeVar("T")

# Our speed goals: score samplers within 1.2x one inference pass; set samplers' selection within 1x on top.
SCORE_GOAL, SELECT_GOAL, GRAD_SPEEDUP_GOAL, GRAD_DIFF_GOAL = 1.2, 1.0, 20.0, 1e-5
SET_SAMPLERS = ("badge", "coreset", "svm_margin", "adaptive", "mix")


@dataclass(frozen=True)
class BenchSettings:
    pool_size: int = 50_000  # negative bags
    n_pos: int = 2_500  # positive bags: k = 2 * n_pos at the paper's P-N ratio of 0.5
    repeats: int = 3
    autograd_bags: int = 1_000  # per-bag autograd runs on this many bags; its time per bag is extrapolated
    distinct_images: int = 20_000  # bags draw their 5 images from this many (memory; compute is per bag)
    seed: int = 0
    original_badge: bool = True
    chunks: int = 10  # the inference and scoring passes alternate over this many slices of the pool
    threads: int = 1  # torch threads: on a shared CPU one thread gives the steadiest timings (--threads to change)
    device: str = "cpu"
    peers: bool = True  # scikit-learn / scikit-activeml / original BADGE side by side
    peer_dims: tuple[int, ...] = (130, 170)  # BADGE embedding sizes: 2 * (d + 1) for d = 64, 84
    coreset_n: int = 20_000
    coreset_centres: int = 500
    coreset_k: int = 2_000
    d2_runs: int = 1_500  # pick sequences per implementation for the chi-square agreement
    epoch_floor: bool = True
    epoch_dataset: str = "fashion_mnist"
    epoch_instances: int = 20_000  # instances per split
    epoch_threads: int = 2

    @property
    def k(self) -> int:
        return min(2 * self.n_pos, self.pool_size)


QUICK = BenchSettings(
    pool_size=300,
    n_pos=15,
    repeats=3,
    autograd_bags=40,
    distinct_images=1_500,
    coreset_n=300,
    coreset_centres=15,
    coreset_k=30,
    d2_runs=200,
    epoch_dataset="digits",
    epoch_instances=0,
)


def synthetic_experiment(settings: BenchSettings) -> Experiment:
    """The trainer's Experiment over Fashion-MNIST-shaped bags of random pixels (first n_pos are positive)."""
    rng = np.random.default_rng(settings.seed)
    images = rng.integers(0, 256, size=(settings.distinct_images, 28, 28, 1), dtype=np.uint8)
    n_bags = settings.n_pos + settings.pool_size
    members = rng.integers(0, settings.distinct_images, size=(n_bags, 5))
    labels = np.r_[np.ones(settings.n_pos, dtype=np.int64), np.zeros(settings.pool_size, dtype=np.int64)]
    mean, std = np.array([0.5]), np.array([0.29])
    train = ImageBags(images, mean, std, members, labels, np.zeros((n_bags, 2), dtype=np.int16), np.arange(n_bags))
    test = train.subset(np.arange(min(n_bags, 10)))
    cfg = RunConfig(
        dataset="fashion_mnist",
        target_class=0,
        model="simple_cnn",
        head="mean_softmax",
        device=settings.device,
        seed=settings.seed,
        save_embeddings="none",
    )
    return Experiment(cfg, LoadedBags("synthetic", ["other", "target"], 1, train, test), None, None)


@torch.no_grad()
def plain_inference(experiment: Experiment, positions: np.ndarray) -> torch.Tensor:
    """One inference pass over these bags: the model's bag log-probabilities, nothing kept besides."""
    experiment.model.eval()
    outputs = [
        experiment.model(experiment.train_bags.inputs(batch))
        for batch in torch.as_tensor(positions).split(experiment.inference_batch(experiment.train_bags))
    ]
    return torch.cat(outputs)


def timed_passes(experiment: Experiment, chunks: int) -> tuple[float, float, Pool]:
    """(plain inference time, scoring time, the scored pool). The two passes alternate chunk by chunk, so a busy
    spell on a shared machine slows both alike; the scoring side is the trainer's `forward_all` over the pool,
    then `Experiment.pool_from` (which scores the positive bags), as `Experiment.score_pool` does."""
    t_inference = t_score = 0.0
    parts: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    for positions in np.array_split(experiment.pool, chunks):
        t_inference += timed(lambda: plain_inference(experiment, positions), 1)[0]
        t, part = timed(lambda: experiment.forward_all(experiment.train_bags, positions), 1)
        t_score, parts = t_score + t, parts + [part]
    start = time.perf_counter()
    log_probs, features, instances = (torch.cat(tensors) for tensors in zip(*parts))
    pool = experiment.pool_from((log_probs, features, instances), epoch=2)  # 2: past warm-up
    return t_inference, t_score + time.perf_counter() - start, pool


def timed(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """Median wall time over repeats, and the last result."""
    times: list[float] = []
    result: T
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_initialized():  # CUDA runs asynchronously: wait for the work before reading the clock
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fresh(pool: Pool) -> Pool:
    """The same pool without cached gradient embeddings, so each timing pays for its own."""
    return dataclasses.replace(pool, _grads={})


def run_benchmark(settings: BenchSettings = BenchSettings(), log: Callable[[str], None] = lambda _: None) -> dict:
    from threadpoolctl import threadpool_limits  # numpy / scikit-learn BLAS: the same thread count as torch

    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        with threadpool_limits(settings.threads):
            return _run(settings, log)
    finally:
        torch.set_num_threads(threads)


def _run(settings: BenchSettings, log: Callable[[str], None]) -> dict:
    torch.manual_seed(settings.seed)
    experiment = synthetic_experiment(settings)
    k = settings.k
    log(
        f"pool {settings.pool_size} negative bags + {settings.n_pos} positive, k = {k}, {settings.repeats} repeats, "
        f"{torch.get_num_threads()} torch thread(s)"
    )
    # Each repeat interleaves the two passes, then times every sampler on the freshly scored pool.
    times: dict[str, list[float]] = {"inference": [], "scoring": [], **{name: [] for name in SAMPLERS}}
    for repeat in range(settings.repeats):
        t_inference, t_score, pool = timed_passes(experiment, settings.chunks)
        times["inference"].append(t_inference)
        times["scoring"].append(t_score)
        for name, spec in SAMPLERS.items():
            times[name].append(timed(lambda: spec(fresh(pool), k, np.random.default_rng(settings.seed), {}), 1)[0])
        log(f"repeat {repeat + 1}: inference {times['inference'][-1]:.2f} s, scoring {t_score:.2f} s")
    median = {key: statistics.median(values) for key, values in times.items()}
    t_inference, t_score = median["inference"], median["scoring"]
    log(f"plain inference pass: {t_inference:.2f} s; scoring pass (pool + positives, features kept): {t_score:.2f} s")
    result: dict[str, Any] = {
        "settings": {**dataclasses.asdict(settings), "k": k, "model": "simple_cnn", "head": "mean_softmax"},
        "inference_s": t_inference,
        "scoring_s": t_score,
        "samplers": {},
    }
    for name in SAMPLERS:
        t_select = median[name]
        result["samplers"][name] = {
            "select_s": t_select,
            "select_vs_inference": t_select / t_inference,
            "cost_vs_inference": (t_score + t_select) / t_inference,
        }
        cost = result["samplers"][name]["cost_vs_inference"]
        log(f"  {name:17s} select {t_select:8.3f} s   (score + select) / inference {cost:6.3f}")
    result["grad_embedding"] = grad_embedding_figures(pool, settings, log)
    with_peers = settings.peers and peers.peers_available() is None
    # the peers section times the original BADGE too: run it once, there
    result["badge"] = badge_figures(
        pool, dataclasses.replace(settings, original_badge=settings.original_badge and not with_peers), log
    )
    if settings.peers:
        result["peers"] = peer_figures(pool, settings, log)
        original = [entry for entry in result["peers"].get("badge", {}).values() if "original_over_ours" in entry]
        if original:
            t_original = original[0]["peers"]["original BADGE"]["s"]
            result["badge"].update(
                original_s=t_original, speedup_vs_original=t_original / result["badge"]["ours_s"], original_from="peers"
            )
    if settings.epoch_floor:
        cfg = RunConfig(
            dataset=settings.epoch_dataset,
            target_class=0,
            max_instances=settings.epoch_instances,
            device=settings.device,
            seed=settings.seed,
        )
        result["epoch"] = epoch_figures(cfg, settings.repeats, settings.epoch_threads, log)
    result["goals"] = goals(result)
    return result


def peer_figures(pool: Pool, settings: BenchSettings, log: Callable[[str], None]) -> dict:
    missing = peers.peers_available()
    if missing:
        log(f"peers skipped: {missing}")
        return {"skipped": missing}
    pool = pool if pool.log_probs.device.type == "cpu" else _to_cpu(pool)
    log("peers (medians of interleaved repeats; the slowest peers run once):")
    figures = {
        "badge": peers.badge_peer_figures(
            pool, settings.k, settings.peer_dims, settings.repeats, settings.seed, settings.original_badge, log
        )
    }
    log(f"  BADGE agreement: chi-square of {settings.d2_runs} pick sequences (k = 3 of 6) per implementation")
    figures["d2_agreement"] = peers.d2_agreement(settings.d2_runs, settings.seed)
    n = min(settings.coreset_n, len(pool))
    figures["coreset"] = peers.coreset_peer_figures(
        pool, n, settings.coreset_centres, min(settings.coreset_k, n), settings.repeats, log
    )
    figures["uncertainty"] = peers.uncertainty_peer_figures(pool, settings.k, settings.repeats, settings.seed, log)
    return figures


def _to_cpu(pool: Pool) -> Pool:
    """The peers are CPU libraries: they get the pool's values on the CPU."""
    moved = {
        f.name: getattr(pool, f.name).cpu()
        for f in dataclasses.fields(pool)
        if isinstance(getattr(pool, f.name), torch.Tensor)
    }
    head = None if pool.head is None else copy.deepcopy(pool.head).cpu()
    return dataclasses.replace(pool, **moved, head=head, _grads={})


def grad_embedding_figures(pool: Pool, settings: BenchSettings, log: Callable[[str], None]) -> dict:
    features, n = pool.instance_features, len(pool)
    assert features is not None and pool.head is not None  # a scored pool (timed_passes)
    labels = torch.zeros(n, dtype=torch.long, device=features.device)
    subset = torch.as_tensor(
        np.random.default_rng(settings.seed).choice(n, min(settings.autograd_bags, n), replace=False)
    )
    heads = {}
    for name, head_type in HEADS.items():
        torch.manual_seed(settings.seed)
        head = pool.head if name == "mean_softmax" else head_type(features.shape[-1]).to(features.device)
        t_fast, embedding = timed(lambda: gradient_embedding(head, features, labels), settings.repeats)
        t_auto, reference = timed(lambda: autograd_embedding(head, features[subset], labels[subset]), 1)
        per_bag_auto = t_auto / len(subset)
        diff = float((embedding.matrix()[subset] - reference).abs().max()) if len(subset) else 0.0
        heads[name] = {
            "method": "closed form" if head.closed_form_gradient else "torch.func vmap(grad)",
            "fast_s": t_fast,
            "autograd_s_per_bag": per_bag_auto,
            "speedup_vs_autograd": per_bag_auto * n / t_fast,
            "max_abs_diff": diff,
        }
        log(
            f"gradient embeddings, {name:13s} ({heads[name]['method']}): {t_fast:.3f} s for {n} bags; autograd "
            f"{per_bag_auto * 1e3:.3f} ms/bag on {len(subset)} bags -> {heads[name]['speedup_vs_autograd']:.0f}x, "
            f"max abs diff {diff:.2e}"
        )
    default = heads["mean_softmax"]
    return {
        "speedup_vs_autograd": default["speedup_vs_autograd"],
        "max_abs_diff": default["max_abs_diff"],
        "autograd_bags": len(subset),
        "autograd_extrapolated": True,
        "heads": heads,
    }


def badge_figures(pool: Pool, settings: BenchSettings, log: Callable[[str], None]) -> dict:
    embedding, k = pool.grad_embedding("predicted"), settings.k
    t_ours, (ours, _) = timed(
        lambda: kmeans_pp_seeds(embedding, k, np.random.default_rng(settings.seed)), settings.repeats
    )
    figures = {"k": k, "pool": len(pool), "ours_s": t_ours, "distinct_picks": len(set(ours.tolist())) == k}
    log(f"BADGE k={k} of {len(pool)}: ours {t_ours:.2f} s")
    if settings.original_badge:
        matrix = embedding.matrix().cpu().numpy()  # the original works on the dense matrix; building it is not timed
        t_original, picks = timed(lambda: original_badge(matrix, k, settings.seed), settings.repeats)
        figures.update(original_s=t_original, speedup_vs_original=t_original / t_ours)
        log(f"BADGE original (dense, rv_discrete): {t_original:.2f} s -> ours is {t_original / t_ours:.1f}x faster")
    return figures


def goals(result: dict) -> dict:
    """Which speed goals this run reached (True / False per goal)."""
    inference = result["inference_s"]
    score_samplers = [n for n in result["samplers"] if n not in SET_SAMPLERS]
    grad = result["grad_embedding"]
    return {
        "score_samplers_within_1.2x": {
            n: result["samplers"][n]["cost_vs_inference"] <= SCORE_GOAL for n in score_samplers
        },
        "set_samplers_select_within_1x": {
            n: result["samplers"][n]["select_s"] / inference <= SELECT_GOAL
            for n in SET_SAMPLERS
            if n in result["samplers"]
        },
        "grad_embedding_20x_faster": grad["speedup_vs_autograd"] >= GRAD_SPEEDUP_GOAL,
        "grad_embedding_equal_1e-5": grad["max_abs_diff"] <= GRAD_DIFF_GOAL,
        **(peers.peer_goals(result["peers"]) if "badge" in result.get("peers", {}) else {}),
        **(
            {f"epoch_{name}_within_1.1x": met for name, met in result["epoch"]["goals"].items()}
            if "epoch" in result
            else {}
        ),
    }
