"""Instance encoders: a bag input (B, n, ...) -> instance features (B, n, d)."""

from __future__ import annotations

import torch
from torch import nn

from .registry import Encoder, ModelSpec, register_model


class PerInstance(Encoder):
    """Applies an image network to every instance of every bag in one batched call."""

    def __init__(self, net: nn.Module, dim: int):
        super().__init__()
        self.net, self.dim = net, dim

    def forward(self, bags: torch.Tensor) -> torch.Tensor:
        b, n = bags.shape[:2]
        return self.net(bags.flatten(0, 1)).view(b, n, -1)


def simple_cnn(input_shape: tuple[int, ...], dim: int = 64) -> PerInstance:
    """The paper's small network: 2 conv + 3 fully connected layers (the third is the head's classifier)."""
    channels, height, width = input_shape[-3:]
    features = nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
    )
    flat = features(torch.zeros(1, channels, height, width)).shape[1]
    net = nn.Sequential(features, nn.Linear(flat, 128), nn.ReLU(), nn.Linear(128, dim), nn.ReLU())
    return PerInstance(net, dim)


def resnet18(input_shape: tuple[int, ...]) -> PerInstance:
    """torchvision's ResNet-18 without pretrained weights (none can be fetched offline), any channel count."""
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    channels, height, _ = input_shape[-3:]
    if channels != 3 or height < 64:  # small images: a 3x3 stem without the max-pool keeps spatial detail
        net.conv1 = nn.Conv2d(channels, 64, 3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    net.fc = nn.Identity()
    return PerInstance(net, 512)


def mlp(input_shape: tuple[int, ...], dim: int = 32) -> PerInstance:
    """A small MLP for vector instances (synthetic worlds, MIL checks): trains in well under a second."""
    return PerInstance(nn.Sequential(nn.Linear(input_shape[-1], 64), nn.ReLU(), nn.Linear(64, dim), nn.ReLU()), dim)


def mil_mlp(input_shape: tuple[int, ...]) -> PerInstance:
    """Ilse et al. 2018's instance embedding for MUSK / Elephant: Linear(d, 256)-ReLU-Linear(256, 128)-ReLU
    (their attention pooling with 64 hidden units is our `attention` head)."""
    return PerInstance(nn.Sequential(nn.Linear(input_shape[-1], 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU()), 128)


register_model(ModelSpec("simple_cnn", "image", "2 conv + 3 fully connected layers (the paper's)", simple_cnn))
register_model(ModelSpec("resnet18", "image", "torchvision ResNet-18, trained from scratch", resnet18))
register_model(ModelSpec("mlp", "vector", "2-layer MLP for feature vectors", mlp))
register_model(ModelSpec("mil_mlp", "vector", "Ilse et al. 2018's MIL-benchmark embedding: 256-128 MLP", mil_mlp))
