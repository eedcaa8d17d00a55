"""The epoch loop: score the negative pool -> select k negatives -> train -> evaluate -> record.

One readable loop. `run_experiment` is what the CLI, the app's workers and the sweeps all call.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import random
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from .config import RunConfig, check_negatives, negatives_per_epoch, negatives_warning
from .data import BagSet, LoadedBags, load_bags
from .errors import ConfigError, RunCancelled, WeaknegError
from .metrics import bag_metrics
from .models import build_model, pick_device
from .models.evidence import instance_evidence
from .models.gradients import gradient_embedding
from .models.ragged import pad_width
from .run_result import Result, RunResult, timed
from .samplers import Pool, Selection, get_sampler
from .samplers.params import embedding_label
from .store import CANCELLED, FAILED, FINISHED, RunStore
from .store.epoch_record import BagArrays, EpochArrays, EvidenceArrays, PoolArrays
from .train_multilabel import MultiLabelLoop

CHECK_EVERY_S = 1.0  # how often training looks for a cancel request


EpochCallback = Callable[[dict[str, Any]], None]


class ChangedBags(WeaknegError):
    """A run's checkpoint was written on other bags than its config builds now: resuming would not be that run."""


@dataclass
class LoopState:
    """What the loop carries from one epoch to the next besides the model and optimiser: the current negatives and
    the early-stopping state. Saved in every checkpoint, restored on resume."""

    first_epoch: int = 1  # the next epoch to run
    chosen: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # pool positions in use
    best_val: float = -np.inf  # best validation AP so far
    best_state: dict | None = None  # the model's weights at that epoch
    stale: int = 0  # epochs since it improved
    stopped: bool = False  # early stopping ended the run

    def note_validation(self, val_ap: float, model: torch.nn.Module, result: RunResult, epoch: int, patience: int):
        """Early stopping: a better validation AP (a multi-label run's: its mAP) keeps this epoch's weights and
        becomes the result's best epoch; `patience` epochs without one stop the run."""
        score = -np.inf if np.isnan(val_ap) else val_ap
        if score > self.best_val:
            self.best_val, self.best_state, self.stale = score, copy.deepcopy(model.state_dict()), 0
            result.best_epoch = epoch
        else:
            self.stale += 1
            self.stopped = bool(patience and self.stale >= patience)


def prepare(
    cfg: RunConfig,
    on_phase: Callable[[str], None] | None = None,
    load: Callable[[RunConfig, Callable[[str], None] | None], LoadedBags] = load_bags,
) -> LoadedBags:
    """Validate a config against its data (raises ConfigError / DatasetMissing); nothing is written.
    `on_phase(name)` is called as each phase of loading begins; `load`: how to build the bags (a warm worker
    passes `data.cache.cached_load_bags`)."""
    cfg.validate()
    data = load(cfg, on_phase)
    check_run_negatives(cfg, data)
    return data


def check_run_negatives(cfg: RunConfig, data: LoadedBags) -> None:
    """k >= 1 for the run's class, or for every class of a multi-label run (ConfigError naming the class)."""
    if data.multilabel:
        class_negatives(cfg, data)
        return
    labels = data.train.labels
    check_negatives(int((labels == 1).sum()), cfg.pn_ratio, int((labels == 0).sum()), cfg.sampler)


def class_sizes(data: LoadedBags) -> list[tuple[str, int, int]]:
    """A multi-label run's (class, positive bags, pool) per class: its positives carry it, its pool lacks it."""
    held = np.asarray(data.train.contents)[:, data.targets] > 0
    return [(name, int(has.sum()), int((~has).sum())) for name, has in zip(data.target_names, held.T)]


def class_negatives(cfg: RunConfig, data: LoadedBags) -> list[tuple[str, int, int, int]]:
    """A multi-label run's (class, positive bags, pool, k) per class; ConfigError naming the class when a class
    would have no negatives per epoch."""
    counts = []
    for name, n_pos, pool in class_sizes(data):
        try:
            counts.append((name, n_pos, pool, check_negatives(n_pos, cfg.pn_ratio, pool, cfg.sampler)))
        except ConfigError as error:
            raise ConfigError(f"class {name!r}: {error}") from None
    return counts


