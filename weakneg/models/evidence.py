"""Per-instance evidence (docs/definitions.md, "Instance evidence"): what each instance of a bag says on its own,
and which instance drives the bag's positive prediction.

- Instance positive probability p_i = softmax(z_i)[pos], z_i = W h_i + c: the head's own classifier applied to
  instance i alone, the same for every head. Its log-odds m_i = z_i[pos] - z_i[neg].
- Attention head: a_i, the attention weight (0 on padding, sums to 1 over the bag's real instances).
- The driving instance: the one that adds most to the bag's positive log-odds (or probability), argmax_i of
  mean_softmax: m_i / n (the bag's log-odds is mean_i m_i), softmax_mean: p_i / n (p_b = mean_i p_i),
  softmax_max: p_i (p_b = max_i p_i), attention: a_i m_i (since sum_i a_i = 1, the bag's log-odds is
  sum_i a_i m_i). The first three are argmax_i m_i. Ties go to the first instance.

Storage: only real instances, as one flat array per quantity plus offsets (bag b's instances are
[offsets[b], offsets[b+1])). Flat + offsets rather than padded + mask because ragged bags (a MIL set's largest
bag is tens of times its median) would store mostly padding, and reading one bag is one slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import torch

from .heads import Attention, Head
from .ragged import real_only


class BagEvidence(TypedDict):
    prob: np.ndarray  # (n,) float32 instance positive probabilities
    driver: int  # the index, among them, of the driving instance
    attention: np.ndarray | None  # (n,) float32, attention head only


@dataclass
class InstanceEvidence:
    """Evidence of N bags, flat over their real instances."""

    prob: np.ndarray  # (R,) float16 instance positive probabilities
    offsets: np.ndarray  # (N + 1,) int32
    driver: np.ndarray  # (N,) int32 index, within its bag, of the driving instance
    attention: np.ndarray | None = None  # (R,) float16, attention head only

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays as saved with an epoch's arrays, named `<prefix>_instance_prob` etc."""
        out = {
            f"{prefix}_instance_prob": self.prob,
            f"{prefix}_instance_offsets": self.offsets,
            f"{prefix}_driver": self.driver,
        }
        if self.attention is not None:
            out[f"{prefix}_attention"] = self.attention
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> InstanceEvidence | None:
        """The evidence saved under this prefix; None for runs saved before it was."""
        if f"{prefix}_instance_prob" not in arrays:
            return None
        return cls(
            arrays[f"{prefix}_instance_prob"],
            arrays[f"{prefix}_instance_offsets"],
            arrays[f"{prefix}_driver"],
            arrays.get(f"{prefix}_attention"),
        )

    @classmethod
    def of(cls, saved) -> InstanceEvidence | None:
        """From the evidence an epoch record keeps (store.epoch_record.EvidenceArrays, same fields), or None."""
        return None if saved is None else cls(saved.prob, saved.offsets, saved.driver, saved.attention)

    def bag(self, index: int) -> BagEvidence:
        """One bag's instances: prob (n,), attention (n,) or None, driver (an index into them)."""
        start, stop = int(self.offsets[index]), int(self.offsets[index + 1])
        return {
            "prob": self.prob[start:stop].astype(np.float32),
            "driver": int(self.driver[index]),
            "attention": None if self.attention is None else self.attention[start:stop].astype(np.float32),
        }


@torch.no_grad()
def instance_evidence(head: Head, h: torch.Tensor, mask: torch.Tensor | None = None) -> InstanceEvidence:
    """Evidence of bags with instance features h (N, n, d) and padding mask (N, n) (None: every bag full)."""
    n_bags, width = h.shape[0], h.shape[1] if h.dim() == 3 else 0
    real = torch.ones(n_bags, width, dtype=torch.bool, device=h.device) if mask is None else mask.to(h.device)
    if n_bags == 0 or width == 0:
        empty = np.zeros(0, dtype=np.float16)
        return InstanceEvidence(
            empty,
            np.zeros(n_bags + 1, dtype=np.int32),
            np.zeros(n_bags, dtype=np.int32),
            empty if isinstance(head, Attention) else None,
        )
    logits = head.classifier(real_only(h, mask).float())  # (N, n, 2)
    prob = torch.softmax(logits, dim=-1)[..., 1]
    log_odds = logits[..., 1] - logits[..., 0]
    attention = None
    contribution = log_odds
    if isinstance(head, Attention):
        attention = head.weights(h.float(), mask)
        contribution = attention * log_odds
    contribution = contribution.masked_fill(~real, -torch.inf)  # padding never drives a bag
    sizes = real.sum(1)
    offsets = np.concatenate([[0], np.cumsum(sizes.cpu().numpy())]).astype(np.int32)
    flat = lambda x: x[real].float().cpu().numpy().astype(np.float16)  # noqa: E731  (row-major: bag, then instance)
    return InstanceEvidence(
        flat(prob),
        offsets,
        contribution.argmax(dim=1).cpu().numpy().astype(np.int32),
        None if attention is None else flat(attention),
    )
