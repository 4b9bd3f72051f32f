"""FVSBN: logit_i = b_i + sum_j W[j, i] x_j over the pixels j before i in the ordering."""
import torch
import torch.nn as nn

from .distributions import flatten_pixels
from .safetensors_io import buffer, parameter


class FVSBN(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        d = config["height"] * config["width"] * config["channels"]
        self.weight = nn.Parameter(parameter(tensors, "linear.weight", (d, d)), requires_grad=False)
        self.bias = nn.Parameter(parameter(tensors, "linear.bias", (d,)), requires_grad=False)
        ordering = buffer(tensors, "ordering")
        rank = torch.empty(d, dtype=torch.long)
        rank[torch.tensor(ordering)] = torch.arange(d)
        # mask[j, i] = 1 when pixel j comes before pixel i.
        self.register_buffer("mask", (rank[:, None] < rank[None, :]).to(self.weight.dtype))

    def forward(self, x, labels=None):
        return flatten_pixels(x) @ (self.weight * self.mask) + self.bias


def build(config, tensors):
    return FVSBN(config, tensors)
