"""PixelCNN++ (Sources/AutoregModels/PixelCNNPlusPlus.swift and +Block.swift; Salimans et al.
2017), grey images and RGB ones with the coupled colour mixture, written the common way with
padded convolutions:

    x' = [x scaled to [-1, 1], 1]
    u  = down_shift(down_shifted_conv 2x3 (x'))
    ul = down_shift(down_shifted_conv 1x3 (x')) + right_shift(down_right_shifted_conv 2x1 (x'))
    up pass, three resolutions: R gated resnet blocks each (u, then ul reading u), every value
        kept; between resolutions stride-2 down_shifted_conv 2x3 (u) / down_right_shifted 2x2 (ul)
    down pass: R, R + 1, R + 1 blocks (coarse to fine) reading the kept values in reverse order;
        between resolutions stride-2 transposed convolutions cut back to the finer size
    logits = nin(concat_elu(ul))          grey: the output width per pixel; RGB: the 10K
                                          parameters of a colour mixture per pixel, split into
                                          p(r), p(g | r), p(b | r, g) (`colour_conditionals`)

    gated_resnet(x, a...) = x + a1 * sigmoid(a2),
        [a1, a2] = conv'(concat_elu(conv(concat_elu(x)) + sum_k nin_k(concat_elu(a_k))))

Dropout is an identity outside training and is left out. Names: input.u, input.ul.above,
input.ul.left, downsample<k>.u|ul, upsample<k>.u|ul (transposed, weight [Cin, Cout, KH, KW]),
up<k>.block<i>.u|ul.conv|link<j>|gate, down<k>.block<i>.u|ul..., output.head.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .distributions import MIN_LOG_SCALE, _log_bin, levels as output_levels, parse_output, width as output_width
from .masks import scaled_input, to_logits
from .pixel_rnn import tensor

RESOLUTIONS = 3
BLOCK_KERNEL = {"down": (2, 3), "down-right": (2, 2)}


def concat_elu(x):
    return torch.cat([F.elu(x), F.elu(-x)], dim=1)


def down_shift(x):
    return F.pad(x, (0, 0, 1, 0))[:, :, :x.shape[2]]


def right_shift(x):
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :x.shape[3]]


class ShiftedConv(nn.Module):
    """down: KH x KW over the KH - 1 rows above and the current row, columns centred (padding
    top KH - 1, left and right (KW - 1) / 2); down-right: over the KH - 1 rows above and the
    KW - 1 columns to the left (padding top KH - 1, left KW - 1). Stride 1 or 2."""

    def __init__(self, tensors, name, shift, cin, cout, kernel=None, stride=1):
        super().__init__()
        kh, kw = kernel or BLOCK_KERNEL[shift]
        self.weight = nn.Parameter(tensor(tensors, f"{name}.weight", (cout, cin, kh, kw)), requires_grad=False)
        self.bias = nn.Parameter(tensor(tensors, f"{name}.bias", (cout,)), requires_grad=False)
        if shift == "down":
            self.pad = ((kw - 1) // 2, (kw - 1) // 2, kh - 1, 0)
        else:
            self.pad = (kw - 1, 0, kh - 1, 0)
        self.stride = stride

    def forward(self, x):
        return F.conv2d(F.pad(x, self.pad), self.weight, self.bias, stride=self.stride)


class ShiftedDeconv(nn.Module):
    """Stride-2 transposed convolution: coarse (i, j) reaches fine rows 2i, 2i + 1 and columns
    2j - 1 .. 2j + 1 (down) or 2j, 2j + 1 (down-right); cut to the finer size."""

    def __init__(self, tensors, name, shift, channels):
        super().__init__()
        kh, kw = BLOCK_KERNEL[shift]
        self.weight = nn.Parameter(tensor(tensors, f"{name}.weight", (channels, channels, kh, kw)), requires_grad=False)
        self.bias = nn.Parameter(tensor(tensors, f"{name}.bias", (channels,)), requires_grad=False)
        self.left = (kw - 1) // 2 if shift == "down" else 0

    def forward(self, x, size):
        full = F.conv_transpose2d(x, self.weight, self.bias, stride=2)   # fine row 2i + ky, column 2j + kx
        height, width = size
        return full[:, :, :height, self.left:self.left + width]


class GatedResnet(nn.Module):
    def __init__(self, tensors, name, shift, filters, links):
        super().__init__()
        f = filters
        self.conv = ShiftedConv(tensors, f"{name}.conv", shift, 2 * f, f)
        self.links = nn.ModuleList(ShiftedConv(tensors, f"{name}.link{k}", "down", 2 * f, f, kernel=(1, 1))
                                   for k in range(links))
        self.gate = ShiftedConv(tensors, f"{name}.gate", shift, 2 * f, 2 * f)

    def forward(self, x, aux):
        hidden = self.conv(concat_elu(x))
        for link, a in zip(self.links, aux, strict=True):
            hidden = hidden + link(concat_elu(a))
        a, b = self.gate(concat_elu(hidden)).chunk(2, dim=1)
        return x + a * torch.sigmoid(b)


class BlockPair(nn.Module):
    def __init__(self, tensors, name, filters, u_links, ul_links):
        super().__init__()
        self.u = GatedResnet(tensors, f"{name}.u", "down", filters, u_links)
        self.ul = GatedResnet(tensors, f"{name}.ul", "down-right", filters, ul_links)


def colour_conditionals(params, x, components):
    """Per-sub-pixel grey mixtures [B, H*W*3, 3K] from colour mixture parameters [B, H*W, 10K]
    (Swift's `LogisticMixture` order: K logits, means of R, G, B, log-scales of R, G, B, then
    the coefficients alpha, beta, gamma, each K, through tanh) and the pixels x [B, 3, H, W]:

        p(r):        logits  log pi_k                          means mu_R                  log-scales s_R
        p(g | r):    + log p_k(r)                              mu_G + alpha_k r            s_G
        p(b | r, g): + log p_k(r) + log p_k(g | r)             mu_B + beta_k r + gamma_k g s_B

    with r, g on [-1, 1] and log p_k the component's bin log-probability."""
    k = components
    part = lambda j: params[..., j * k:(j + 1) * k]
    logits, mean, log_scale = part(0), [part(1), part(2), part(3)], [part(4), part(5), part(6)]
    alpha, beta, gamma = torch.tanh(part(7)), torch.tanh(part(8)), torch.tanh(part(9))
    b = x.shape[0]
    values = x.permute(0, 2, 3, 1).reshape(b, -1, 3).round()           # [B, H*W, 3]
    r, g = (2 * values[..., :1] - 255) / 255, (2 * values[..., 1:2] - 255) / 255
    means = [mean[0], mean[1] + alpha * r, mean[2] + beta * r + gamma * g]

    def log_p(c):
        return _log_bin(values[..., c:c + 1], means[c], torch.clamp(log_scale[c], min=MIN_LOG_SCALE))

    after_r = logits + log_p(0)
    weights = [logits, after_r, after_r + log_p(1)]
    per_channel = [torch.cat([weights[c], means[c], log_scale[c]], dim=-1) for c in range(3)]
    return torch.stack(per_channel, dim=2).reshape(b, -1, 3 * k)


