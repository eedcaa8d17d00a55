"""Several seeds of one binary setting trained at once, as one stacked model (an experiment: see
docs/batched_seeds.md for what it gave and why nothing else uses it).

Each seed keeps everything a separate `train.Experiment` run has: its own bags (bags depend on the seed), its own
initial weights (`torch.manual_seed(seed)` before the model is built), its own sampler generator per epoch, its
own shuffling generator, its own batches and its own Adam. Only the arithmetic is shared: the S models' parameters
live in one stacked tensor per parameter (`torch.func.stack_module_state`), and the scoring pass, the evaluation
and every training step run all S models in one call (`torch.func.vmap` over `functional_call`).

Why the results equal separate runs only to float tolerance, not bit for bit: under vmap a convolution of S
models becomes one grouped convolution and a linear layer one batched matmul, kernels that sum in another order
than the plain ones. The optimiser, by contrast, is exact: each seed's torch.optim.Adam steps its own model,
whose parameters are views into the stack, so a step is the very update a separate run makes on the same
gradient. tests/test_batched_seeds.py holds metrics and picks against separate runs.

Seeds do not all have the same number of bags, so batches are padded: a padding row has weight 0 in the loss
(it adds nothing to a gradient), and a seed whose epoch has no batch left at a step takes no optimiser step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, stack_module_state, vmap
from torch.nn import functional as F

from .config import RunConfig, negatives_per_epoch
from .data import BagSet, LoadedBags
from .errors import ConfigError
from .metrics import bag_metrics
from .models import BagModel, build_model, pick_device
from .run_result import RunResult, timed
from .samplers import Pool, SamplerSpec, Selection, get_sampler
from .store import FINISHED
from .train import prepare

Params = dict[str, torch.Tensor]
Outputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # log-probs (N, 2), bag features (N, d), instances


@dataclass
class SeedRun:
    """One seed's outcome: what `Experiment.run` returns, plus each resampled epoch's picks (pool positions)."""

    seed: int
    result: RunResult
    picks: list[np.ndarray] = field(default_factory=list)
    model: BagModel | None = None  # its trained model (parameters are views into the stack)


def check_batchable(cfg: RunConfig, data: Sequence[LoadedBags]) -> None:
    """ConfigError when this setting cannot be trained as a stack of seeds (what the prototype leaves out)."""
    what = None
    if any(d.multilabel for d in data):
        what = "a multi-label run"
    elif cfg.val_fraction or cfg.patience:
        what = "validation bags and early stopping (val_fraction, patience)"
    elif any(d.train.width(np.arange(len(d.train))) is not None for d in data):
        what = "bags of different sizes"
    if what is not None:
        raise ConfigError(f"batched seeds do not support {what} yet; run the seeds one by one (train.run_experiment)")


def load_seeds(cfg: RunConfig, seeds: Sequence[int]) -> list[LoadedBags]:
    """Each seed's bags, validated as a separate run's would be (bags, subsampling and splits depend on the seed)."""
    return [prepare(dataclasses.replace(cfg, seed=int(seed))) for seed in seeds]


class _Seed:
    """What one seed carries through the loop besides its slice of the stack."""

    def __init__(self, cfg: RunConfig, data: LoadedBags, model: BagModel, device: torch.device):
        self.cfg, self.data = cfg, data
        self.train_bags: BagSet = data.train.to(device)
        self.test_bags: BagSet = data.test.to(device)
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.positives = np.flatnonzero(self.train_bags.labels == 1)
        self.pool = np.flatnonzero(self.train_bags.labels == 0)
        self.k = negatives_per_epoch(len(self.positives), cfg.pn_ratio, len(self.pool), cfg.sampler)
        self.shuffle = torch.Generator().manual_seed(cfg.seed)
        self.chosen = np.array([], dtype=np.int64)
        self.train_labels = torch.as_tensor(self.train_bags.labels, device=device)

    def epoch_order(self) -> torch.Tensor:
        """This epoch's training bags in the order a separate run trains them (same generator, same calls)."""
        positions = torch.as_tensor(np.concatenate([self.positives, self.chosen]), dtype=torch.long)
        weights = self.train_bags.sample_weights(positions.numpy()) if self.cfg.weighted_sampling else None
        if weights is not None:
            order = torch.multinomial(
                torch.as_tensor(weights, dtype=torch.float), len(positions), True, generator=self.shuffle
            )
        else:
            order = torch.randperm(len(positions), generator=self.shuffle)
        return positions[order]


