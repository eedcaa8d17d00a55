"""Audio encoders: log-mel clips (B, frames, n_mels) -> instance features (B, n, d).

The instances of a clip are its time steps (or, for `psla`, its attention heads), so the engine's
heads (mean_softmax, attention, ...) pool them into the clip's prediction, and gradient
embeddings come from the head-only path like for images.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .registry import Encoder, ModelSpec, register_model


def _conv_block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class AudioCNN(Encoder):
    """A small CNN that trains on a CPU: 3 conv blocks (time and frequency / 16), mean over frequency.

    Output: one feature per 160 ms step (66 steps for a 1056-frame clip).
    """

    def __init__(self, dim: int = 64):
        super().__init__()
        self.dim = dim
        self.convs = nn.Sequential(_conv_block(1, 16, 5, stride=2), _conv_block(16, 32, 3), _conv_block(32, 64, 3))
        self.project = nn.Sequential(nn.Linear(64, dim), nn.ReLU())

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        x = self.convs(clips.unsqueeze(1))  # (B, 64, T/16, F/16)
        return self.project(x.mean(dim=3).transpose(1, 2))  # (B, T/16, dim)


def efficientnet_trunk(variant: str = "efficientnet_b0") -> tuple[nn.Module, int]:
    """torchvision EfficientNet features (no pretrained weights: none can be fetched offline), one input channel."""
    import torchvision

    net = getattr(torchvision.models, variant)(weights=None)
    stem = net.features[0][0]
    net.features[0][0] = nn.Conv2d(1, stem.out_channels, stem.kernel_size, stem.stride, stem.padding, bias=False)
    return net.features, net.classifier[1].in_features


class EfficientNetSteps(Encoder):
    """PSLA's trunk: EfficientNet over (frequency, time), mean over frequency -> one feature per 320 ms step."""

    def __init__(self, variant: str = "efficientnet_b0"):
        super().__init__()
        self.features, self.dim = efficientnet_trunk(variant)

    def steps(self, clips: torch.Tensor) -> torch.Tensor:
        x = self.features(clips.unsqueeze(1).transpose(2, 3))  # (B, C, F/32, T/32), as PSLA lays the input out
        return x.mean(dim=2).transpose(1, 2)  # (B, T/32, C)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.steps(clips)


class MultiHeadAttentionPool(nn.Module):
    """PSLA-style multi-head attention over time: head k pools the steps with softmax_t(w_k . x_t).

    The H pooled vectors are the clip's instances (B, H, d); the engine's head then combines them
    (mean_softmax averages their logits, as PSLA averages its heads).
    """

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.attention = nn.Linear(dim, heads)

    def weights(self, steps: torch.Tensor) -> torch.Tensor:
        return F.softmax(self.attention(steps), dim=1)  # (B, T, H), sums to 1 over time

    def forward(self, steps: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bth,btd->bhd", self.weights(steps), steps)


class PSLAEncoder(EfficientNetSteps):
    def __init__(self, variant: str = "efficientnet_b0", heads: int = 4):
        super().__init__(variant)
        self.pool = MultiHeadAttentionPool(self.dim, heads)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.pool(self.steps(clips))


def audio_cnn(input_shape: tuple[int, ...]) -> AudioCNN:
    return AudioCNN()


def effnet_steps(input_shape: tuple[int, ...]) -> EfficientNetSteps:
    return EfficientNetSteps()


def psla(input_shape: tuple[int, ...]) -> PSLAEncoder:
    return PSLAEncoder()


register_model(
    ModelSpec(
        "audio_cnn",
        "audio",
        "small 3-block CNN over log-mel, one instance per 160 ms; trains a soundscapes run on a CPU in minutes",
        audio_cnn,
    )
)
register_model(
    ModelSpec(
        "effnet_b0",
        "audio",
        "PSLA's trunk: EfficientNet-B0 (from scratch, 1 channel), one instance per 320 ms step",
        effnet_steps,
    )
)
register_model(
    ModelSpec(
        "psla",
        "audio",
        "PSLA: EfficientNet-B0 (from scratch, 1 channel) + 4-head attention "
        "pooling over time; the heads are the instances",
        psla,
    )
)
