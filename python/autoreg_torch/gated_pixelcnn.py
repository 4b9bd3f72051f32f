"""Gated PixelCNN: a vertical stack (k x k, never the current row) and a horizontal stack
(1 x k, pixels to the left; mask A in the first layer), gated blocks

    v_f = vertical(v) [+ y @ V_v],  h_f = horizontal(h) + link(v_f) [+ y @ V_h]
    v <- tanh(v_f[:n]) * sigmoid(v_f[n:]),  h <- h + horizontal_out(tanh(h_f[:n]) * sigmoid(h_f[n:]))

and a 1x1 head on ELU(h). For colour images the horizontal stack's channels are split into one
group per image channel (a 2n-wide pre-activation: values then gates, each grouped like n)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .distributions import levels as output_levels, width as output_width
from .masks import MaskedConv2d, group, horizontal_mask, scaled_input, to_logits, vertical_mask
from .safetensors_io import parameter


def gate(f):
    n = f.shape[1] // 2
    return torch.tanh(f[:, :n]) * torch.sigmoid(f[:, n:])


class GatedPixelCNN(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        o = config["options"]
        c, n, k = config["channels"], o["hiddenChannels"], o["kernelSize"]
        self.config = config
        self.classes = config.get("classes", 0)
        self.width = output_width(config["output"])
        self.levels = output_levels(config["output"])

        def hidden(j):
            return group(j, n, c)

        def doubled(j):
            return group(j % n, n, c)

        def conv(name, cout, cin, kh, kw, mask, dilation=(1, 1)):
            w = parameter(tensors, f"{name}.weight", (cout, cin, kh, kw))
            b = parameter(tensors, f"{name}.bias", (cout,))
            return MaskedConv2d(w, b, mask, dilation)

        self.vertical_input = conv("input.vertical", n, c, k, k, vertical_mask(n, c, k, exclude_centre_row=True))
        self.horizontal_input = conv("input.horizontal", n, c, 1, k,
                                     horizontal_mask(n, c, k, "A", out_group=hidden, in_group=lambda j: j))
        self.blocks = nn.ModuleList()
        self.labels_v, self.labels_h = [], []
        for l, d in enumerate(o["dilations"]):
            name = f"block{l}"
            block = nn.ModuleDict({
                "vertical": conv(f"{name}.vertical", 2 * n, n, k, k,
                                 vertical_mask(2 * n, n, k, exclude_centre_row=False), (d, d)),
                "horizontal": conv(f"{name}.horizontal", 2 * n, n, 1, k,
                                   horizontal_mask(2 * n, n, k, "B", out_group=doubled, in_group=hidden), (1, d)),
                "link": conv(f"{name}.link", 2 * n, 2 * n, 1, 1, None),
                "horizontal_out": conv(f"{name}.horizontal.out", n, n, 1, 1,
                                       None if c == 1 else horizontal_mask(n, n, 1, "B", out_group=hidden, in_group=hidden)),
            })
            self.blocks.append(block)
            if self.classes > 0:
                self.labels_v.append(parameter(tensors, f"{name}.vertical.label", (self.classes, 2 * n)))
                self.labels_h.append(parameter(tensors, f"{name}.horizontal.label", (self.classes, 2 * n)))
        width = self.width
        self.head = conv("output.head", c * width, n, 1, 1,
                         None if c == 1 else horizontal_mask(c * width, n, 1, "B", out_group=lambda j: j // width,
                                                             in_group=hidden))

    def forward(self, x, labels=None):
        inp = scaled_input(x, self.levels)
        y = None
        if labels is not None and self.classes > 0:
            y = F.one_hot(torch.as_tensor(labels, dtype=torch.long), self.classes).to(inp.dtype)
        v, h = self.vertical_input(inp), self.horizontal_input(inp)
        for l, block in enumerate(self.blocks):
            vf = block["vertical"](v)
            if y is not None:
                vf = vf + (y @ self.labels_v[l])[:, :, None, None]
            hf = block["horizontal"](h) + block["link"](vf)
            if y is not None:
                hf = hf + (y @ self.labels_h[l])[:, :, None, None]
            v = gate(vf)
            h = h + block["horizontal_out"](gate(hf))
        return to_logits(self.head(F.elu(h)), self.config, self.width)


def build(config, tensors):
    return GatedPixelCNN(config, tensors)
