"""The multi-label epoch loop: one model for C classes, negatives chosen per class (docs/multilabel.md).

Per epoch: one scoring pass over every training bag -> per class c, k_c = round(n_pos_c / r) negatives among
the bags without c, chosen by the sampler on class c's slice of that pass (samplers/per_class.py) -> train on
the union of every class's positives and picks, each bag computed once per step, class c's loss a masked BCE on
exactly its own bags (models/multilabel.py) -> evaluate every class on all test bags -> record. The loop, the
checkpoint and the resume are the binary loop's: `MultiLabelLoop` is mixed into train.Experiment by train.py
(`train.MultiLabelExperiment`), so this module never imports train.
"""

from __future__ import annotations


import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .config import RunConfig, negatives_per_epoch
from .data import BagSet, LoadedBags
from .errors import RunCancelled
from .metrics import class_metrics
from .models import pick_device
from .models import BagModel
from .models.multilabel import build_multilabel_model, masked_bce
from .run_result import Result, RunResult, timed
from .samplers import get_sampler
from .samplers.adaptive_multilabel import batch_order, imbalance_weights, weighted_sample_loss
from .models.gradients import gradient_embedding
from .samplers.params import embedding_label
from .samplers.per_class import ClassOutputs, class_pool, select_per_class, unscored_outputs
from .store import CANCELLED, FINISHED, RunStore
from .store.epoch_record import BagArrays, ClassPicks, EpochArrays, PoolArrays


@dataclass
class MultiLabelResult(RunResult):
    """A multi-label run's result: RunResult's fields, and each class's names and k."""

    class_names: tuple[str, ...] = ()
    class_ks: tuple[int, ...] = ()

    def summary(self) -> dict[str, Any]:
        final = self.final
        return {
            **super().summary(),
            "multilabel": True,
            "classes": list(self.class_names),
            "map": final.get("ap"),
            "micro_ap": final.get("micro_ap"),
            "per_class": final.get("per_class", {}),
            "k_per_class": dict(zip(self.class_names, self.class_ks)),
        }


