"""Bag models: an instance encoder followed by an aggregation head."""

from __future__ import annotations

from typing import Generic, TypeVar

import torch
from torch import nn

from ..errors import ConfigError
from . import encoders, audio  # noqa: F401  (register the image and vector models, then the audio ones)
from .heads import HEAD_DESCRIPTIONS, HEADS, Head
from .ragged import encode_real
from .registry import MODELS, Encoder, ModelSpec, register_model


DEFAULT_MODEL = {"image": "simple_cnn", "audio": "audio_cnn", "vector": "mlp"}  # per data modality


HeadT = TypeVar("HeadT", bound=nn.Module)  # a binary Head, or a multi-label one (models/multilabel.py)


class BagModel(nn.Module, Generic[HeadT]):
    def __init__(self, encoder: Encoder, head: HeadT):
        super().__init__()
        self.encoder, self.head = encoder, head

    def encode(self, bags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Instance features (B, n, d); with a padding mask, the encoder sees the real instances only."""
        return encode_real(self.encoder, bags, mask)

    def forward(self, bags: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Bag log-probabilities (B, 2)."""
        return self.head(self.encode(bags, mask), mask)


def build_model(model: str, head: str, input_shape: tuple[int, ...], modality: str = "image") -> BagModel[Head]:
    MODELS.lookup(model)  # one line naming the models when unknown
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
