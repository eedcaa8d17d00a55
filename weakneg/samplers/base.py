"""The sampler interface: what a sampler sees (Pool), what it returns (Selection), and the registry.

Every sampler is declared one way: `register(SamplerSpec(name, description, select_fn, ...))` in its family's
module. Most samplers are a score plus a direction, and their `select_fn` is `by_score(score, largest=...)`;
BADGE, coreset and adaptive select sets and write `select_fn` themselves. Either way the call shape is the same,
and every sampler returns the per-candidate scores it used so the app can show why a bag was chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..models.gradients import GradEmbedding, gradient_embedding, linear_layer_embedding
from ..models.heads import Head
from ..registry import Registry
from .params import Param, check_values, split

POOL_PARTS = ("features", "gradients")  # what a sampler may read besides the bag outputs (SamplerSpec.reads)


@dataclass
class Pool:
    """The negative pool (and the positive bags) as the current model sees them, before the epoch's training."""

    log_probs: torch.Tensor  # (N, 2) bag log-probabilities [negative, positive]
    features: torch.Tensor | None  # (N, d) bag features h_b: the input of the last linear layer (None: not given)
    instance_features: torch.Tensor | None  # (N, n, d); bags of different sizes padded to n (see instance_mask)
    labels: torch.Tensor  # (N,) known bag labels (0: the pool holds negatives)
    positive_log_probs: torch.Tensor  # (P, 2)
    positive_features: torch.Tensor  # (P, d)
    head: Head | None = None  # the model's head; None: a plain linear last layer on `features`
    epoch: int | None = 1  # the epoch about to be trained; None: no warm-up applies (a researcher's own loop)
    positive_instance_features: torch.Tensor | None = None  # (P, n, d)
    instance_mask: torch.Tensor | None = None  # (N, n) True on real instances; None when every bag is full
    positive_instance_mask: torch.Tensor | None = None  # (P, n)
    outputs: int = 2  # the last layer's outputs: 2, or 1 for a one-logit head (log_probs then hold [-z, z]'s)
    gradients: torch.Tensor | None = None  # (N, m) gradient embeddings given by the caller (then used as they are)
    # (N,) each bag's loss over every class of a multi-label run (samplers/adaptive_multilabel.py); None: `loss`
    sample_loss: torch.Tensor | None = None
    _grads: dict[str, GradEmbedding] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def probs(self) -> torch.Tensor:
        return self.log_probs.exp()

    @property
    def loss(self) -> torch.Tensor:
        """Per-bag cross-entropy at the known label."""
        return -self.log_probs.gather(1, self.labels[:, None]).squeeze(1)

    def bag_features(self) -> torch.Tensor:
        """The features h_b, for a sampler that reads them (SamplerSpec.reads; the callers check they are given)."""
        if self.features is None:
            raise ConfigError("this sampler reads the bag features h_b, and the pool has none: pass features=")
        return self.features

    def grad_embedding(self, label: str = "known") -> GradEmbedding:
        """Gradient embeddings at the known label, or at the predicted one (BADGE's pseudo-label); cached.

        Given ones are used as they are. A head whose classifier sees the pooled feature once (and a plain linear
        last layer: no head) has the closed form (p - onehot(y)) outer [h_b, 1] from the outputs and features, the
        same numbers whoever calls; the other heads get per-bag gradients of the head on the instance features."""
        if label not in ("known", "predicted"):
            raise ConfigError(f"label must be 'known' or 'predicted', got {label!r}")
        if self.gradients is not None:
            return GradEmbedding(dense=self.gradients)
        if label not in self._grads:
            labels = self.labels if label == "known" else self.log_probs.argmax(1)
            if self.head is not None and not self.head.closed_form_gradient:
                if self.instance_features is None:
                    raise ConfigError("the head's gradients are taken on the instance features, and the pool has none")
                embedding = gradient_embedding(self.head, self.instance_features, labels, self.instance_mask)
            else:
                embedding = linear_layer_embedding(self.log_probs, self.bag_features(), labels, self.outputs)
            self._grads[label] = embedding
        return self._grads[label]


@dataclass
class Selection:
    indices: np.ndarray  # chosen pool positions, in the order they were picked
    scores: np.ndarray  # (N,) the per-candidate score the sampler used


SelectFn = Callable[[Pool, int, np.random.Generator, dict], Selection]


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    description: str
    select_fn: SelectFn
    params: dict[str, Any] = field(default_factory=dict)  # name -> Param (typed) or a bare default; stored as defaults
    whole_pool: bool = False  # ignores k and takes every candidate ("full")
    param_types: dict[str, Param] = field(default_factory=dict)  # filled from `params` (see params.py)
    uses_scores: bool = True  # reads the scoring pass; False: the trainer skips that pass (random, full)
    uses_positives: bool = True  # reads the positive bags' outputs; False: the trainer does not score them
    check_together: Callable[[dict[str, Any]], None] | None = None  # a rule over all parameters (raises ConfigError)
    reads: AbstractSet[str] = frozenset()  # pool parts it reads besides the bag outputs: "features", "gradients"

    def __post_init__(self):
        defaults, typed = split(self.params)
        object.__setattr__(self, "params", defaults)
        object.__setattr__(self, "param_types", {**typed, **self.param_types})
        object.__setattr__(self, "reads", frozenset(self.reads))
        if not self.reads <= set(POOL_PARTS):
            raise ValueError(f"sampler {self.name!r}: reads {sorted(self.reads)}; pool parts are {POOL_PARTS}")

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters checked against the declarations (unknown names, types, bounds), normalised."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise ConfigError(f"sampler {self.name!r} has no parameter(s) {unknown}; its parameters: {allowed}")
        checked = check_values(self.name, self.param_types, params)
        if self.check_together is not None:
            self.check_together({**self.params, **checked})
        return checked

    def __call__(self, pool: Pool, k: int, rng: np.random.Generator, params: dict | None = None) -> Selection:
        """Pick k pool positions. k is clamped to [0, len(pool)]: asking for more than the pool gives all of it."""
        params = self.check_params(params or {})
        k = len(pool) if self.whole_pool else int(max(0, min(k, len(pool))))
        chosen = self.select_fn(pool, k, rng, {**self.params, **params})
        indices = np.asarray(chosen.indices, dtype=np.int64)
        if len(indices) != k or len(np.unique(indices)) != k:
            raise RuntimeError(
                f"sampler {self.name} returned {len(indices)} picks ({len(np.unique(indices))} distinct) for k={k}"
            )
        return Selection(indices, np.asarray(chosen.scores, dtype=np.float64))


def top_k(scores: np.ndarray, k: int, largest: bool) -> np.ndarray:
    """Positions of the k best scores. Ties go to the lower position; NaN ranks last in either direction."""
    scores = np.asarray(scores, dtype=np.float64)
    keyed = np.where(np.isnan(scores), np.inf, -scores if largest else scores)
    return np.argsort(keyed, kind="stable")[:k]


def by_score(score: Callable[[Pool, dict], torch.Tensor | np.ndarray], largest: bool) -> SelectFn:
    """The select_fn of a sampler that scores every candidate and keeps the k largest (or smallest)."""

    def select(pool: Pool, k: int, rng: np.random.Generator, options: dict) -> Selection:
        values = score(pool, options)
        values = values.detach().double().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
        return Selection(top_k(values, k, largest), values)

    return select


SAMPLERS: Registry[SamplerSpec] = Registry("sampler", SamplerSpec)
register = SAMPLERS.register
get_sampler = SAMPLERS.lookup
