"""The model registry: an instance encoder per name, with the kind of data it accepts. Encoder modules
(encoders.py, audio.py) register theirs where they are defined; models/__init__.py imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..registry import Registry


class Encoder(nn.Module):
    """An instance encoder: what a model's `build` returns; `dim` is the width of the instance features it gives."""

    dim: int


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modality: str  # the dataset modality it accepts
    description: str
    build: Callable[[tuple[int, ...]], Encoder]  # input shape of one bag -> encoder


MODELS: Registry[ModelSpec] = Registry("model", ModelSpec)
register_model = MODELS.register
