"""Bag models: an instance encoder followed by an aggregation head."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import torch
from torch import nn

from ..errors import ConfigError
from .encoders import mil_mlp, mlp, resnet18, simple_cnn
from .heads import HEAD_DESCRIPTIONS, HEADS, Head
from .ragged import encode_real


@dataclass(frozen=True)
class ModelSpec:
    name: str
    modality: str  # the dataset modality it accepts
    description: str
    build: Callable[[tuple[int, ...]], nn.Module]  # input shape of one bag -> encoder with a .dim


MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.name] = spec
    return spec


register_model(ModelSpec("simple_cnn", "image", "2 conv + 3 fully connected layers (the paper's)", simple_cnn))
register_model(ModelSpec("resnet18", "image", "torchvision ResNet-18, trained from scratch", resnet18))
register_model(ModelSpec("mlp", "vector", "2-layer MLP for feature vectors", mlp))
register_model(ModelSpec("mil_mlp", "vector", "Ilse et al. 2018's MIL-benchmark embedding: 256-128 MLP", mil_mlp))


DEFAULT_MODEL = {"image": "simple_cnn", "audio": "audio_cnn", "vector": "mlp"}  # per data modality


class BagModel(nn.Module):
    def __init__(self, encoder: nn.Module, head: Head):
        super().__init__()
        self.encoder, self.head = encoder, head

    def encode(self, bags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Instance features (B, n, d); with a padding mask, the encoder sees the real instances only."""
        return encode_real(self.encoder, bags, mask)

    def forward(self, bags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Bag log-probabilities (B, 2)."""
        return self.head(self.encode(bags, mask), mask)


def build_model(model: str, head: str, input_shape: tuple[int, ...], modality: str = "image") -> BagModel:
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of: {', '.join(MODELS)}")
    if head not in HEADS:
        raise ConfigError(f"unknown head {head!r}; choose one of: {', '.join(HEADS)}")
    check_model_fits(model, modality)
    encoder = MODELS[model].build(input_shape)
    return BagModel(encoder, HEADS[head](encoder.dim))


def models_for(modality: str) -> list[str]:
    """Names of the models that accept data of this modality."""
    return [m.name for m in MODELS.values() if m.modality == modality]


def check_model_fits(model: str, modality: str, what: str = "this dataset") -> None:
    """Refuse a model built for another kind of data (before any data is loaded), naming those that fit."""
    if MODELS[model].modality != modality:
        raise ConfigError(
            f"model {model!r} is for {MODELS[model].modality} data but {what} is {modality}; "
            f"use one of: {', '.join(models_for(modality))}"
        )


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


__all__ = [
    "BagModel",
    "DEFAULT_MODEL",
    "HEADS",
    "HEAD_DESCRIPTIONS",
    "Head",
    "MODELS",
    "ModelSpec",
    "build_model",
    "check_model_fits",
    "models_for",
    "pick_device",
    "register_model",
]

from . import audio as _audio  # noqa: E402,F401  (registers effnet_b0, psla, audio_cnn)
