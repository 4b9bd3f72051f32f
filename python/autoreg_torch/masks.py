"""Causal convolution masks (raster order over pixels, colour channels R -> G -> B within a
pixel), written from the rules in Swift's `CausalMask`, and a masked convolution.

Feature maps are split into one channel group per image channel: channel k of n belongs to
group k * groups // n. A tap that reads an earlier pixel connects every channel pair; a tap
that reads the current pixel connects input group gi to output group go when go > gi (mask A)
or go >= gi (mask B); a tap that reads a later pixel connects none.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def group(k, n, groups):
    return k * groups // n


def _make(out_ch, in_ch, kh, kw, kind, out_group, in_group, tap):
    """tap(ky, kx) -> "open" | "closed" | "center"."""
    m = torch.zeros(out_ch, in_ch, kh, kw, dtype=torch.float64)
    for ky in range(kh):
        for kx in range(kw):
            t = tap(ky, kx)
            if t == "open":
                m[:, :, ky, kx] = 1
            elif t == "center":
                for co in range(out_ch):
                    go = out_group(co)
                    for ci in range(in_ch):
                        gi = in_group(ci)
                        if (go > gi) if kind == "A" else (go >= gi):
                            m[co, ci, ky, kx] = 1
    return m


def pixelcnn_mask(out_ch, in_ch, k, kind, groups):
    """PixelCNN's k x k mask: rows above the centre and the taps left of it are open."""
    c = k // 2

    def tap(ky, kx):
        if ky < c or (ky == c and kx < c):
            return "open"
        return "center" if (ky == c and kx == c) else "closed"

    return _make(out_ch, in_ch, k, k, kind, lambda o: group(o, out_ch, groups), lambda i: group(i, in_ch, groups), tap)


def vertical_mask(out_ch, in_ch, k, exclude_centre_row):
    """Gated PixelCNN's vertical k x k mask: rows above the centre (and the centre row unless
    excluded); no channel groups."""
    c = k // 2
    return _make(out_ch, in_ch, k, k, "B", lambda o: 0, lambda i: 0,
                 lambda ky, kx: "open" if ky < c or (ky == c and not exclude_centre_row) else "closed")


def horizontal_mask(out_ch, in_ch, k, kind, out_group, in_group):
    """Gated PixelCNN's 1 x k mask: taps left of the centre open, the centre by the group rule."""
    c = k // 2
    return _make(out_ch, in_ch, 1, k, kind, out_group, in_group,
                 lambda ky, kx: "open" if kx < c else ("center" if kx == c else "closed"))


class MaskedConv2d(nn.Module):
    """conv(x, W * M) + b with "same" padding dilation * (k - 1) / 2 on each axis, like Swift's
    `MaskedConv2D` (mask None: a plain convolution)."""

    def __init__(self, weight, bias, mask=None, dilation=(1, 1)):
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(bias, requires_grad=False)
        if mask is not None:
            if tuple(mask.shape) != tuple(weight.shape):
                raise ValueError(f"mask {tuple(mask.shape)} differs from weight {tuple(weight.shape)}")
            mask = mask.to(weight.dtype)
        self.register_buffer("mask", mask)
        kh, kw = weight.shape[2], weight.shape[3]
        self.dilation = tuple(dilation)
        self.padding = (self.dilation[0] * (kh - 1) // 2, self.dilation[1] * (kw - 1) // 2)

    def forward(self, x):
        w = self.weight if self.mask is None else self.weight * self.mask
        return F.conv2d(x, w, self.bias, padding=self.padding, dilation=self.dilation)


def to_logits(head, config, output_width):
    """Head output [B, C * L, H, W] (channel c * L + l: output l of image channel c) ->
    Swift's [B, D] (L = 1) or [B, D, L], D = H * W * C with the channels of a pixel last."""
    b, _, h, w = head.shape
    last = head.permute(0, 2, 3, 1).reshape(b, h * w * config["channels"], output_width)
    return last.squeeze(-1) if output_width == 1 else last


def scaled_input(x, levels):
    """Pixels 0..levels-1 -> [-1, 1] (the convolutional models' input)."""
    return x * (2.0 / (levels - 1)) - 1
