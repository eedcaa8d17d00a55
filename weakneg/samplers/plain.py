"""`weakneg.select`: every registered sampler on plain tensors, the one call a researcher makes from their own loop.

    picks = weakneg.select("badge", k, logits=pool_logits, features=pool_features, seed=0)
    picks.indices  # pool positions in pick order;  picks.scores  # (N,) the score each candidate had

The pool is the negative bags (known label 0). `logits` are their outputs: shape (N,) (or (N, 1)) for a one-logit
head, read as the two-logit head [0, z]; or (N, 2) [negative, positive]. `features` are what enters the last linear
layer, (N, d): the feature samplers read them, and the gradient samplers form each bag's gradient embedding of
that layer from them, (p - onehot(y)) outer [h, 1] as BADGE does (one-logit: (sigmoid(z) - y) [h, 1]). For a
weakneg head (`weakneg.models.heads`) give `head=` and `instance_features=` (with `instance_mask=` for bags of
different sizes) instead, for the head's own gradients; or give `grad_embeddings=` computed elsewhere. The samplers
that compare with the positive bags read `positive_logits=` and `positive_features=`.

Every input is checked before anything runs; a problem is one ConfigError (a ValueError) saying what to pass.
The same Pool, sampler and generator give the same picks as weakneg's own loop (tests/test_select.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..models.heads import Head
from .base import Pool, Selection, get_sampler


def select(
    name: str,
    k: int,
    *,
    logits: Any,
    features: Any = None,
    seed: int | np.random.Generator | None = None,
    positive_logits: Any = None,
    positive_features: Any = None,
    instance_features: Any = None,
    instance_mask: Any = None,
    head: Head | None = None,
    grad_embeddings: Any = None,
    epoch: int | None = None,
    **params: Any,
) -> Selection:
    """Pick k negative bags of the pool with the sampler `name`; its parameters as keyword arguments.

    Tensors or numpy arrays; k larger than the pool takes the whole pool (with a warning). `seed` (an int or a
    numpy Generator) makes the random samplers repeatable; `epoch` (1-based) only matters to `adaptive`, which
    draws uniformly while epoch <= warmup_epochs (None: no warm-up)."""
    if not isinstance(name, str):
        raise ConfigError(f"the sampler name must be a text such as 'badge', got {name!r}")
    spec = get_sampler(name)
    params = spec.check_params(params)  # a misspelt parameter is named before any tensor is looked at
    k = _count(k)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_seed(seed))
    raw = _floating("logits", logits)
    if raw is None:
        raise ConfigError("logits= is required: the pool's outputs, shape (N,) for a one-logit head or (N, 2)")
    outputs = _outputs("logits", raw)
    n = len(raw)
    device = raw.device
    given = {
        "features": _floating("features", features, device),
        "positive_logits": _floating("positive_logits", positive_logits, device),
        "positive_features": _floating("positive_features", positive_features, device),
        "instance_features": _floating("instance_features", instance_features, device),
        "grad_embeddings": _floating("grad_embeddings", grad_embeddings, device),
    }
    dtype = torch.float64 if any(t.dtype == torch.float64 for t in (raw, *given.values()) if t is not None) else None
    dtype = dtype or torch.float32  # half precision from autocast is widened: scores need the digits
    raw, given = raw.to(dtype), {key: None if t is None else t.to(dtype) for key, t in given.items()}
    if head is not None and given["instance_features"] is not None and isinstance(head, Head):
        given["instance_features"] = given["instance_features"].to(head.classifier.weight.dtype)  # the head's own
    mask = _mask(instance_mask, given["instance_features"], n, device)
    features = _bag_features(given["features"], n, head, given["instance_features"], mask)
    _shape("grad_embeddings", given["grad_embeddings"], (n, None), "(N, m)")
    positive_log_probs, positive_features = _positives(given, outputs, features, device, dtype)
    _needs(spec.name, spec.reads, features, given["grad_embeddings"])
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 1):
        raise ConfigError(f"epoch must be a whole number >= 1 (or None: no warm-up), got {epoch!r}")
    if k > n and not spec.whole_pool:
        warnings.warn(f"k={k} is more than the pool's {n} bags: every bag is picked", stacklevel=2)
    pool = Pool(
        log_probs(raw, outputs),
        features,
        given["instance_features"],
        torch.zeros(n, dtype=torch.long, device=device),
        positive_log_probs,
        positive_features,
        head,
        None if epoch is None else int(epoch),
        instance_mask=mask,
        outputs=outputs,
        gradients=given["grad_embeddings"],
    )
    return spec(pool, k, rng, params)


def log_probs(logits: torch.Tensor, outputs: int) -> torch.Tensor:
    """(N, 2) log-probabilities [negative, positive]; one logit z is the two-logit head [0, z], computed as such."""
    if outputs == 1:
        logits = torch.stack([torch.zeros_like(logits.reshape(-1)), logits.reshape(-1)], dim=1)
    return torch.log_softmax(logits, dim=1)


def _count(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"k must be a whole number >= 0 (how many bags to pick), got {k!r}")
    return int(k)


def _seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be a whole number >= 0, a numpy Generator or None, got {seed!r}")
    return None if seed is None else int(seed)


def _floating(what: str, value: Any, device: torch.device | None = None) -> torch.Tensor | None:
    """The value as a detached floating-point tensor (numpy arrays and lists accepted), on the logits' device."""
    if value is None:
        return None
    if not isinstance(value, torch.Tensor):
        try:
            value = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError, RuntimeError) as error:
            raise ConfigError(f"{what} must be a tensor or an array of numbers ({error})") from None
    if not value.is_floating_point():
        raise ConfigError(f"{what} must be floating point (the model's raw outputs or features), got {value.dtype}")
    if device is not None and value.device != device:
        raise ConfigError(f"{what} is on {value.device} but logits are on {device}: put every tensor on one device")
    return value.detach()