def sampler_warnings(cfg: RunConfig, data: LoadedBags) -> list[str]:
    """What a person should know before a run starts (k covering the whole pool: the sampler has no effect)."""
    if data.multilabel:
        found = [(n, negatives_warning(n_pos, cfg.pn_ratio, pool, cfg.sampler)) for n, n_pos, pool in class_sizes(data)]
        return [f"class {name!r}: {warning}" for name, warning in found if warning]
    labels = data.train.labels
    warning = negatives_warning(int((labels == 1).sum()), cfg.pn_ratio, int((labels == 0).sum()), cfg.sampler)
    return [warning] if warning else []


def run_experiment(
    cfg: RunConfig,
    store: RunStore | None = None,
    run_id: int | None = None,
    on_epoch: EpochCallback | None = None,
    data: LoadedBags | None = None,
    before_finish: Callable[[], None] | None = None,
) -> RunResult:
    """Run one experiment. With a store, records everything; `run_id` continues a queued run. `before_finish`:
    called just before a finished or cancelled run is recorded as such (a warm worker claims its next run there).

    Invalid configs and missing data raise before anything is written (or mark the queued run failed).
    """
    try:
        data = data or prepare(cfg)
        experiment = experiment_kind(data)(cfg, data, store, run_id)
    except WeaknegError as error:
        if store is not None and run_id is not None:
            store.finish_run(run_id, FAILED, error=str(error))
        raise
    experiment.before_finish = before_finish
    return experiment.run(on_epoch)


def experiment_kind(data: LoadedBags) -> type:
    """The binary loop, or for a run of several classes the multi-label one (train_multilabel.py)."""
    return MultiLabelExperiment if data.multilabel else Experiment


