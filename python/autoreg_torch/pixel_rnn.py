"""What the two PixelRNN models share (Sources/AutoregModels/PixelRNN.swift): the 7x7 mask-A
input layer (C -> 2h), the residual 1x1 mask-B layer after each recurrent layer (h -> 2h), the
output layers ReLU, 1x1 mask B (2h -> m), ReLU, 1x1 mask B (m -> C * width), and the LSTM cell.

Feature maps are split into one channel group per image channel (masks.py); an LSTM gate
block [o | f | i | g] of 4h units is grouped like the h state units it updates.
"""
import torch
import torch.nn as nn

from .distributions import levels as output_levels, width as output_width
from .masks import MaskedConv2d, group, horizontal_mask, pixelcnn_mask, scaled_input, to_logits
from .safetensors_io import parameter


def tensor(tensors, name, shape):
    """The exported tensor `name` of `shape`; `tensors` may also be a function (name, shape) ->
    tensor, which the benchmarks use to build the same network with fresh weights."""
    if callable(tensors):
        return tensors(name, shape)
    return parameter(tensors, name, shape)


def conv(tensors, name, cout, cin, kh, kw, mask=None):
    """A (masked) convolution with "same" padding from `name`.weight [cout, cin, kh, kw] and .bias."""
    return MaskedConv2d(tensor(tensors, f"{name}.weight", (cout, cin, kh, kw)),
                        tensor(tensors, f"{name}.bias", (cout,)), mask)


def lstm_cell(gates, cell):
    """PixelRNN's cell (eq. 3): gates [B, 4h, ...] in blocks o, f, i, g along axis 1; cell
    [B, h, ...] (zeros before the first step). Returns (h, c)."""
    o, f, i, g = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class PixelRNNStack(nn.Module):
    """The layers around the recurrent ones: `begin` (pixels -> the 2h stream) and `end`
    (the stream -> logits in Swift's layout)."""

    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        c = config["channels"]
        h, m, k0 = o["hiddenUnits"], o["outputChannels"], o["firstKernelSize"]
        self.config, self.channels, self.units = config, c, h
        self.width = output_width(config["output"])
        self.levels = output_levels(config["output"])
        w = self.width
        self.input = conv(tensors, "input", 2 * h, c, k0, k0, pixelcnn_mask(2 * h, c, k0, "A", c))
        self.output_hidden = conv(tensors, "output.hidden", m, 2 * h, 1, 1, pixelcnn_mask(m, 2 * h, 1, "B", c))
        # Head channel j belongs to image channel j // width.
        self.head = conv(tensors, "output.head", c * w, m, 1, 1,
                         horizontal_mask(c * w, m, 1, "B", lambda j: j // w, lambda i: group(i, m, c)))

    def gate_group(self, j):
        """The channel group of gate unit j of 4h."""
        return group(j % self.units, self.units, self.channels)

    def input_group(self, j):
        """The channel group of unit j of the 2h stream."""
        return group(j, 2 * self.units, self.channels)

    def residual_output(self, tensors, name):
        """The 1x1 mask-B layer h -> 2h after a recurrent layer (a plain 1x1 for one channel)."""
        h, c = self.units, self.channels
        return conv(tensors, name, 2 * h, h, 1, 1, None if c == 1 else pixelcnn_mask(2 * h, h, 1, "B", c))

    def begin(self, x):
        return self.input(scaled_input(x, self.levels))

    def end(self, s):
        out = self.head(torch.relu(self.output_hidden(torch.relu(s))))
        return to_logits(out, self.config, self.width)