def _outputs(what: str, logits: torch.Tensor) -> int:
    """1 for a one-logit head ((N,) or (N, 1)), 2 for (N, 2); anything else is refused, never guessed."""
    if logits.dim() == 1 or (logits.dim() == 2 and logits.shape[1] == 1):
        return 1
    if logits.dim() == 2 and logits.shape[1] == 2:
        return 2
    raise ConfigError(
        f"{what} must have shape (N,) for a one-logit head or (N, 2) [negative, positive], got {tuple(logits.shape)}; "
        "with several classes pass one class's logit (or its pair)"
    )


def _shape(what: str, tensor: torch.Tensor | None, expected: tuple[int | None, ...], text: str) -> None:
    """Refuse a tensor whose shape does not match `expected` (None: any size there); `text` names it, e.g. (N, d)."""
    if tensor is None:
        return
    if tensor.dim() != len(expected) or any(e is not None and s != e for s, e in zip(tensor.shape, expected)):
        raise ConfigError(f"{what} must have shape {text} with N = {expected[0]}, got {tuple(tensor.shape)}")


def _mask(mask: Any, instances: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
    if instances is not None:
        _shape("instance_features", instances, (n, None, None), "(N, n, d)")
    if mask is None:
        return None
    if instances is None:
        raise ConfigError("instance_mask is given without instance_features: pass both, or neither")
    mask = torch.as_tensor(mask)
    if mask.dtype != torch.bool:
        raise ConfigError(f"instance_mask must be boolean (True on real instances), got {mask.dtype}")
    if mask.device != device:
        raise ConfigError(
            f"instance_mask is on {mask.device} but logits are on {device}: put every tensor on one device"
        )
    _shape("instance_mask", mask, tuple(instances.shape[:2]), "(N, n) like instance_features")
    if len(mask) and not mask.any(1).all():
        raise ConfigError("instance_mask has a bag with no real instance: every bag needs at least one True")
    return mask


def _bag_features(
    features: torch.Tensor | None,
    n: int,
    head: Head | None,
    instances: torch.Tensor | None,
    mask: torch.Tensor | None,
) -> torch.Tensor | None:
    """The (N, d) bag features: as given, or pooled by the given weakneg head from the instance features."""
    if head is not None:
        if not isinstance(head, Head):
            raise ConfigError(
                f"head must be a weakneg head (weakneg.models.heads), got {type(head).__name__}; for your own model "
                "pass features= (the input of its last linear layer) or grad_embeddings="
            )
        if head.classifier.out_features != 2:
            raise ConfigError(
                f"the head's classifier has {head.classifier.out_features} output(s), a weakneg head two; for a "
                "one-logit model pass logits of shape (N,) and features="
            )
        if instances is None:
            raise ConfigError("head= needs instance_features= (N, n, d): the head's gradients are taken on them")
        weight = head.classifier.weight
        if weight.device != instances.device:
            raise ConfigError(
                f"the head is on {weight.device} but instance_features on {instances.device}: put them on one device"
            )
        if instances.shape[2] != head.classifier.in_features:
            raise ConfigError(
                f"instance_features have {instances.shape[2]} features but the head takes {head.classifier.in_features}"
            )
    elif instances is not None:
        raise ConfigError("instance_features= is read with head= only (the head's gradients): pass the head too")
    if features is None and head is not None and instances is not None:  # a head always has instances (above)
        with torch.no_grad():
            features = head.pool(instances, mask).to(instances.dtype)
    _shape("features", features, (n, None), "(N, d)")
    return features


def _positives(
    given: dict[str, torch.Tensor | None], outputs: int, features: torch.Tensor | None, device, dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """The positive bags' log-probabilities (P, 2) and features (P, d); empty (0 rows) where not given."""
    logits, pos_features = given["positive_logits"], given["positive_features"]
    if logits is not None and _outputs("positive_logits", logits) != outputs:
        raise ConfigError(
            f"positive_logits have shape {tuple(logits.shape)} but logits are for a "
            f"{'one' if outputs == 1 else 'two'}-logit head: give both from the same model"
        )
    if logits is not None and pos_features is not None and len(logits) != len(pos_features):
        raise ConfigError(
            f"positive_logits have {len(logits)} bags but positive_features {len(pos_features)}: give the same bags"
        )
    width = features.shape[1] if features is not None else None
    if pos_features is not None:
        _shape("positive_features", pos_features, (len(pos_features), width), "(P, d) with d as in features")
    if pos_features is None:
        pos_features = torch.zeros(0, width or 0, device=device, dtype=dtype)
    empty = torch.zeros(0, 2, device=device, dtype=dtype)
    return (empty if logits is None else log_probs(logits, outputs)), pos_features


def _needs(name: str, reads: AbstractSet[str], features: torch.Tensor | None, gradients: torch.Tensor | None) -> None:
    """Refuse a call that lacks what the sampler reads, naming the argument to add."""
    if "features" in reads and features is None:
        raise ConfigError(
            f"sampler {name!r} reads the bag features: pass features=, the (N, d) input of your model's last linear "
            "layer"
        )
    if "gradients" in reads and features is None and gradients is None:
        raise ConfigError(
            f"sampler {name!r} reads gradient embeddings: pass features= (the (N, d) input of your last linear layer, "
            "from which they are formed with the logits) or grad_embeddings=(N, m)"
        )
