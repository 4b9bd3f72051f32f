"""NADE: h_t = sigmoid(c + sum_{s<t} W[s] x_{o(s)}), logit of pixel o(t) = b[t] + V[t] . h_t,
with o the ordering (rows of W, V and b are in generation order)."""
import torch
import torch.nn as nn

from .distributions import flatten_pixels
from .safetensors_io import buffer, parameter


class NADE(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        d = config["height"] * config["width"] * config["channels"]
        h = config["options"]["hidden"]
        self.W = nn.Parameter(parameter(tensors, "W", (d, h)), requires_grad=False)
        self.c = nn.Parameter(parameter(tensors, "c", (h,)), requires_grad=False)
        self.V = nn.Parameter(parameter(tensors, "V", (d, h)), requires_grad=False)
        self.b = nn.Parameter(parameter(tensors, "b", (d,)), requires_grad=False)
        self.register_buffer("ordering", torch.tensor(buffer(tensors, "ordering"), dtype=torch.long))

    def forward(self, x, labels=None):
        xo = flatten_pixels(x)[:, self.ordering]                    # [B, D] in generation order
        contributions = xo[:, :, None] * self.W[None]                 # [B, D, H]
        before = torch.cumsum(contributions, dim=1) - contributions   # sum over s < t
        hidden = torch.sigmoid(self.c + before)
        out = self.b + (hidden * self.V[None]).sum(-1)              # [B, D], step t
        logits = torch.empty_like(out)
        logits[:, self.ordering] = out
        return logits


def build(config, tensors):
    return NADE(config, tensors)
