"""Cross-entropy with partial labels, so 2-way RTE pairs can train a 3-way head.

Label ids 0..2 are the usual NLI classes; id 3 (``not_entailment``) means "neutral or
contradiction": its loss is -log(p_neutral + p_contradiction).
"""

from __future__ import annotations

import torch
from sentence_transformers.util import batch_to_device
from torch import Tensor, nn

# rows: label id; columns: model outputs allowed by that label
ALLOWED = torch.tensor(
    [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
    ]
)


class PartialLabelCrossEntropyLoss(nn.Module):
    def __init__(self, model, class_weights: list[float] | None = None) -> None:
        super().__init__()
        self.model = model
        self.class_weights = None if class_weights is None else torch.tensor(class_weights)

    def forward(self, inputs: list[list[str]], labels: Tensor, **_: object) -> Tensor:
        pairs = list(zip(inputs[0], inputs[1], strict=True))
        tokens = batch_to_device(self.model.preprocess(pairs), self.model.device)
        logits = self.model(tokens)["scores"].float()
        labels = labels.view(-1).long()
        allowed = ALLOWED.to(logits.device)[labels]
        masked = logits.masked_fill(allowed == 0, float("-inf"))
        loss = torch.logsumexp(logits, dim=1) - torch.logsumexp(masked, dim=1)
        if self.class_weights is not None:
            w = self.class_weights.to(logits.device)[labels]
            return (loss * w).sum() / w.sum()
        return loss.mean()