class Experiment:
    def __init__(self, cfg: RunConfig, data: LoadedBags, store: RunStore | None, run_id: int | None):
        self.cfg, self.data, self.store = cfg, data, store
        self.device = pick_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.train_bags = data.train.to(self.device)
        self.test_bags = data.test.to(self.device)
        self.val_bags = data.val.to(self.device) if data.val is not None else None
        self.model = build_model(cfg.model, cfg.head, self.train_bags.input_shape, self.train_bags.modality).to(
            self.device
        )
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sampler = get_sampler(cfg.sampler)
        self.positives = np.flatnonzero(self.train_bags.labels == 1)
        self.pool = np.flatnonzero(self.train_bags.labels == 0)
        self.k = negatives_per_epoch(len(self.positives), cfg.pn_ratio, len(self.pool), cfg.sampler)
        self.shuffle = torch.Generator().manual_seed(cfg.seed)
        self.amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        self.selection: Selection | None = None  # the latest selection and the pool it was made on
        self.pool_view: Pool | None = None
        self.always_score = False  # callers that show every epoch's pool predictions (the playground) set it
        self.before_finish: Callable[[], None] | None = None  # see run_experiment
        self.run_id = run_id
        if store is not None and run_id is None:
            self.run_id = store.create_run(cfg.to_dict())
        self._last_check = 0.0

    # --- the loop ------------------------------------------------------------------------------------

    def run(self, on_epoch: EpochCallback | None = None) -> RunResult:
        result = RunResult(self.run_id, FINISHED, self.data.target_name, len(self.positives), len(self.pool), self.k)
        self._record_start()
        state = self._resume(result) or LoopState()  # a killed worker's run continues where it stopped
        try:
            for epoch in range(state.first_epoch, 0 if state.stopped else self.cfg.epochs + 1):
                self._check_cancel(force=True)
                times: dict[str, float] = {}
                resampled = (epoch - 1) % self.cfg.resample_every == 0
                if resampled:
                    with timed(times, "t_score"):
                        pool_view = self.score_pool(epoch, full=self.always_score or self._saves_maps(epoch))
                    with timed(times, "t_select"):
                        rng = np.random.default_rng([self.cfg.seed, epoch])
                        selection = self.sampler(pool_view, self.k, rng, self.cfg.sampler_params)
                    state.chosen = self.pool[selection.indices]
                    self.selection, self.pool_view = selection, pool_view  # for callers that draw the choice
                with timed(times, "t_train"):
                    train_loss = self.train_epoch(np.concatenate([self.positives, state.chosen]))
                with timed(times, "t_eval"):
                    record = {**self.evaluate(self.test_bags), "train_loss": train_loss}
                    if self.val_bags is not None:
                        val = self.evaluate(self.val_bags)
                        record.update(val_loss=val["loss"], val_ap=val["ap"])
                record.update(times, epoch=epoch, n_pos=len(self.positives), n_neg=len(state.chosen))
                record.update(resampled=resampled)
                self._record_epoch(epoch, record, pool_view if resampled else None, selection if resampled else None)
                result.history.append(record)
                if on_epoch:
                    on_epoch(record)
                if self.val_bags is not None:
                    state.note_validation(record["val_ap"], self.model, result, epoch, self.cfg.patience)
                self._checkpoint(epoch, result, state)
                if state.stopped:
                    break
        except RunCancelled:
            result.status = CANCELLED
        except Exception as error:  # the run fails, but every finished epoch stays recorded
            return self._failed(result, error)
        if state.best_state is not None:
            self.model.load_state_dict(state.best_state)
        self._record_end(result)
        return result

    def _failed(self, result: Result, error: Exception) -> Result:
        """Record the failure (its cause and where it happened) and return the result; without a store, raise."""
        result.status, result.error = FAILED, f"{type(error).__name__}: {error}"
        if self.store is None or self.run_id is None:
            raise error
        self.store.finish_run(self.run_id, FAILED, error=result.error + "\n" + traceback.format_exc(limit=5))
        return result

    # --- the steps ------------------------------------------------------------------------------------

    @torch.no_grad()
    def forward_all(self, bags: BagSet, positions: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One inference pass: (log-probs (N, 2), bag features (N, d), instance features (N, n, d)).

        Bags of different sizes: instance features are padded to the largest of these bags, whose padding
        mask is `bags.mask(positions, n)`."""
        self.model.eval()
        outputs = []
        width = bags.width(positions)
        for batch in torch.as_tensor(positions, dtype=torch.long).split(self.inference_batch(bags)):
            batch = batch.to(self.device)
            mask = bags.mask(batch)
            with self.amp:
                h = self.model.encode(bags.inputs(batch), mask)
            h = h.float()
            outputs.append(
                (self.model.head(h, mask), self.model.head.pool(h, mask), h if width is None else pad_width(h, width))
            )
        if not outputs:
            empty = torch.empty(0, device=self.device)
            return empty.view(0, 2), empty, empty
        log_probs, features, instances = (torch.cat(parts) for parts in zip(*outputs))
        return log_probs, features, instances

    def inference_batch(self, bags: BagSet) -> int:
        return bags.inference_batch * (8 if self.device.type == "cuda" else 1)

    def score_pool(self, epoch: int, full: bool = True) -> Pool:
        """The pool as the sampler needs it: no pass at all for samplers that read no scores (random, full), the
        positive bags only for samplers that read them; `full` scores everything (maps are saved this epoch)."""
        if not (full or self.sampler.uses_scores):
            return self.unscored_pool(epoch)
        return self.pool_from(
            self.forward_all(self.train_bags, self.pool), epoch, positives=full or self.sampler.uses_positives
        )

    def unscored_pool(self, epoch: int) -> Pool:
        """A pool of the right size with nothing measured: NaN predictions, no features, no positive bags."""
        n, nothing = len(self.pool), torch.empty(0, device=self.device)
        return Pool(
            torch.full((n, 2), float("nan"), device=self.device),
            nothing.view(n, 0),
            nothing.view(n, 0, 0),
            torch.zeros(n, dtype=torch.long, device=self.device),
            nothing.view(0, 2),
            nothing.view(0, 0),
            self.model.head,
            epoch,
        )

    def pool_from(
        self, pool_outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], epoch: int, positives: bool = True
    ) -> Pool:
        """The Pool a sampler sees, from the pool's forward outputs; the positive bags are scored here (or, with
        positives=False, left empty)."""
        log_probs, features, instances = pool_outputs
        if positives:
            pos_log_probs, pos_features, pos_instances = self.forward_all(self.train_bags, self.positives)
        else:
            pos_log_probs, pos_features, pos_instances = log_probs[:0], features[:0], instances[:0]
        labels = torch.zeros(len(self.pool), dtype=torch.long, device=self.device)
        return Pool(
            log_probs,
            features,
            instances,
            labels,
            pos_log_probs,
            pos_features,
            self.model.head,
            epoch,
            positive_instance_features=pos_instances,
            instance_mask=self.train_bags.mask(self.pool, _instances_width(instances)),
            positive_instance_mask=self.train_bags.mask(self.positives, _instances_width(pos_instances)),
        )

    def train_epoch(self, positions: np.ndarray) -> float:
        self.model.train()
        bags = torch.as_tensor(positions, dtype=torch.long)
        weights = self.train_bags.sample_weights(bags.numpy()) if self.cfg.weighted_sampling else None
        if weights is not None:
            order = torch.multinomial(
                torch.as_tensor(weights, dtype=torch.float), len(bags), True, generator=self.shuffle
            )
        else:
            order = torch.randperm(len(bags), generator=self.shuffle)
        total, count = 0.0, 0
        for batch in bags[order].split(self.cfg.batch_size):
            self._check_cancel()
            batch = batch.to(self.device)
            inputs, mask = self.train_bags.inputs(batch), self.train_bags.mask(batch)
            targets = F.one_hot(torch.as_tensor(self.train_bags.labels, device=self.device)[batch], 2).float()
            if self.cfg.augment:
                inputs, targets = self.train_bags.augment(inputs, targets, self.shuffle)
            with self.amp:
                h = self.model.encode(inputs, mask)
            loss = -(targets * self.model.head(h.float(), mask)).sum(1).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total, count = total + loss.item() * len(batch), count + len(batch)
        return total / max(count, 1)

    def evaluate(self, bags: BagSet) -> dict[str, float]:
        log_probs, _, _ = self.forward_all(bags, np.arange(len(bags)))
        labels = torch.as_tensor(bags.labels, device=log_probs.device)
        loss = F.nll_loss(log_probs, labels).item() if len(bags) else float("nan")
        return {**bag_metrics(bags.labels, log_probs[:, 1].exp().cpu().numpy()), "loss": loss}

    # --- checkpoint and resume --------------------------------------------------------------------------

    def _checkpoint(self, epoch: int, result: RunResult, state: LoopState) -> None:
        """Everything the next epoch needs, written atomically at the end of each epoch: with it a resumed run
        makes exactly the selections and metrics an uninterrupted one makes (the sampler's generator is seeded
        per epoch; model, optimiser, the shuffling generator and the global RNGs are saved here)."""
        if self.store is None or self.run_id is None:
            return
        checkpoint = {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "shuffle": self.shuffle.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "numpy_rng": _numpy_state(),
            "python_rng": repr(random.getstate()),
            "chosen": torch.as_tensor(state.chosen, dtype=torch.long),
            "best_val": float(state.best_val),
            "best_state": state.best_state,
            "stale": state.stale,
            "stopped": state.stopped,
            "best_epoch": result.best_epoch,
            "threads": torch.get_num_threads(),  # float sums depend on it: a resumed run uses the same count
            "bags": self.bags_digest,
            "history": [
                {k: v.item() if isinstance(v, np.generic) else v for k, v in record.items()}
                for record in result.history
            ],
        }
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        self.store.save_checkpoint(self.run_id, buffer.getvalue())

    def _resume(self, result: RunResult) -> LoopState | None:
        """Restore the last checkpoint of this run, if any, and drop what was recorded after it (a worker killed
        mid-epoch). Returns the loop's state after that epoch, or None (start from the first epoch)."""
        if self.store is None or self.run_id is None:
            return None
        blob = self.store.load_checkpoint(self.run_id)
        state = None
        if blob is not None:
            try:
                state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
            except Exception as error:  # an unreadable checkpoint: the run starts over (same results, more time)
                print(
                    f"the checkpoint of run {self.run_id} is unreadable ({type(error).__name__}: {error}); "
                    f"starting the run over",
                    flush=True,
                )
        if state is not None and state.get("bags", self.bags_digest) != self.bags_digest:
            refusal = (
                f"run {self.run_id} cannot resume: the bags its config builds now are not the ones it trained on "
                "(its data, or how weakneg draws or splits them, changed since it started); its finished epochs are "
                "kept: launch its settings again as a new run"
            )
            self.store.finish_run(self.run_id, FAILED, error=refusal)  # recorded as it is, nothing truncated
            raise ChangedBags(refusal)
        self.store.truncate_run(self.run_id, state["epoch"] if state else 0)
        if state is None:
            return None
        if state.get("threads") and state["threads"] != torch.get_num_threads():
            print(f"run {self.run_id} resumes on {state['threads']} torch thread(s), as it started", flush=True)
            torch.set_num_threads(state["threads"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.shuffle.set_state(state["shuffle"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        _set_numpy_state(state["numpy_rng"])
        random.setstate(_literal(state["python_rng"]))
        result.history, result.best_epoch = list(state["history"]), state["best_epoch"]
        print(f"run {self.run_id} resumes after epoch {state['epoch']}", flush=True)
        return LoopState(
            first_epoch=state["epoch"] + 1,
            chosen=state["chosen"].numpy(),
            best_val=state["best_val"],
            best_state=state["best_state"],
            stale=state["stale"],
            stopped=state["stopped"],
        )

    @functools.cached_property
    def bags_digest(self) -> str:
        """Which bags the run trains, validates and tests on (ids and classes, in order), in 16 hex digits: a resume
        must rebuild the same (checkpoints written before it existed have none and are not checked)."""
        digest = hashlib.sha256()
        for bags in (self.train_bags, self.val_bags, self.test_bags):
            if bags is not None:
                digest.update(np.ascontiguousarray(bags.ids, dtype=np.int64).tobytes())
                digest.update(np.ascontiguousarray(bags.contents, dtype=np.int64).tobytes())
            digest.update(b"|")
        return digest.hexdigest()[:16]

    # --- recording ------------------------------------------------------------------------------------

    def _check_cancel(self, force: bool = False) -> None:
        if self.store is None or self.run_id is None:
            return
        if not force and time.monotonic() - self._last_check < CHECK_EVERY_S:
            return
        self._last_check = time.monotonic()
        if self.store.cancel_requested(self.run_id):
            raise RunCancelled(f"run {self.run_id} was cancelled")
        self.store.heartbeat(self.run_id)

    def _record_start(self) -> None:
        if self.store is None or self.run_id is None:
            return
        self.store.start_run(
            self.run_id,
            target_class=self.data.target,
            target_name=self.data.target_name,
            n_pos=len(self.positives),
            pool_size=len(self.pool),
            k=self.k,
            device=self.device.type,
        )
        bags = self.train_bags
        saved = BagArrays(bags.ids, bags.labels, bags.contents, np.array(self.data.class_names), **_membership(bags))
        self.store.save_epoch_record(self.run_id, EpochArrays(epoch=0, bags=saved))

    def _record_epoch(self, epoch: int, record: dict, pool: Pool | None, selection: Selection | None) -> None:
        if self.store is None or self.run_id is None:
            return
        self.store.add_epoch(self.run_id, epoch, record)
        if selection is None or pool is None:  # an epoch that kept the last picks
            return
        bag_ids = self.train_bags.ids[self.pool]
        self.store.add_selection(self.run_id, epoch, bag_ids[selection.indices], selection.scores[selection.indices])
        if self._saves_maps(epoch):
            self.save_pool_arrays(epoch, pool, selection)

    def _saves_maps(self, epoch: int) -> bool:
        """Whether this epoch's pool arrays (maps) are stored: they need the whole scoring pass."""
        last = epoch + self.cfg.resample_every > self.cfg.epochs
        return self.store is not None and (
            self.cfg.save_embeddings == "all" or (self.cfg.save_embeddings == "last" and last)
        )

    def save_pool_arrays(self, epoch: int, pool: Pool, selection: Selection) -> None:
        """The pool as the sampler saw it, plus the positive bags, for the app's maps."""
        # the map is drawn in the space the sampler chose in: BADGE's default takes gradients at the predicted label
        assert self.store is not None and self.run_id is not None  # _saves_maps: only with a store
        # a scored pool (pool_from) carries the head and every bag's instances
        assert pool.head is not None and pool.instance_features is not None
        assert pool.positive_instance_features is not None
        label = embedding_label(self.sampler, self.cfg.sampler_params)
        positive_labels = (
            pool.positive_log_probs.argmax(1)
            if label == "predicted"
            else torch.ones(len(self.positives), dtype=torch.long, device=self.device)
        )
        positive = gradient_embedding(
            pool.head, pool.positive_instance_features, positive_labels, pool.positive_instance_mask
        )
        order = np.full(len(pool), -1, dtype=np.int32)
        order[selection.indices] = np.arange(len(selection.indices))
        saved = PoolArrays(
            pool_ids=self.train_bags.ids[self.pool],
            positive_ids=self.train_bags.ids[self.positives],
            scores=selection.scores.astype(np.float32),
            pick_order=order,
            pool_prob=pool.probs[:, 1].float().cpu().numpy(),
            pool_grad=pool.grad_embedding(label).matrix().half().cpu().numpy(),
            positive_prob=pool.positive_log_probs[:, 1].exp().float().cpu().numpy(),
            positive_grad=positive.matrix().half().cpu().numpy(),
            grad_label=label,
            pool_evidence=_evidence(instance_evidence(pool.head, pool.instance_features, pool.instance_mask)),
            positive_evidence=_evidence(
                instance_evidence(pool.head, pool.positive_instance_features, pool.positive_instance_mask)
            ),
        )
        self.store.save_epoch_record(self.run_id, EpochArrays(epoch=epoch, pool=saved))

    def _record_end(self, result: RunResult) -> None:
        if self.store is None or self.run_id is None:
            return
        if self.before_finish is not None:  # a warm worker claims its next run here (see run_experiment)
            self.before_finish()
        final = result.final
        self.store.update_run(
            self.run_id, final_ap=final.get("ap"), final_auc=final.get("auc"), final_dprime=final.get("dprime")
        )
        self.store.finish_run(
            self.run_id,
            result.status,
            result=self._result_fields(result),
            error="cancelled by the user; finished epochs are kept" if result.status == CANCELLED else None,
        )

    def _result_fields(self, result: RunResult) -> dict[str, Any]:
        """What the run's stored result holds besides its metrics (the multi-label loop adds each class's)."""
        return {"best_epoch": result.best_epoch}


def _evidence(evidence) -> EvidenceArrays:
    """Each bag's per-instance evidence (models/evidence.py), real instances only, as the epoch record keeps it."""
    return EvidenceArrays(evidence.prob, evidence.offsets, evidence.driver, evidence.attention)


def _membership(bags: BagSet) -> dict[str, Any]:
    """Which instances make each bag and where the images and clips a bag card shows come from (rows of the data
    set's training split or file paths; clip files, cached log-mel files, clip names and sample rate), so Inspect
    reads only those few files and rebuilds nothing."""
    out: dict[str, Any] = {}
    parts: Any = bags  # each kind of bag set has its own of these parts (MemberBags, AudioBags, ImageBags)
    if getattr(parts, "members", None) is not None:
        out["members"] = parts.members  # (B, n_max), -1 after a bag's last instance
    if getattr(parts, "audio_files", None) is not None:
        out["audio_files"] = np.array([str(f) for f in parts.audio_files])
    sources = getattr(parts, "sources", None)
    if sources is not None:
        sources = np.asarray(sources)
        out["instance_sources"] = sources.astype(np.int32) if sources.dtype.kind in "iu" else sources.astype(str)
    if getattr(parts, "feature_files", None) is not None:
        out["feature_files"] = np.array([str(f) for f in parts.feature_files])
        out["clip_names"] = np.array([str(n) for n in parts.names])
        out["sample_rate"] = int(parts.settings.sample_rate)
    return out


def _numpy_state() -> dict:
    state = np.random.get_state()
    assert isinstance(state, tuple)  # legacy=True, the default, gives the tuple
    kind, keys, pos, has_gauss, gauss = state
    return {
        "kind": kind,
        "keys": torch.as_tensor(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def _set_numpy_state(state: dict) -> None:
    np.random.set_state(
        (state["kind"], state["keys"].numpy().astype(np.uint32), state["pos"], state["has_gauss"], state["gauss"])
    )


def _literal(text: str):
    import ast

    return ast.literal_eval(text)


def _instances_width(instances: torch.Tensor) -> int | None:
    return instances.shape[1] if instances.dim() == 3 else None  # an empty forward pass has no width


class MultiLabelExperiment(MultiLabelLoop, Experiment):
    """One model for several classes: the multi-label loop (train_multilabel.py) on this loop's plumbing."""

    membership = staticmethod(_membership)
    loop_state = LoopState  # the multi-label loop checkpoints its epoch and picks in the binary loop's state
