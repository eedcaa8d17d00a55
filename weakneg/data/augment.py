"""Training-time augmentation of log-mel batches, as in PSLA: SpecAugment and MixUp.

Both take the training loop's torch.Generator so that a run is reproducible from its seed.
Inputs are normalised (mean 0), so a masked region is set to 0: the dataset's mean level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

REFERENCE_FRAMES = 1056  # PSLA's input length; the time mask scales with shorter inputs


@dataclass(frozen=True)
class AugmentSettings:
    freq_mask: int = 48  # widest frequency mask, in mel bins
    time_mask: int = 192  # widest time mask, in frames, for a 1056-frame input
    mixup_alpha: float = 10.0
    mixup_rate: float = 0.5  # share of a batch's examples that are mixed with another one

    @classmethod
    def from_options(cls, options: dict) -> AugmentSettings:
        known = {k: options[k] for k in ("freq_mask", "time_mask", "mixup_alpha", "mixup_rate") if k in options}
        return cls(**known)


def numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator drawn from the torch one (numpy has the Beta distribution; torch's ignores generators)."""
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))


def spec_augment(
    inputs: torch.Tensor, rng: np.random.Generator, freq_mask: int = 48, time_mask: int = 192
) -> torch.Tensor:
    """One frequency mask and one time mask per example, widths uniform in [0, max], on (b, T, F) inputs."""
    b, frames, bins = inputs.shape
    widest_time = min(frames, round(time_mask * frames / REFERENCE_FRAMES))
    widest_freq = min(bins, freq_mask)
    masked = torch.zeros(b, frames, bins, dtype=torch.bool)
    for i in range(b):
        f = int(rng.integers(0, widest_freq + 1))
        f0 = int(rng.integers(0, bins - f + 1))
        t = int(rng.integers(0, widest_time + 1))
        t0 = int(rng.integers(0, frames - t + 1))
        masked[i, :, f0 : f0 + f] = True
        masked[i, t0 : t0 + t, :] = True
    return inputs.masked_fill(masked.to(inputs.device), 0.0)


def mixup(
    inputs: torch.Tensor, targets: torch.Tensor, rng: np.random.Generator, alpha: float = 10.0, rate: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix a share `rate` of the examples with a random partner: x = l x_i + (1-l) x_j, same for targets.

    l ~ Beta(alpha, alpha) per mixed example; the soft targets (b, classes) are mixed in proportion.
    """
    b = inputs.shape[0]
    if b < 2 or rate <= 0:
        return inputs, targets
    mixed = rng.random(b) < rate
    partners = rng.integers(0, b - 1, size=b)
    partners = partners + (partners >= np.arange(b))  # never the example itself
    lam = np.where(mixed, rng.beta(alpha, alpha, size=b), 1.0)
    lam_x = torch.as_tensor(lam, dtype=inputs.dtype, device=inputs.device).view(b, *([1] * (inputs.dim() - 1)))
    lam_y = torch.as_tensor(lam, dtype=targets.dtype, device=targets.device).view(b, 1)
    index = torch.as_tensor(partners, device=inputs.device)
    mixed_targets = lam_y * targets + (1 - lam_y) * targets[index.to(targets.device)]
    return lam_x * inputs + (1 - lam_x) * inputs[index], mixed_targets


def augment_batch(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    generator: torch.Generator,
    settings: AugmentSettings = AugmentSettings(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """MixUp then SpecAugment, in the order of PSLA's training loader (it masks the mixed clip)."""
    rng = numpy_rng(generator)
    inputs, targets = mixup(inputs, targets, rng, settings.mixup_alpha, settings.mixup_rate)
    return spec_augment(inputs, rng, settings.freq_mask, settings.time_mask), targets
