"""Bags of any size: padded instance tensors plus a boolean mask (True = a real instance).

Why padded + mask rather than packed + offsets: every encoder and head already works on (B, n, ...)
batches, and every per-bag operation (mean, softmax over instances, max, torch.func's vmap over bags)
needs a fixed trailing shape; with a mask those stay single batched calls, whereas a packed layout would
need a segment operation (scatter/index_add) in every head and could not be vmapped per bag. Fixed-size
bags pass `mask=None` and run exactly the code they ran before, so they keep their speed. The price,
compute spent on padding, is avoided where it matters: `encode_real` runs the instance encoder on the
real instances only, and batches are padded to their own largest bag, not the data set's.

The one rule every consumer follows: padding rows are replaced (with `torch.where`, never multiplied
by zero) before anything reads them, so no value there, however large or NaN, reaches a score or a
gradient.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def real_only(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """h (B, n, d) with padding rows set to 0; h itself when every bag is full (mask None)."""
    if mask is None:
        return h
    return torch.where(mask[..., None], h, torch.zeros((), dtype=h.dtype, device=h.device))


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the instances (dim 1) of x (B, n, ...), real instances only."""
    if mask is None:
        return x.mean(dim=1)
    shape = mask.shape + (1,) * (x.dim() - 2)
    total = torch.where(mask.view(shape), x, torch.zeros((), dtype=x.dtype, device=x.device)).sum(dim=1)
    return total / mask.sum(dim=1).clamp_min(1).view((-1,) + (1,) * (x.dim() - 2)).to(x.dtype)


def encode_real(encoder: torch.nn.Module, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Instance features (B, n, d) from a per-instance encoder, computed on the real instances only.

    The real instances go through the encoder as one bag (1, R, ...), so padding costs nothing and never
    enters a batch statistic; padding rows of the result are 0.
    """
    if mask is None:
        return encoder(inputs)
    real = encoder(inputs[mask].unsqueeze(0)).squeeze(0)
    h = real.new_zeros(mask.shape + real.shape[-1:])
    h[mask] = real
    return h


def pad_width(x: torch.Tensor, width: int, value: float = 0.0) -> torch.Tensor:
    """x (B, n, ...) padded along dim 1 to `width` instances."""
    missing = width - x.shape[1]
    if missing <= 0:
        return x
    return F.pad(x, (0, 0) * (x.dim() - 2) + (0, missing), value=value)
