"""MADE: an MLP whose weight masks let output i see only inputs before i in the ordering.

Per mask set k the export holds `buffers.mask<k>.ordering` and `buffers.mask<k>.degrees<l>`
(hidden layer l's unit degrees); the masks follow from them: input pixel i has degree
rank(i) + 1, hidden connection a -> b exists when m(b) >= m(a), and output (pixel i, any of
its `width` outputs) reads unit a of the last hidden layer (and, with direct connections,
input j) when rank(i) + 1 > m(a). Inputs are scaled to [0, 1] for 8-bit pixels.
"""
import torch
import torch.nn as nn

from .distributions import flatten_pixels, levels as output_levels, width as output_width
from .safetensors_io import buffer, parameter


def _mask(from_degrees, to_degrees, strict):
    a = torch.tensor(from_degrees)[:, None]
    b = torch.tensor(to_degrees)[None, :]
    return (b > a) if strict else (b >= a)


class MADE(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        d = config["height"] * config["width"] * config["channels"]
        self.width = output_width(config["output"])
        self.levels = output_levels(config["output"])
        self.dimension = d
        sizes = [d] + list(o["hidden"]) + [d * self.width]
        names = [f"hidden{l}" for l in range(len(o["hidden"]))] + ["output"]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for name, n_in, n_out in zip(names, sizes, sizes[1:]):
            self.weights.append(nn.Parameter(parameter(tensors, f"{name}.weight", (n_in, n_out)), requires_grad=False))
            self.biases.append(nn.Parameter(parameter(tensors, f"{name}.bias", (n_out,)), requires_grad=False))
        self.direct = o.get("directConnections", False)
        if self.direct:
            self.direct_weight = nn.Parameter(parameter(tensors, "direct.weight", (d, d * self.width)), requires_grad=False)
            self.direct_bias = nn.Parameter(parameter(tensors, "direct.bias", (d * self.width,)), requires_grad=False)
        self.mask_count = o["masks"]
        self.mask_sets = []
        dtype = self.weights[0].dtype
        for k in range(self.mask_count):
            ordering = buffer(tensors, f"mask{k}.ordering")
            rank = [0] * d
            for t, i in enumerate(ordering):
                rank[i] = t
            inputs = [r + 1 for r in rank]
            degrees = [inputs] + [buffer(tensors, f"mask{k}.degrees{l}") for l in range(len(o["hidden"]))]
            outputs = [inputs[i] for i in range(d) for _ in range(self.width)]
            layer_masks = [_mask(degrees[l], degrees[l + 1], strict=False) for l in range(len(o["hidden"]))]
            layer_masks.append(_mask(degrees[-1], outputs, strict=True))
            direct_mask = _mask(inputs, outputs, strict=True) if self.direct else None
            self.mask_sets.append(([m.to(dtype) for m in layer_masks],
                                   direct_mask.to(dtype) if direct_mask is not None else None))
        self.active = 0

    def use_mask(self, k):
        """Switches to mask set k (0 <= k < mask_count)."""
        self.active = k

    def forward(self, x, labels=None):
        pixels = flatten_pixels(x)
        inp = pixels if self.levels == 2 else pixels / (self.levels - 1)
        masks, direct_mask = self.mask_sets[self.active]
        h = inp
        for w, b, m in zip(self.weights[:-1], self.biases[:-1], masks[:-1]):
            h = torch.relu(h @ (w * m) + b)
        out = h @ (self.weights[-1] * masks[-1]) + self.biases[-1]
        if self.direct:
            out = out + inp @ (self.direct_weight * direct_mask) + self.direct_bias
        return out if self.width == 1 else out.reshape(x.shape[0], self.dimension, self.width)


def build(config, tensors):
    return MADE(config, tensors)
