"""The model registry: an instance encoder per name, with the kind of data it accepts. Encoder modules
(encoders.py, audio.py) register theirs where they are defined; models/__init__.py imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..registry import Registry


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modality: str  # the dataset modality it accepts
    description: str
    build: Callable[[tuple[int, ...]], nn.Module]  # input shape of one bag -> encoder with a .dim


MODELS: Registry[ModelSpec] = Registry("model", ModelSpec)
register_model = MODELS.register