class PixelCNNPlusPlus(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        name, k = parse_output(config["output"])
        self.colour = config["channels"] == 3 and name == "logistic-mixture"
        if config["channels"] != 1 and not self.colour:
            raise ValueError(f"pixelcnn++ models grey images, or RGB ones with logistic-mixture outputs, "
                             f"not {config['channels']} channels with {config['output']} outputs")
        self.components = k
        o = config["options"]
        f, r, c = o["filters"], o["resnetBlocks"], config["channels"]
        self.config = config
        self.width = output_width(config["output"])
        self.levels = output_levels(config["output"])
        self.input_u = ShiftedConv(tensors, "input.u", "down", c + 1, f, kernel=(2, 3))
        self.input_ul_above = ShiftedConv(tensors, "input.ul.above", "down", c + 1, f, kernel=(1, 3))
        self.input_ul_left = ShiftedConv(tensors, "input.ul.left", "down-right", c + 1, f, kernel=(2, 1))
        self.up_blocks = nn.ModuleList()
        self.downsampling = nn.ModuleList()
        for level in range(RESOLUTIONS):
            if level > 0:
                self.downsampling.append(nn.ModuleList([
                    ShiftedConv(tensors, f"downsample{level}.u", "down", f, f, stride=2),
                    ShiftedConv(tensors, f"downsample{level}.ul", "down-right", f, f, stride=2)]))
            self.up_blocks.append(nn.ModuleList(BlockPair(tensors, f"up{level}.block{i}", f, 0, 1) for i in range(r)))
        self.down_blocks = nn.ModuleList(
            nn.ModuleList(BlockPair(tensors, f"down{level}.block{i}", f, 1, 2)
                          for i in range(r if level == RESOLUTIONS - 1 else r + 1))
            for level in range(RESOLUTIONS))
        self.upsampling = nn.ModuleList(
            nn.ModuleList([ShiftedDeconv(tensors, f"upsample{level}.u", "down", f),
                           ShiftedDeconv(tensors, f"upsample{level}.ul", "down-right", f)])
            for level in range(RESOLUTIONS - 1))
        head_width = 10 * k if self.colour else c * self.width
        self.head = ShiftedConv(tensors, "output.head", "down", 2 * f, head_width, kernel=(1, 1))

    def forward(self, x, labels=None):
        if labels is not None:
            raise ValueError("pixelcnn++ is not class-conditional but was given labels")
        pixels, x = x, scaled_input(x, self.levels)
        padded = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        u = down_shift(self.input_u(padded))
        ul = down_shift(self.input_ul_above(padded)) + right_shift(self.input_ul_left(padded))
        u_kept, ul_kept = [u], [ul]
        for level in range(RESOLUTIONS):
            if level > 0:
                down_u, down_ul = self.downsampling[level - 1]
                u, ul = down_u(u), down_ul(ul)
                u_kept.append(u)
                ul_kept.append(ul)
            for pair in self.up_blocks[level]:
                u = pair.u(u, [])
                ul = pair.ul(ul, [u])
                u_kept.append(u)
                ul_kept.append(ul)
        u, ul = u_kept.pop(), ul_kept.pop()
        for level in reversed(range(RESOLUTIONS)):
            if level < RESOLUTIONS - 1:
                size = tuple(u_kept[-1].shape[2:])
                up_u, up_ul = self.upsampling[level]
                u, ul = up_u(u, size), up_ul(ul, size)
            for pair in self.down_blocks[level]:
                u = pair.u(u, [u_kept.pop()])
                ul = pair.ul(ul, [u, ul_kept.pop()])
        assert not u_kept and not ul_kept, "every kept value is used once"
        head = self.head(concat_elu(ul))
        if self.colour:
            per_pixel = head.permute(0, 2, 3, 1).reshape(head.shape[0], -1, head.shape[1])
            return colour_conditionals(per_pixel, pixels, self.components)
        return to_logits(head, self.config, self.width)


def build(config, tensors):
    return PixelCNNPlusPlus(config, tensors)
