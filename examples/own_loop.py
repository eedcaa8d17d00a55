"""weakneg.select from your own training loop: a one-logit bag model on digits ("does the bag hold a 3?"),
where each epoch trains on every positive bag and on as many negatives, picked by BADGE from the negative pool."""

import torch
from sklearn.datasets import load_digits

import weakneg

torch.manual_seed(0)
x, y = load_digits(return_X_y=True)
bags = torch.tensor(x[:1796], dtype=torch.float32).view(449, 4, 64) / 16  # 449 bags of 4 images
label = (torch.tensor(y[:1796]).view(449, 4) == 3).any(1).float()  # the weak label: a 3 somewhere in the bag
positives, negatives = label.nonzero().squeeze(1), (label == 0).nonzero().squeeze(1)
encoder, last = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU()), torch.nn.Linear(32, 1)
optimizer = torch.optim.Adam([*encoder.parameters(), *last.parameters()], lr=0.01)
for epoch in range(1, 6):
    with torch.no_grad():  # score the negative pool with the current model
        features = encoder(bags[negatives]).mean(1)  # (N, 32): the input of the last linear layer
        logits = last(features).squeeze(1)  # (N,): one logit per bag
    picks = weakneg.select("badge", len(positives), logits=logits, features=features, seed=epoch)
    batch = torch.cat([positives, negatives[picks.indices]])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        last(encoder(bags[batch]).mean(1)).squeeze(1), label[batch]
    )
    optimizer.zero_grad(), loss.backward(), optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.3f}, first picks {negatives[picks.indices[:5]].tolist()}")
