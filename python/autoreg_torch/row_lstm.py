"""Row LSTM (Sources/AutoregModels/RowLSTM.swift; van den Oord et al. 2016, section 3.1),
written the common way: the input-to-state 1 x k mask-B convolution runs over the whole
image at once, then a loop over the rows runs the state-to-state 1 x k convolution on the row
above and the LSTM cell:

    gates_r = K_is * s_r + K_ss * h_{r-1}        (h_{-1} = 0, c_{-1} = 0)
    c_r = sigmoid(f) c_{r-1} + sigmoid(i) tanh(g),   h_r = sigmoid(o) tanh(c_r)
    s <- s + 1x1 mask B (h -> 2h)(h)

Names: layer<l>.input (4h, 2h, 1, k), layer<l>.state (4h, h, 1, k), layer<l>.output (2h, h, 1, 1).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .masks import horizontal_mask
from .pixel_rnn import PixelRNNStack, conv, lstm_cell, tensor


class RowLSTMLayer(nn.Module):
    def __init__(self, stack, tensors, name, units, kernel):
        super().__init__()
        h, k = units, kernel
        self.units = h
        self.input_to_state = conv(tensors, f"{name}.input", 4 * h, 2 * h, 1, k,
                                   horizontal_mask(4 * h, 2 * h, k, "B", stack.gate_group, stack.input_group))
        self.state_weight = nn.Parameter(tensor(tensors, f"{name}.state.weight", (4 * h, h, 1, k)), requires_grad=False)
        self.state_bias = nn.Parameter(tensor(tensors, f"{name}.state.bias", (4 * h,)), requires_grad=False)
        self.output = stack.residual_output(tensors, f"{name}.output")

    def forward(self, s):
        b, _, height, width = s.shape
        k = self.state_weight.shape[3]
        gates_in = self.input_to_state(s)                      # [B, 4h, H, W]
        hidden = s.new_zeros(b, self.units, 1, width)          # the row above the image
        cell = s.new_zeros(b, self.units, 1, width)
        rows = []
        for r in range(height):
            gates = F.conv2d(hidden, self.state_weight, self.state_bias, padding=(0, k // 2)) + gates_in[:, :, r:r + 1]
            hidden, cell = lstm_cell(gates, cell)
            rows.append(hidden)
        return s + self.output(torch.cat(rows, dim=2))


class RowLSTM(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        self.config = config
        self.stack = PixelRNNStack(config, tensors)
        self.layers = nn.ModuleList(RowLSTMLayer(self.stack, tensors, f"layer{l}", o["hiddenUnits"], o["kernelSize"])
                                    for l in range(o["layers"]))

    def forward(self, x, labels=None):
        if labels is not None:
            raise ValueError("row-lstm is not class-conditional but was given labels")
        s = self.stack.begin(x)
        for layer in self.layers:
            s = layer(s)
        return self.stack.end(s)


def build(config, tensors):
    return RowLSTM(config, tensors)
