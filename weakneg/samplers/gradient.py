"""grad_norm: how hard the bag pulls on the last layer (docs/definitions.md, "Samplers").

The score is the L2 norm of dLoss/d(classifier weight, bias) for the bag, from the gradient embedding
the Pool caches (closed form for mean_softmax and attention: sqrt(|p - onehot(y)|^2 (|h_b|^2 + 1)),
no per-bag backward pass; head-only vmap(grad) for the other heads).
"""

from __future__ import annotations

import torch

from .base import Pool, SamplerSpec, by_score, register
from .params import label_param


def grad_norm_scores(pool: Pool, options: dict) -> torch.Tensor:
    return pool.grad_embedding(options["label"]).sq_norms().double().sqrt()  # the Pool checks the label


GRAD_NORM = register(
    SamplerSpec(
        "grad_norm",
        "Gradient norm: the k negative bags whose loss gradient on the last layer (classifier weight and bias) is "
        "largest, the bags that would move the model most. By default the loss is taken at the bag's known label "
        "(negative), so the score grows with the model's wrong confidence that the bag is positive; "
        "label=predicted takes it at the model's own prediction instead (BADGE's pseudo-label, our option). "
        "Score = the L2 norm; largest wins.",
        by_score(grad_norm_scores, largest=True),
        params={
            "label": label_param("known", "loss gradient at the known negative label, or at the model's prediction")
        },
        uses_positives=False,
        reads={"gradients"},
    )
)
