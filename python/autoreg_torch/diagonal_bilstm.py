"""Diagonal BiLSTM (Sources/AutoregModels/DiagonalBiLSTM.swift; van den Oord et al. 2016,
section 3.2), written the common way: each direction skews its input map (row r moved right
by r, so that the diagonals become columns), runs the 1x1 mask-B input-to-state convolution,
then loops over the skewed columns with the 2x1 state-to-state convolution over the previous
column (the neighbours to the left and above) and the LSTM cell, and unskews. The right-to-left
direction is the same computation with its own weights on the mirrored map, mirrored back and
shifted down one row, so that it never sees the current row:

    s <- s + 1x1 mask B (h -> 2h)(L(s) + shift_down(flip(R(flip(s)))))

Names: layer<l>.left|right.input (4h, 2h, 1, 1), layer<l>.left|right.state (4h, h, 2, 1),
layer<l>.output (2h, h, 1, 1).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .masks import horizontal_mask
from .pixel_rnn import PixelRNNStack, conv, lstm_cell, tensor


def skew(x):
    """[B, C, H, W] -> [B, C, H, W + H - 1]: row r moved right by r, zeros elsewhere."""
    b, c, height, width = x.shape
    out = x.new_zeros(b, c, height, width + height - 1)
    for r in range(height):
        out[:, :, r, r:r + width] = x[:, :, r]
    return out


def unskew(x, width):
    """The inverse of `skew`: [B, C, H, W'] -> [B, C, H, width], row r read from column r on."""
    return torch.stack([x[:, :, r, r:r + width] for r in range(x.shape[2])], dim=2)


def shift_down(x):
    """Every image moved down one row, zeros in the first."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :x.shape[2]]


class Direction(nn.Module):
    """One direction: the LSTM along the diagonals from the left."""

    def __init__(self, stack, tensors, name, units):
        super().__init__()
        h = units
        self.units = h
        mask = None if stack.channels == 1 else horizontal_mask(4 * h, 2 * h, 1, "B", stack.gate_group, stack.input_group)
        self.input_to_state = conv(tensors, f"{name}.input", 4 * h, 2 * h, 1, 1, mask)
        # Output row i reads rows i - 1 (tap 0) and i (tap 1) of the previous column.
        self.state_weight = nn.Parameter(tensor(tensors, f"{name}.state.weight", (4 * h, h, 2, 1)), requires_grad=False)
        self.state_bias = nn.Parameter(tensor(tensors, f"{name}.state.bias", (4 * h,)), requires_grad=False)

    def forward(self, s):
        b, _, height, width = s.shape
        gates_in = skew(self.input_to_state(s))                  # [B, 4h, H, W + H - 1]
        hidden = s.new_zeros(b, self.units, height, 1)           # the column left of the map
        cell = s.new_zeros(b, self.units, height, 1)
        columns = []
        for j in range(width + height - 1):
            above_and_left = F.pad(hidden, (0, 0, 1, 0))        # zero row above the image
            gates = F.conv2d(above_and_left, self.state_weight, self.state_bias) + gates_in[:, :, :, j:j + 1]
            hidden, cell = lstm_cell(gates, cell)
            columns.append(hidden)
        return unskew(torch.cat(columns, dim=3), width)


class DiagonalBiLSTMLayer(nn.Module):
    def __init__(self, stack, tensors, name, units):
        super().__init__()
        self.left = Direction(stack, tensors, f"{name}.left", units)
        self.right = Direction(stack, tensors, f"{name}.right", units)
        self.output = stack.residual_output(tensors, f"{name}.output")

    def forward(self, s):
        from_right = shift_down(torch.flip(self.right(torch.flip(s, dims=[3])), dims=[3]))
        return s + self.output(self.left(s) + from_right)


class DiagonalBiLSTM(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        self.config = config
        self.stack = PixelRNNStack(config, tensors)
        self.layers = nn.ModuleList(DiagonalBiLSTMLayer(self.stack, tensors, f"layer{l}", o["hiddenUnits"])
                                    for l in range(o["layers"]))

    def forward(self, x, labels=None):
        if labels is not None:
            raise ValueError("diagonal-bilstm is not class-conditional but was given labels")
        s = self.stack.begin(x)
        for layer in self.layers:
            s = layer(s)
        return self.stack.end(s)


def build(config, tensors):
    return DiagonalBiLSTM(config, tensors)