class StackedSeeds:
    """S seeds of one setting (`cfg` with its seed replaced by each of `seeds`), trained in one stacked model."""

    def __init__(self, cfg: RunConfig, seeds: Sequence[int], data: Sequence[LoadedBags] | None = None):
        if not seeds or len(set(seeds)) != len(seeds):
            raise ConfigError(f"batched seeds need distinct seeds, got {list(seeds)}")
        self.cfg = cfg
        self.seeds = [int(s) for s in seeds]
        loaded = list(data) if data is not None else load_seeds(cfg, self.seeds)
        if len(loaded) != len(self.seeds):
            raise ConfigError(f"{len(self.seeds)} seeds need {len(self.seeds)} loaded bag sets, got {len(loaded)}")
        check_batchable(cfg, loaded)
        self.device = pick_device(cfg.device)
        self.sampler: SamplerSpec = get_sampler(cfg.sampler)
        models = []
        for seed, bags in zip(self.seeds, loaded):
            torch.manual_seed(seed)  # the initial weights a separate run of this seed starts from
            model = build_model(cfg.model, cfg.head, bags.train.input_shape, bags.train.modality)
            models.append(model.to(self.device))
        if any(True for m in models for _ in m.buffers()):
            raise ConfigError(f"batched seeds do not support model {cfg.model!r} (it keeps running statistics)")
        params, _ = stack_module_state(models)
        self.params: Params = {name: p.detach() for name, p in params.items()}
        for s, model in enumerate(models):  # each seed's model now reads and writes its slice of the stack
            for name, p in model.named_parameters():
                p.data = self.params[name][s]
        self.base = models[0]  # the stack's structure; its own parameters are never read in functional calls
        self.seed_states = [
            _Seed(dataclasses.replace(cfg, seed=seed), bags, model, self.device)
            for seed, bags, model in zip(self.seeds, loaded, models)
        ]
        self.amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        self._forward = vmap(self._forward_one)
        self._step = vmap(grad_and_value(self._loss_one))

    # --- the functional model: one seed's parameters, one seed's batch ---------------------------------------

    def _part(self, params: Params, prefix: str) -> Params:
        return {name[len(prefix) :]: p for name, p in params.items() if name.startswith(prefix)}

    def _encode(self, params: Params, inputs: torch.Tensor) -> torch.Tensor:
        with self.amp:  # as a separate run: the encoder under autocast, the head in float32
            h = functional_call(self.base.encoder, self._part(params, "encoder."), (inputs,))
        return h.float()

    def _forward_one(self, params: Params, inputs: torch.Tensor) -> Outputs:
        h = self._encode(params, inputs)
        head = self._part(params, "head.")
        return functional_call(self.base.head, head, (h,)), _call_method(self.base.head, head, "pool", h), h

    def _loss_one(
        self, params: Params, inputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """A separate run's loss, -(targets * log_probs).sum(1).mean(), over the real rows only."""
        log_probs = functional_call(self.base.head, self._part(params, "head."), (self._encode(params, inputs),))
        per_bag = (targets * log_probs).sum(1)
        return -(weights * per_bag).sum() / weights.sum().clamp_min(1.0)  # padding rows weigh 0

    # --- the loop ----------------------------------------------------------------------------------------

    def run(self) -> list[SeedRun]:
        runs = [
            SeedRun(
                s.cfg.seed,
                RunResult(None, FINISHED, s.data.target_name, len(s.positives), len(s.pool), s.k),
                model=s.model,
            )
            for s in self.seed_states
        ]
        share = 1.0 / len(self.seed_states)  # each seed's record carries its share of the stacked time
        for epoch in range(1, self.cfg.epochs + 1):
            times: dict[str, float] = {}
            resampled = (epoch - 1) % self.cfg.resample_every == 0
            if resampled:
                with timed(times, "t_score"):
                    pools = self.score_pools(epoch)
                with timed(times, "t_select"):
                    for seed_state, run, pool in zip(self.seed_states, runs, pools):
                        selection = self.select(seed_state, pool, epoch)
                        seed_state.chosen = seed_state.pool[selection.indices]
                        run.picks.append(selection.indices)
            with timed(times, "t_train"):
                train_losses = self.train_epoch()
            with timed(times, "t_eval"):
                evaluations = self.evaluate()
            for seed_state, run, train_loss, evaluation in zip(self.seed_states, runs, train_losses, evaluations):
                record: dict[str, Any] = {**evaluation, "train_loss": train_loss}
                record.update({key: value * share for key, value in times.items()})
                record.update(epoch=epoch, n_pos=len(seed_state.positives), n_neg=len(seed_state.chosen))
                record.update(resampled=resampled)
                run.result.history.append(record)
        return runs

    # --- the steps ----------------------------------------------------------------------------------------

    @torch.no_grad()
    def forward_all(self, bag_sets: Sequence[BagSet], positions: Sequence[np.ndarray]) -> list[Outputs]:
        """One inference pass of every seed's model over its own bags, in the inference batches a separate run
        uses; a seed with fewer bags repeats its first bag to fill the stack, and those rows are dropped."""
        chunk = bag_sets[0].inference_batch * (8 if self.device.type == "cuda" else 1)
        parts: list[list[Outputs]] = [[] for _ in bag_sets]
        for start in range(0, max(len(p) for p in positions), chunk):
            batches = [torch.as_tensor(p[start : start + chunk], dtype=torch.long) for p in positions]
            inputs, counts = _stack_padded(bag_sets, batches, self.device)
            outputs = self._forward(self.params, inputs)
            for s, count in enumerate(counts):
                if count:
                    parts[s].append((outputs[0][s, :count], outputs[1][s, :count], outputs[2][s, :count]))
        return [_joined(p, self.device) for p in parts]

    def score_pools(self, epoch: int) -> list[Pool]:
        """Each seed's pool as its sampler needs it: nothing measured for random and full, else one stacked pass
        over every seed's pool (and its positive bags when the sampler reads them)."""
        states = self.seed_states
        if not self.sampler.uses_scores:
            return [_unscored_pool(len(s.pool), s.model, epoch, self.device) for s in states]
        pools = self.forward_all([s.train_bags for s in states], [s.pool for s in states])
        if self.sampler.uses_positives:
            positives = self.forward_all([s.train_bags for s in states], [s.positives for s in states])
        else:
            positives = [(lp[:0], f[:0], h[:0]) for lp, f, h in pools]
        return [
            Pool(
                log_probs,
                features,
                instances,
                torch.zeros(len(s.pool), dtype=torch.long, device=self.device),
                pos_log_probs,
                pos_features,
                s.model.head,
                epoch,
                positive_instance_features=pos_instances,
            )
            for s, (log_probs, features, instances), (pos_log_probs, pos_features, pos_instances) in zip(
                states, pools, positives
            )
        ]

    def select(self, seed_state: _Seed, pool: Pool, epoch: int) -> Selection:
        rng = np.random.default_rng([seed_state.cfg.seed, epoch])  # the generator a separate run draws from
        return self.sampler(pool, seed_state.k, rng, self.cfg.sampler_params)

    def train_epoch(self) -> list[float]:
        """One epoch for every seed: step t trains each seed on its own t-th batch, all seeds in one call."""
        states = self.seed_states
        for s in states:
            s.model.train()
        batches = [s.epoch_order().split(self.cfg.batch_size) for s in states]
        totals, counts = [0.0] * len(states), [0] * len(states)
        for step in range(max(len(b) for b in batches)):
            active = [step < len(b) for b in batches]
            inputs, targets, weights = [], [], []
            for s, seed_batches, is_active in zip(states, batches, active):
                batch = (seed_batches[step] if is_active else seed_batches[0][:1]).to(self.device)
                x = s.train_bags.inputs(batch)
                y = F.one_hot(s.train_labels[batch], 2).float()
                if self.cfg.augment and is_active:
                    x, y = s.train_bags.augment(x, y, s.shuffle)
                inputs.append(x)
                targets.append(y)
                weights.append(torch.full((len(batch),), float(is_active), device=self.device))
            grads, losses = self._step(self.params, _pad_stack(inputs), _pad_stack(targets), _pad_stack(weights))
            for index, (s, is_active) in enumerate(zip(states, active)):
                if not is_active:
                    continue  # its epoch is over: no step (Adam would move the weights even on a zero gradient)
                for name, p in s.model.named_parameters():
                    p.grad = grads[name][index]
                s.optimizer.step()
                size = len(batches[index][step])
                totals[index], counts[index] = totals[index] + losses[index].item() * size, counts[index] + size
        return [total / max(count, 1) for total, count in zip(totals, counts)]

    def evaluate(self) -> list[dict[str, float]]:
        states = self.seed_states
        for s in states:
            s.model.eval()
        outputs = self.forward_all([s.test_bags for s in states], [np.arange(len(s.test_bags)) for s in states])
        results = []
        for s, (log_probs, _, _) in zip(states, outputs):
            labels = torch.as_tensor(s.test_bags.labels, device=log_probs.device)
            loss = F.nll_loss(log_probs, labels).item() if len(s.test_bags) else float("nan")
            results.append({**bag_metrics(s.test_bags.labels, log_probs[:, 1].exp().cpu().numpy()), "loss": loss})
        return results


def train_seeds(cfg: RunConfig, seeds: Sequence[int], data: Sequence[LoadedBags] | None = None) -> list[SeedRun]:
    """Train `cfg` once per seed, all seeds in one stacked model; each SeedRun's history is what a separate run
    of that seed records (to float tolerance), with its picks."""
    return StackedSeeds(cfg, seeds, data).run()


# --- helpers ----------------------------------------------------------------------------------------------


def _call_method(module: nn.Module, params: Params, method: str, *args: torch.Tensor) -> torch.Tensor:
    """`module.<method>(*args)` with `params` in place of the module's own parameters."""
    return functional_call(_Method(module, method), {f"module.{name}": p for name, p in params.items()}, args)


class _Method(nn.Module):
    """A module whose forward is another method of a wrapped module (functional_call calls forward only)."""

    def __init__(self, module: nn.Module, method: str):
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        return getattr(self.module, self.method)(*args)


def _stack_padded(
    bag_sets: Sequence[BagSet], batches: Sequence[torch.Tensor], device: torch.device
) -> tuple[torch.Tensor, list[int]]:
    """Each seed's inputs for these positions, stacked (S, b, ...) after padding every seed to the largest batch
    with its own first bag; and how many rows of each seed are real."""
    width = max(len(b) for b in batches)
    inputs = []
    for bags, batch in zip(bag_sets, batches):
        filler = torch.zeros(width - len(batch), dtype=torch.long)
        inputs.append(bags.inputs(torch.cat([batch, filler]).to(device)))
    return torch.stack(inputs), [len(b) for b in batches]


def _pad_stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """(S, b, ...) from S tensors of up to b rows; the missing rows are zeros (weight 0 in the loss)."""
    width = max(len(t) for t in tensors)
    return torch.stack([torch.cat([t, t.new_zeros((width - len(t),) + t.shape[1:])]) for t in tensors])


def _joined(parts: list[Outputs], device: torch.device) -> Outputs:
    if not parts:
        empty = torch.empty(0, device=device)
        return empty.view(0, 2), empty, empty
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), torch.cat([p[2] for p in parts])


def _unscored_pool(n: int, model: BagModel, epoch: int, device: torch.device) -> Pool:
    """A pool of n bags with nothing measured (random and full read no scores), as train.Experiment builds it."""
    nothing = torch.empty(0, device=device)
    return Pool(
        torch.full((n, 2), float("nan"), device=device),
        nothing.view(n, 0),
        nothing.view(n, 0, 0),
        torch.zeros(n, dtype=torch.long, device=device),
        nothing.view(0, 2),
        nothing.view(0, 0),
        model.head,
        epoch,
    )