class MultiLabelLoop:
    """The multi-label loop; train.MultiLabelExperiment mixes it into train.Experiment, whose plumbing it uses
    (forward_all, inference_batch, _checkpoint, _resume, _check_cancel, _saves_maps, _failed, _record_end) and which
    gives `membership` and `loop_state` (train.LoopState: what _checkpoint saves and _resume returns)."""

    if TYPE_CHECKING:  # what train.Experiment gives, declared for the type checker only (no import of train)
        before_finish: Callable[[], None] | None

        def forward_all(
            self, bags: BagSet, positions: np.ndarray
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...
        def _resume(self, result: RunResult) -> Any: ...
        def _check_cancel(self, force: bool = False) -> None: ...
        def _saves_maps(self, epoch: int) -> bool: ...
        def _checkpoint(self, epoch: int, result: RunResult, state: Any) -> None: ...
        def _failed(self, result: Result, error: Exception) -> Result: ...
        def _record_end(self, result: RunResult) -> None: ...
        def loop_state(self, first_epoch: int, chosen: np.ndarray) -> Any: ...
        def membership(self, bags: BagSet) -> dict[str, Any]: ...

    def __init__(self, cfg: RunConfig, data: LoadedBags, store: RunStore | None, run_id: int | None):
        self.cfg, self.data, self.store = cfg, data, store
        self.device = pick_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.train_bags = data.train.to(self.device)
        self.test_bags = data.test.to(self.device)
        self.val_bags = data.val.to(self.device) if data.val is not None else None
        assert data.targets is not None  # train picks this loop for a run of several classes only
        self.targets = list(data.targets)
        self.class_names = data.target_names
        self.model: BagModel[Any] = build_multilabel_model(
            cfg.model, cfg.head, self.train_bags.input_shape, self.train_bags.modality, len(self.targets)
        ).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sampler = get_sampler(cfg.sampler)
        self.labels = class_labels(self.train_bags, self.targets)  # (B, C) 0/1
        self.test_labels = class_labels(self.test_bags, self.targets)
        self.val_labels = class_labels(self.val_bags, self.targets) if self.val_bags is not None else None
        self._labels_t = torch.as_tensor(self.labels, device=self.device)
        n_pos = self.labels.sum(0)
        self.ks = [negatives_per_epoch(int(p), cfg.pn_ratio, int(len(self.labels) - p), cfg.sampler) for p in n_pos]
        self.imbalance = torch.as_tensor(imbalance_weights(self.labels), device=self.device)
        # the binary loop's bookkeeping, read by its inherited helpers (checkpoint, cancel, inference batch)
        self.positives = np.flatnonzero(self.labels.any(1))
        self.pool = np.arange(len(self.labels))
        self.k = int(sum(self.ks))
        self.shuffle = torch.Generator().manual_seed(cfg.seed)
        self.amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        self.always_score = False
        self.selections: list | None = None  # the latest per-class selections, for callers that draw them
        self.outputs: ClassOutputs | None = None
        self.run_id = run_id
        if store is not None and run_id is None:
            self.run_id = store.create_run(cfg.to_dict())
        self._last_check = 0.0
        self.before_finish = None  # see train.run_experiment

    # --- the loop ------------------------------------------------------------------------------------

    def run(self, on_epoch=None) -> MultiLabelResult:
        result = MultiLabelResult(
            self.run_id,
            FINISHED,
            self.data.target_name,
            int(self.labels.sum()),
            len(self.labels),
            self.k,
            class_names=tuple(self.class_names),
            class_ks=tuple(self.ks),
        )
        self._record_start()
        chosen = np.zeros(self.labels.T.shape, dtype=bool)  # (C, B): the bags chosen as class c's negatives
        state = self._resume(result) or self.loop_state(1, chosen)  # with early stopping's state, as binary runs
        chosen = np.asarray(state.chosen).astype(bool).reshape(self.labels.T.shape)
        try:
            for epoch in range(state.first_epoch, 0 if state.stopped else self.cfg.epochs + 1):
                self._check_cancel(force=True)
                times: dict[str, float] = {}
                resampled = (epoch - 1) % self.cfg.resample_every == 0
                selections = None
                if resampled:
                    with timed(times, "t_score"):
                        outputs = self.score_all(full=self.always_score or self._saves_maps(epoch))
                        sample_loss = self.sample_loss(outputs)
                    with timed(times, "t_select"):
                        selections = select_per_class(
                            self.sampler,
                            outputs,
                            self.class_heads(outputs),
                            self.labels,
                            self.ks,
                            epoch,
                            self.cfg.seed,
                            self.cfg.sampler_params,
                            sample_loss,
                        )
                    chosen = np.zeros_like(chosen)
                    for c, (negatives, selection) in enumerate(selections):
                        chosen[c, negatives[selection.indices]] = True
                    self.selections, self.outputs = selections, outputs
                    if self._saves_maps(epoch):
                        self.save_class_arrays(epoch, outputs, selections)
                trained = (self.labels == 1) | chosen.T  # (B, C): class c's training bags this epoch
                with timed(times, "t_train"):
                    train_loss = self.train_epoch_classes(trained, epoch)
                with timed(times, "t_eval"):
                    record = {**self.evaluate_classes(self.test_bags, self.test_labels), "train_loss": train_loss}
                    if self.val_bags is not None and self.val_labels is not None:
                        val = self.evaluate_classes(self.val_bags, self.val_labels)
                        record.update(val_loss=val["loss"], val_ap=val["ap"])  # val_ap: the validation mAP
                record.update(
                    times,
                    epoch=epoch,
                    n_pos=int(self.labels.sum()),
                    n_neg=int(chosen.sum()),
                    n_bags=int(trained.any(1).sum()),
                    resampled=resampled,
                )
                self._record_classes(epoch, record, selections)
                result.history.append(record)
                if on_epoch:
                    on_epoch(record)
                state.first_epoch, state.chosen = epoch + 1, chosen.ravel()
                if self.val_bags is not None:
                    state.note_validation(record["val_ap"], self.model, result, epoch, self.cfg.patience)
                self._checkpoint(epoch, result, state)
                if state.stopped:
                    break
        except RunCancelled:
            result.status = CANCELLED
        except Exception as error:  # the run fails, but every finished epoch stays recorded
            return self._failed(result, error)
        if state.best_state is not None:  # the model of the best validation mAP, as a binary run's
            self.model.load_state_dict(state.best_state)
        self._record_end(result)
        return result

    # --- the steps ------------------------------------------------------------------------------------

    def score_all(self, full: bool = False) -> ClassOutputs:
        """One inference pass over every training bag (none for samplers that read no scores)."""
        if not (full or self.sampler.uses_scores or self._needs_batch_losses()):
            return unscored_outputs(len(self.labels), len(self.targets), self.device)
        log_probs, features, instances = self.forward_all(self.train_bags, self.pool)
        width = instances.shape[1] if instances.dim() == 3 else None
        return ClassOutputs(log_probs, features, instances, self.train_bags.mask(self.pool, width))

    def class_heads(self, outputs: ClassOutputs) -> list:
        return [self.model.head.view(c) for c in range(len(self.targets))]

    def sample_loss(self, outputs: ClassOutputs) -> torch.Tensor | None:
        """Each bag's imbalance-weighted loss over every class (adaptive_multilabel); None for other samplers."""
        if self.cfg.sampler != "adaptive_multilabel":
            return None
        return weighted_sample_loss(outputs.log_probs, self._labels_t, self.imbalance)

    def _needs_batch_losses(self) -> bool:
        params = {**self.sampler.params, **self.cfg.sampler_params}
        return self.cfg.sampler == "adaptive_multilabel" and params.get("scope") != "negatives"

    def train_epoch_classes(self, trained: np.ndarray, epoch: int) -> float:
        """One pass over the union of every class's bags; returns the mean over classes of each class's mean loss."""
        self.model.train()
        union = np.flatnonzero(trained.any(1))
        order = self._batch_order(union, epoch)
        positions = torch.as_tensor(union, dtype=torch.long)[order]
        chosen = torch.as_tensor(trained, device=self.device)
        totals = torch.zeros(len(self.targets), dtype=torch.float64, device=self.device)
        counts = torch.zeros(len(self.targets), dtype=torch.float64, device=self.device)
        for batch in positions.split(self.cfg.batch_size):
            self._check_cancel()
            batch = batch.to(self.device)
            inputs, mask = self.train_bags.inputs(batch), self.train_bags.mask(batch)
            targets, in_set = self._labels_t[batch], chosen[batch]
            if self.cfg.augment:
                inputs, targets, in_set = augment_classes(self.train_bags, inputs, targets, in_set, self.shuffle)
            with self.amp:
                h = self.model.encode(inputs, mask)
            per_class = masked_bce(self.model.head(h.float(), mask), targets, in_set)
            loss = per_class.sum()  # each class's gradient is its binary run's gradient on the same bags
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            n = in_set.sum(0).double()
            totals, counts = totals + per_class.detach().double() * n, counts + n
        means = totals / counts.clamp_min(1)
        return float(means[counts > 0].mean()) if (counts > 0).any() else math.nan

    def _batch_order(self, union: np.ndarray, epoch: int) -> torch.Tensor:
        """The plain shuffle; audio with weighted sampling: drawn with replacement by `balanced_weights` (PSLA);
        adaptive_multilabel with scope batches/both: batches drawn by loss."""
        if self.cfg.weighted_sampling and self.train_bags.modality == "audio":  # no effect on other data
            weights = torch.as_tensor(balanced_weights(self.labels[union]), dtype=torch.float)
            return torch.multinomial(weights, len(union), True, generator=self.shuffle)
        if self._needs_batch_losses() and self.outputs is not None:
            loss = weighted_sample_loss(self.outputs.log_probs[union], self._labels_t[union], self.imbalance)
            rng = np.random.default_rng([self.cfg.seed, epoch, len(self.targets)])
            params = {**self.sampler.params, **self.cfg.sampler_params}
            order = batch_order(loss, len(union), self.cfg.batch_size, epoch, params, rng)
            if order is not None:
                return torch.as_tensor(order, dtype=torch.long)
        return torch.randperm(len(union), generator=self.shuffle)

    def evaluate_classes(self, bags: BagSet, class_labels: np.ndarray) -> dict[str, Any]:
        log_probs, _, _ = self.forward_all(bags, np.arange(len(bags)))
        labels = torch.as_tensor(class_labels, device=log_probs.device)
        loss = float(masked_bce(log_probs, labels, torch.ones_like(labels, dtype=torch.bool)).mean())
        probs = log_probs[..., 1].exp().float().cpu().numpy()
        return {**class_metrics(class_labels, probs, self.class_names), "loss": loss}

    # --- recording ------------------------------------------------------------------------------------

    def _record_start(self) -> None:
        if self.store is None or self.run_id is None:
            return
        self.store.start_run(
            self.run_id,
            target_class=None,
            target_name=self.data.target_name[:128],
            n_pos=int(self.labels.sum()),
            pool_size=len(self.labels),
            k=self.k,
            device=self.device.type,
        )
        bags = self.train_bags
        saved = BagArrays(
            bags.ids,
            np.asarray(self.labels.any(1), dtype=np.int64),
            bags.contents,
            np.array(self.data.class_names),
            class_labels=self.labels.astype(np.uint8),
            targets=np.asarray(self.targets, dtype=np.int64),
            **self.membership(bags),
        )
        self.store.save_epoch_record(self.run_id, EpochArrays(epoch=0, bags=saved))

    def _record_classes(self, epoch: int, record: dict, selections: list | None) -> None:
        """The epoch's row (macro metrics), and its per-class metrics and picks in one small file: index lists
        (bag ids in pick order, class after class, with offsets), not one array per class."""
        if self.store is None or self.run_id is None:
            return
        self.store.add_epoch(self.run_id, epoch, record)
        arrays = per_class_arrays(record, self.class_names)
        if selections is not None:
            arrays.update(selection_arrays(selections, self.train_bags.ids))
        self.store.save_class_picks(self.run_id, epoch, ClassPicks(**arrays))

    def save_class_arrays(self, epoch: int, outputs: ClassOutputs, selections: list) -> None:
        """Maps on: each class's pool as its sampler saw it (the arrays a binary run saves), one file per class."""
        assert self.store is not None and self.run_id is not None  # _saves_maps: only with a store
        heads = self.class_heads(outputs)
        label = embedding_label(self.sampler, self.cfg.sampler_params)
        for c, (negatives, selection) in enumerate(selections):
            positives = np.flatnonzero(self.labels[:, c] == 1)
            pool = class_pool(outputs, heads[c], c, negatives, positives, epoch)
            known = torch.ones(len(positives), dtype=torch.long, device=self.device)
            assert pool.head is not None and pool.positive_instance_features is not None  # class_pool sets both
            positive = gradient_embedding(
                pool.head,
                pool.positive_instance_features,
                pool.positive_log_probs.argmax(1) if label == "predicted" else known,
                pool.positive_instance_mask,
            )
            order = np.full(len(pool), -1, dtype=np.int32)
            order[selection.indices] = np.arange(len(selection.indices))
            ids = self.train_bags.ids
            saved = PoolArrays(
                pool_ids=ids[negatives],
                positive_ids=ids[positives],
                scores=selection.scores.astype(np.float32),
                pick_order=order,
                pool_prob=pool.probs[:, 1].float().cpu().numpy(),
                pool_grad=pool.grad_embedding(label).matrix().half().cpu().numpy(),
                positive_prob=pool.positive_log_probs[:, 1].exp().float().cpu().numpy(),
                positive_grad=positive.matrix().half().cpu().numpy(),
                grad_label=label,
            )
            self.store.save_class_pool(self.run_id, epoch, c, saved)

    def _result_fields(self, result: RunResult) -> dict[str, Any]:
        """What the run's stored result holds besides its metrics: each class's final figures."""
        final = result.final
        return {
            "best_epoch": result.best_epoch,
            "multilabel": True,
            "micro_ap": _finite(final.get("micro_ap")),
            "class_index": dict(zip(self.class_names, self.targets)),
            "per_class": {
                name: {k: _finite(v) for k, v in values.items()} for name, values in final.get("per_class", {}).items()
            },
        }


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """PSLA's balanced sampling for multi-label clips (labels (B, C) 0/1): a clip weighs the sum over its classes of
    1 / (that class's clips), a clip of none of them 1 / (such clips): every class, and "none", adds the same total
    weight (1) to the draw, however rare (with one class: a binary run's weights)."""
    counts = labels.sum(0)
    weights = (labels / np.maximum(counts, 1)).sum(1).astype(np.float64)
    none = labels.sum(1) == 0
    weights[none] = 1.0 / max(int(none.sum()), 1)
    return weights


def augment_classes(
    bags: BagSet, inputs: torch.Tensor, labels: torch.Tensor, trained: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The bag set's training augmentation (audio: MixUp, then SpecAugment) on a multi-label batch: soft targets
    (b, C) mix as the inputs do, and a mixed example trains class c only where both its bags are class c's training
    bags this epoch (each class keeps its own negatives). The masks travel through the mix as extra targets: a
    mixed 1 stays 1 only when both were 1."""
    classes = labels.shape[1]
    both = torch.cat([labels.to(torch.float32), trained.to(torch.float32)], dim=1)
    inputs, mixed = bags.augment(inputs, both, generator)
    return inputs, mixed[:, :classes], mixed[:, classes:] > 1 - 1e-6


def class_labels(bags, targets: list[int]) -> np.ndarray:
    """(B, C) 1 where the bag holds class targets[c] (from `contents`), else 0."""
    return (np.asarray(bags.contents)[:, targets] > 0).astype(np.int64)


def per_class_arrays(record: dict, names: list[str]) -> dict[str, Any]:
    per_class = record["per_class"]
    return {
        "class_names": np.array(names),
        **{key: np.array([per_class[n][key] for n in names], dtype=np.float64) for key in ("ap", "auc", "dprime")},
        "micro_ap": float(record["micro_ap"]),
    }


def selection_arrays(selections: list, bag_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every class's picks as one index list: ids[offsets[c]:offsets[c+1]] in pick order, with their scores."""
    picks = [bag_ids[negatives[s.indices]] for negatives, s in selections]
    scores = [s.scores[s.indices] for _, s in selections]
    return {
        "chosen_ids": np.concatenate(picks).astype(np.int64) if picks else np.zeros(0, dtype=np.int64),
        "chosen_scores": np.concatenate(scores).astype(np.float32) if scores else np.zeros(0, dtype=np.float32),
        "chosen_offsets": np.cumsum([0] + [len(p) for p in picks]).astype(np.int64),
    }


def _finite(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None
