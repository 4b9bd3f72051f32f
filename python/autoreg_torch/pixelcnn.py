"""PixelCNN: a k0 x k0 mask-A convolution, residual bottleneck blocks
s <- s + expand(ReLU(conv(ReLU(reduce(ReLU(s)))))) with mask-B convolutions (2h -> h, k x k
dilated h -> h, h -> 2h), then ReLU, 1x1 (2h -> 2h), ReLU, 1x1 head (2h -> C * width).
Channels are split into one group per colour (masks.py)."""
import torch
import torch.nn as nn

from .distributions import levels as output_levels, width as output_width
from .masks import MaskedConv2d, pixelcnn_mask, scaled_input, to_logits
from .safetensors_io import parameter


class PixelCNN(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        c = config["channels"]
        n = o["hiddenChannels"]
        half = n // 2
        self.config = config
        self.width = output_width(config["output"])
        self.levels = output_levels(config["output"])

        def conv(cin, cout, k, kind, name, dilation=1):
            w = parameter(tensors, f"{name}.weight", (cout, cin, k, k))
            b = parameter(tensors, f"{name}.bias", (cout,))
            return MaskedConv2d(w, b, pixelcnn_mask(cout, cin, k, kind, c), (dilation, dilation))

        self.input = conv(c, n, o["firstKernelSize"], "A", "input")
        self.blocks = nn.ModuleList()
        for l, d in enumerate(o["dilations"]):
            self.blocks.append(nn.ModuleList([
                conv(n, half, 1, "B", f"block{l}.reduce"),
                conv(half, half, o["kernelSize"], "B", f"block{l}.conv", dilation=d),
                conv(half, n, 1, "B", f"block{l}.expand"),
            ]))
        self.output_hidden = conv(n, n, 1, "B", "output.hidden")
        self.head = conv(n, c * self.width, 1, "B", "output.head")

    def forward(self, x, labels=None):
        s = self.input(scaled_input(x, self.levels))
        for reduce, conv, expand in self.blocks:
            s = s + expand(torch.relu(conv(torch.relu(reduce(torch.relu(s))))))
        out = self.head(torch.relu(self.output_hidden(torch.relu(s))))
        return to_logits(out, self.config, self.width)


def build(config, tensors):
    return PixelCNN(config, tensors)
