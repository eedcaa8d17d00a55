"""An epoch against its floor: our trainer's epoch next to a minimal plain PyTorch epoch on the same bags.

The plain epoch is what any script would do: draw k random negatives, train one pass over positives +
negatives (same model, optimiser, batch size, data layer), then predict the test bags and take their AP.
An informed sampler cannot cost less than that plus one inference pass over the pool (its scores), so:
- `random` against the plain epoch (goal: at most 1.1x: it scores nothing);
- `grad_norm` and `badge` against plain epoch + one plain inference pass over the pool (goal: at most 1.1x).
Every entry has its own model; rounds interleave the entries after one untimed warm-up round, and each
figure is the median over rounds.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torch.nn import functional as F

from ..config import RunConfig, negatives_per_epoch
from ..data import LoadedBags
from ..models import build_model, pick_device
from ..train import Experiment, prepare

EPOCH_GOAL = 1.1
OUR_SAMPLERS = ("random", "grad_norm", "badge")


class PlainEpoch:
    """The minimal loop, written as a plain PyTorch script would be (no scoring, no records, no cancel checks)."""

    def __init__(self, cfg: RunConfig, data: LoadedBags):
        self.cfg, self.device = cfg, pick_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.train, self.test = data.train.to(self.device), data.test.to(self.device)
        self.model = build_model(cfg.model, cfg.head, self.train.input_shape, self.train.modality).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.labels = torch.as_tensor(self.train.labels, device=self.device)
        self.positives = np.flatnonzero(self.train.labels == 1)
        self.pool = np.flatnonzero(self.train.labels == 0)
        self.k = negatives_per_epoch(len(self.positives), cfg.pn_ratio, len(self.pool), "random")
        self.batch = self.train.inference_batch * (8 if self.device.type == "cuda" else 1)
        self.rng = np.random.default_rng(cfg.seed)

    def epoch(self) -> float:
        chosen = np.concatenate([self.positives, self.rng.choice(self.pool, self.k, replace=False)])
        positions = torch.as_tensor(chosen)[torch.randperm(len(chosen))]
        self.model.train()
        for batch in positions.split(self.cfg.batch_size):
            batch = batch.to(self.device)
            loss = F.nll_loss(self.model(self.train.inputs(batch)), self.labels[batch])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        scores = self.predict(self.test, np.arange(len(self.test)))[:, 1].exp().cpu().numpy()
        return float(average_precision_score(self.test.labels, scores))

    @torch.no_grad()
    def predict(self, bags, positions: np.ndarray) -> torch.Tensor:
        self.model.eval()
        return torch.cat(
            [self.model(bags.inputs(batch.to(self.device))) for batch in torch.as_tensor(positions).split(self.batch)]
        )

    def inference_pass(self) -> torch.Tensor:
        """One plain inference pass over the negative pool: the least any scoring sampler must pay."""
        return self.predict(self.train, self.pool)


def epoch_figures(cfg: RunConfig, repeats: int, threads: int, log: Callable[[str], None]) -> dict:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _epoch_figures(cfg, repeats, log)
    finally:
        torch.set_num_threads(before)


def _epoch_figures(cfg: RunConfig, repeats: int, log: Callable[[str], None]) -> dict:
    cfg = dataclasses.replace(cfg, epochs=1, save_embeddings="none")
    data = prepare(cfg)
    plain = PlainEpoch(cfg, data)
    ours = {name: Experiment(dataclasses.replace(cfg, sampler=name), data, None, None) for name in OUR_SAMPLERS}
    runs: dict[str, Callable[[], object]] = {
        "plain epoch": plain.epoch,
        "plain inference pass": plain.inference_pass,
        **{f"ours {name}": ours[name].run for name in OUR_SAMPLERS},
    }
    log(
        f"epoch floor: {cfg.dataset} ({cfg.max_instances or 'all'} instances per split), {len(plain.positives)} "
        f"positive bags, pool {len(plain.pool)}, k {plain.k}, {torch.get_num_threads()} torch thread(s), "
        f"device {plain.device}"
    )
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(repeats + 1):  # round 0 warms up (allocations, first-call dispatch) and is not kept
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            if plain.device.type == "cuda":
                torch.cuda.synchronize()
            if round_:
                times[name].append(time.perf_counter() - start)
        if round_:
            log(
                "  round "
                + str(round_)
                + ": "
                + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.items())
            )
    median = {name: statistics.median(values) for name, values in times.items()}
    floor_informed = median["plain epoch"] + median["plain inference pass"]
    ratios = {
        "random_vs_plain_epoch": median["ours random"] / median["plain epoch"],
        "grad_norm_vs_epoch_plus_inference": median["ours grad_norm"] / floor_informed,
        "badge_vs_epoch_plus_inference": median["ours badge"] / floor_informed,
    }
    return {
        "dataset": cfg.dataset,
        "max_instances": cfg.max_instances,
        "n_pos": len(plain.positives),
        "pool": len(plain.pool),
        "k": plain.k,
        "threads": torch.get_num_threads(),
        "device": str(plain.device),
        "repeats": repeats,
        "seconds": median,
        "ratios": ratios,
        "goals": {name: ratio <= EPOCH_GOAL for name, ratio in ratios.items()},
    }
