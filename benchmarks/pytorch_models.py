"""PyTorch reference versions of the Autoreg models, for throughput comparisons.

Each class mirrors one model of ``Sources/AutoregModels`` layer for layer, with exactly
the same parameter count, but is written the way common PyTorch tutorials write it: a
masked layer keeps a dense weight and multiplies it by a fixed 0/1 mask on every
forward pass, so masked 3x3 and 1x3 kernels are computed as dense convolutions.

Only single-channel images (28x28x1 in the benchmarks) are supported; the colour-group
masks of the Swift models reduce to the masks below when there is one channel.

Row LSTM, Diagonal BiLSTM and PixelCNN++ are the loaders of ``python/autoreg_torch``
(``row_lstm.py``, ``diagonal_bilstm.py``, ``pixelcnn_pp.py``: loops over rows and over the
skewed diagonals, shifted and strided/transposed convolutions) built with fresh weights
(``RecurrentOrPlusPlus``), so the network timed is the one whose NLL is checked against Swift.

Every model takes pixels as a float tensor ``[B, 1, H, W]`` holding levels
``0 .. levels-1`` and offers

* ``logits(pixels)``: ``[B, 1, H, W]`` for binary pixels (``levels == 2``), or
  ``[B, levels, H, W]`` for 256-level pixels;
* ``nll(pixels)``: per-image negative log-likelihood ``[B]`` in nats, summed over pixels;
* ``pixel_logits(pixels, row, col)``: the logits of one pixel, ``[B]`` or ``[B, levels]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

MODEL_NAMES = ("gated-pixelcnn", "pixelcnn", "made", "fvsbn", "row-lstm", "diagonal-bilstm", "pixelcnn++")
# Models built by the loaders of python/autoreg_torch (see `RecurrentOrPlusPlus`).
LOADER_MODELS = ("row-lstm", "diagonal-bilstm", "pixelcnn++")


class MaskedConv2d(nn.Conv2d):
    """A 2-D convolution whose weight is multiplied by a fixed 0/1 mask at every call.

    The mask has the weight's shape ``[Cout, Cin, KH, KW]``; masked-out weights remain
    parameters (and are counted) but never affect the output or receive a gradient.
    Padding is "same" for the given dilation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int],
                 mask: torch.Tensor, dilation: tuple[int, int] = (1, 1)):
        kh, kw = kernel
        padding = (dilation[0] * (kh // 2), dilation[1] * (kw // 2))
        super().__init__(in_channels, out_channels, kernel, padding=padding, dilation=dilation)
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask {tuple(mask.shape)} differs from weight {tuple(self.weight.shape)}")
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)


class MaskedLinear(nn.Linear):
    """A fully connected layer ``y = x (W * M)^T + b`` with a fixed 0/1 mask ``[out, in]``.

    Initialised like the Swift ``MaskedLinear``: Glorot-uniform weight, zero bias.
    """

    def __init__(self, in_features: int, out_features: int, mask: torch.Tensor):
        super().__init__(in_features, out_features)
        if mask.shape != self.weight.shape:
            raise ValueError(f"mask {tuple(mask.shape)} differs from weight {tuple(self.weight.shape)}")
        self.register_buffer("mask", mask.to(self.weight.dtype))
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


# ---------------------------------------------------------------------------------------
# Masks (one image channel)
# ---------------------------------------------------------------------------------------

def pixelcnn_mask(out_channels: int, in_channels: int, k: int, kind: str) -> torch.Tensor:
    """PixelCNN's k x k mask: rows above the centre and taps left of it in the centre row
    are open; the centre tap is open for mask ``"B"`` and closed for mask ``"A"``."""
    m = torch.zeros(out_channels, in_channels, k, k)
    c = k // 2
    m[:, :, :c, :] = 1
    m[:, :, c, :c] = 1
    if kind == "B":
        m[:, :, c, c] = 1
    return m


def vertical_mask(out_channels: int, in_channels: int, k: int, exclude_centre_row: bool) -> torch.Tensor:
    """The gated PixelCNN's vertical k x k mask: rows above the centre, plus the centre
    row unless ``exclude_centre_row`` (the first layer must not see the current row)."""
    m = torch.zeros(out_channels, in_channels, k, k)
    c = k // 2
    m[:, :, : c if exclude_centre_row else c + 1, :] = 1
    return m


def horizontal_mask(out_channels: int, in_channels: int, k: int, kind: str) -> torch.Tensor:
    """The gated PixelCNN's horizontal 1 x k mask: taps left of the centre, plus the centre
    for mask ``"B"``."""
    m = torch.zeros(out_channels, in_channels, 1, k)
    c = k // 2
    m[:, :, :, : c + 1 if kind == "B" else c] = 1
    return m


# ---------------------------------------------------------------------------------------
# Shared likelihood code
# ---------------------------------------------------------------------------------------

class ImageModel(nn.Module):
    """Base class: input scaling, per-image NLL and single-pixel logits from full logits."""

    def __init__(self, levels: int, height: int = 28, width: int = 28):
        super().__init__()
        if levels not in (2, 256):
            raise ValueError(f"levels must be 2 or 256, got {levels}")
        self.levels, self.height, self.width = levels, height, width

    @property
    def out_width(self) -> int:
        """Logits per pixel: 1 for a Bernoulli head, ``levels`` for a categorical one."""
        return 1 if self.levels == 2 else self.levels

    def scaled_input(self, pixels: torch.Tensor) -> torch.Tensor:
        """Levels 0..L-1 mapped to [-1, 1], so that zero padding reads as "unknown"."""
        return pixels * (2.0 / (self.levels - 1)) - 1.0

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def nll(self, pixels: torch.Tensor) -> torch.Tensor:
        """Per-image negative log-likelihood in nats ``[B]``: BCE-with-logits for binary
        pixels, cross-entropy for 256 levels, summed over the pixels of each image."""
        logits = self.logits(pixels)
        if self.levels == 2:
            per_pixel = F.binary_cross_entropy_with_logits(logits, pixels, reduction="none")
        else:
            per_pixel = F.cross_entropy(logits, pixels.squeeze(1).long(), reduction="none")
        return per_pixel.flatten(1).sum(1)

    def loss(self, pixels: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the per-image NLL (the training objective)."""
        return self.nll(pixels).mean()

    def pixel_logits(self, pixels: torch.Tensor, row: int, col: int) -> torch.Tensor:
        """Logits of pixel (row, col) after a full forward pass: ``[B]`` or ``[B, levels]``."""
        logits = self.logits(pixels)
        return logits[:, 0, row, col] if self.levels == 2 else logits[:, :, row, col]


# ---------------------------------------------------------------------------------------
# Convolutional models
# ---------------------------------------------------------------------------------------

class GatedPixelCNN(ImageModel):
    """Gated PixelCNN as in ``GatedPixelCNN.swift`` (one channel, no class conditioning).

    ::

        v <- k x k vertical conv (1 -> n), centre row excluded
        h <- 1 x k horizontal conv (1 -> n), mask A
        per block (dilation d):
            vf = k x k vertical conv (n -> 2n, dilation d, centre row kept)(v)
            hf = 1 x k horizontal conv (n -> 2n, dilation d, mask B)(h) + 1x1 (2n -> 2n)(vf)
            v  = tanh(vf[:n]) * sigmoid(vf[n:])
            h  = h + 1x1 (n -> n)(tanh(hf[:n]) * sigmoid(hf[n:]))
        logits = 1x1 (n -> L)(ELU(h))

    Defaults (64 channels, 7 blocks, dilations 1,2,1,4,1,2,1, k = 3) give 852 160
    parameters with a 256-way head and 835 585 with a Bernoulli head.
    """

    def __init__(self, levels: int = 256, channels: int = 64, layers: int = 7, kernel: int = 3,
                 dilations: list[int] | None = None):
        super().__init__(levels)
        n, k = channels, kernel
        if dilations is None:
            pattern = [1, 2, 1, 4, 1, 2, 1]
            dilations = [pattern[i % len(pattern)] for i in range(layers)]
        if len(dilations) != layers:
            raise ValueError(f"{layers} layers but {len(dilations)} dilations")
        self.n = n
        self.vertical_input = MaskedConv2d(1, n, (k, k), vertical_mask(n, 1, k, exclude_centre_row=True))
        self.horizontal_input = MaskedConv2d(1, n, (1, k), horizontal_mask(n, 1, k, "A"))
        self.vertical = nn.ModuleList(
            MaskedConv2d(n, 2 * n, (k, k), vertical_mask(2 * n, n, k, exclude_centre_row=False), (d, d))
            for d in dilations)
        self.horizontal = nn.ModuleList(
            MaskedConv2d(n, 2 * n, (1, k), horizontal_mask(2 * n, n, k, "B"), (1, d)) for d in dilations)
        self.link = nn.ModuleList(nn.Conv2d(2 * n, 2 * n, 1) for _ in dilations)
        self.horizontal_out = nn.ModuleList(nn.Conv2d(n, n, 1) for _ in dilations)
        self.head = nn.Conv2d(n, self.out_width, 1)

    def _gate(self, f: torch.Tensor) -> torch.Tensor:
        values, gates = f.chunk(2, dim=1)
        return torch.tanh(values) * torch.sigmoid(gates)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.scaled_input(pixels)
        v, h = self.vertical_input(x), self.horizontal_input(x)
        for vertical, horizontal, link, out in zip(self.vertical, self.horizontal, self.link,
                                                   self.horizontal_out):
            vf = vertical(v)
            hf = horizontal(h) + link(vf)
            v = self._gate(vf)
            h = h + out(self._gate(hf))
        return self.head(F.elu(h))


class PixelCNN(ImageModel):
    """PixelCNN with residual bottleneck blocks, as in ``PixelCNN.swift`` (one channel).

    ::

        s <- k0 x k0 conv, mask A (1 -> n)                     k0 = 7
        per block:  s <- s + 1x1 (n/2 -> n)(ReLU(k x k mask B (n/2 -> n/2)(ReLU(1x1 (n -> n/2)(ReLU(s))))))
        logits = 1x1 (n -> L)(ReLU(1x1 (n -> n)(ReLU(s))))

    With one image channel a 1x1 mask-B convolution is an ordinary 1x1 convolution, so
    those layers are plain ``nn.Conv2d``. Defaults (64 channels, 15 blocks) match the
    Swift defaults (209 025 parameters, Bernoulli head); the benchmark uses 128 channels
    and 12 blocks (665 089 parameters).
    """

    def __init__(self, levels: int = 2, channels: int = 64, layers: int = 15, kernel: int = 3,
                 first_kernel: int = 7, dilations: list[int] | None = None):
        super().__init__(levels)
        n, half = channels, channels // 2
        dilations = dilations if dilations is not None else [1] * layers
        if len(dilations) != layers:
            raise ValueError(f"{layers} layers but {len(dilations)} dilations")
        self.input = MaskedConv2d(1, n, (first_kernel, first_kernel), pixelcnn_mask(n, 1, first_kernel, "A"))
        self.reduce = nn.ModuleList(nn.Conv2d(n, half, 1) for _ in dilations)
        self.conv = nn.ModuleList(
            MaskedConv2d(half, half, (kernel, kernel), pixelcnn_mask(half, half, kernel, "B"), (d, d))
            for d in dilations)
        self.expand = nn.ModuleList(nn.Conv2d(half, n, 1) for _ in dilations)
        self.output_hidden = nn.Conv2d(n, n, 1)
        self.head = nn.Conv2d(n, self.out_width, 1)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        s = self.input(self.scaled_input(pixels))
        for reduce, conv, expand in zip(self.reduce, self.conv, self.expand):
            s = s + expand(F.relu(conv(F.relu(reduce(F.relu(s))))))
        return self.head(F.relu(self.output_hidden(F.relu(s))))


# ---------------------------------------------------------------------------------------
# Dense models
# ---------------------------------------------------------------------------------------

class DenseImageModel(ImageModel):
    """Base for the dense models: flattens ``[B, 1, H, W]`` to ``[B, D]`` (raster order)
    and returns logits in the image layout of the convolutional models."""

    @property
    def dimension(self) -> int:
        return self.height * self.width

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D]`` inputs to ``[B, D * out_width]`` logits."""
        raise NotImplementedError

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        b = pixels.shape[0]
        out = self.dense_logits(pixels.reshape(b, self.dimension))
        if self.levels == 2:
            return out.reshape(b, 1, self.height, self.width)
        # Output unit i * levels + l is level l of pixel i.
        return out.reshape(b, self.height, self.width, self.levels).permute(0, 3, 1, 2)


class MADE(DenseImageModel):
    """MADE (Germain et al. 2015) with one fixed mask and natural ordering, as
    ``MADE.swift`` with ``masks = 1``: D -> hidden (ReLU) ... -> D * L.

    Input degrees are 1..D; hidden degrees are drawn uniformly from [min of the previous
    layer, D - 1]; hidden connections need m(k) >= m(k'), output connections d > m(k).
    The default 784-500-784 Bernoulli model has 785 284 parameters.
    """

    def __init__(self, levels: int = 2, hidden: list[int] | None = None, seed: int = 0):
        super().__init__(levels)
        hidden = hidden if hidden is not None else [500]
        d = self.dimension
        gen = torch.Generator().manual_seed(seed)
        degrees = [torch.arange(1, d + 1)]
        for size in hidden:
            low = min(int(degrees[-1].min()), d - 1)
            degrees.append(torch.randint(low, d, (size,), generator=gen))
        out_degrees = degrees[0].repeat_interleave(self.out_width)
        layers = []
        for prev, cur in zip(degrees[:-1], degrees[1:]):
            mask = (cur[:, None] >= prev[None, :]).float()          # [out, in]
            layers.append(MaskedLinear(len(prev), len(cur), mask))
        mask = (out_degrees[:, None] > degrees[-1][None, :]).float()
        layers.append(MaskedLinear(len(degrees[-1]), len(out_degrees), mask))
        self.layers = nn.ModuleList(layers)

    def scaled_input(self, pixels: torch.Tensor) -> torch.Tensor:
        """MADE reads binary pixels as they are and 256-level pixels scaled to [0, 1]."""
        return pixels if self.levels == 2 else pixels * (1.0 / (self.levels - 1))

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.scaled_input(x)
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        return self.layers[-1](h)


class FVSBN(DenseImageModel):
    """Fully visible sigmoid belief network, as ``FVSBN.swift``: one strictly triangular
    masked linear layer, logit_i = b_i + sum_{j<i} W_ij x_j (784 * 784 + 784 = 615 440
    parameters), started from zero weights. Binary pixels only."""

    def __init__(self, levels: int = 2):
        if levels != 2:
            raise ValueError("fvsbn models binary pixels only (levels 2)")
        super().__init__(levels)
        d = self.dimension
        self.linear = MaskedLinear(d, d, torch.tril(torch.ones(d, d), diagonal=-1))
        nn.init.zeros_(self.linear.weight)

    def dense_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)



# ---------------------------------------------------------------------------------------
# Row LSTM, Diagonal BiLSTM, PixelCNN++: the python/autoreg_torch loaders with fresh weights
# ---------------------------------------------------------------------------------------

def _autoreg_torch():
    """The ``autoreg_torch`` package of ``python/`` beside this folder."""
    python = str(Path(__file__).resolve().parent.parent / "python")
    if python not in sys.path:
        sys.path.insert(0, python)
    import autoreg_torch.models  # noqa: F401  (registers every builder)
    import autoreg_torch.distributions
    return autoreg_torch


class FreshWeights:
    """``(name, shape) -> tensor`` for the loaders: every weight drawn as the Swift models draw
    theirs (uniform in +-1/sqrt(fan-in), PyTorch's default; a transposed convolution
    [Cin, Cout, KH, KW] counts Cin*KH*KW/4 inputs per output at stride 2; PixelCNN++'s second
    block convolution ``*.gate`` at 0.1 of that), each bias like the weight before it."""

    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)
        self.bound = 1.0

    def __call__(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        bound = self.bound
        if name.endswith(".weight"):
            transposed = name.startswith("upsample")
            fan_in = shape[0] * shape[2] * shape[3] // 4 if transposed else shape[1] * shape[2] * shape[3]
            self.bound = bound = 1 / max(fan_in, 1) ** 0.5
            if name.endswith(".gate.weight"):
                bound *= 0.1
        return (torch.rand(shape, generator=self.generator) * 2 - 1) * bound


def loader_config(name: str, levels: int, output: str | None = None, channels: int | None = None,
                  layers: int | None = None, hidden: int | None = None, height: int = 28, width: int = 28) -> dict:
    """The Swift ``ModelConfig`` (as ``autoreg export`` writes it) of a benchmark model with the
    Swift defaults: PixelRNN h = 16 (``--hidden``), 7 layers, 32 output maps, 7x7 input, k = 3;
    PixelCNN++ 32 filters (``--channels``), 2 blocks per resolution (``--layers``)."""
    if output is None:   # Swift's defaults: PixelCNN++ models 8-bit pixels with 10 logistics
        output = "bernoulli" if levels == 2 else ("logistic-mixture:10" if name == "pixelcnn++" else f"categorical:{levels}")
    if name in ("row-lstm", "diagonal-bilstm"):
        options = {"hiddenUnits": hidden or 16, "layers": 7 if layers is None else layers, "outputChannels": 32,
                   "firstKernelSize": 7, "kernelSize": 3}
    elif name == "pixelcnn++":
        options = {"filters": channels or 32, "resnetBlocks": 2 if layers is None else layers}
    else:
        raise ValueError(f"{name} is not built by a loader")
    return {"kind": name, "height": height, "width": width, "channels": 1, "output": output, "classes": 0,
            "seed": 1, "options": options}


class RecurrentOrPlusPlus(ImageModel):
    """A loader's network (Swift's logit layout) behind the benchmark interface: ``logits`` in
    the image layout ``[B, width, H, W]`` (1, 256 or 3K outputs per pixel), ``nll`` from the
    output distribution as Swift computes it (``autoreg_torch.distributions``)."""

    def __init__(self, config: dict, seed: int = 0):
        package = _autoreg_torch()
        self.distributions = package.distributions
        super().__init__(self.distributions.levels(config["output"]), config["height"], config["width"])
        self.config = config
        self.output = config["output"]
        self.net = package.models.BUILDERS[config["kind"]](config, FreshWeights(seed))
        for p in self.net.parameters():   # the loaders freeze what they load
            p.requires_grad_(True)

    @property
    def out_width(self) -> int:
        return self.distributions.width(self.output)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        b = pixels.shape[0]
        out = self.net(pixels).reshape(b, self.height, self.width, self.out_width)
        return out.permute(0, 3, 1, 2)

    def nll(self, pixels: torch.Tensor) -> torch.Tensor:
        terms = self.distributions.nll_terms(self.output, self.net(pixels), self.distributions.flatten_pixels(pixels))
        return terms.sum(1)

    def draw(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One value per image from a pixel's logits ``[B, width]`` (``[B]`` for Bernoulli)."""
        name, k = self.distributions.parse_output(self.output)
        if name == "bernoulli":
            return torch.bernoulli(torch.sigmoid(logits), generator=generator)
        if name == "categorical":
            return torch.multinomial(torch.softmax(logits, dim=1), 1, generator=generator).squeeze(1).float()
        # A component, then a logistic draw from it, rounded to its bin of [-1, 1].
        weights, means, log_scales = logits[:, :k], logits[:, k:2 * k], logits[:, 2 * k:]
        j = torch.multinomial(torch.softmax(weights, dim=1), 1, generator=generator)
        mean = means.gather(1, j).squeeze(1)
        scale = torch.exp(torch.clamp(log_scales.gather(1, j).squeeze(1), min=self.distributions.MIN_LOG_SCALE))
        u = torch.rand(mean.shape, generator=generator).clamp(1e-5, 1 - 1e-5)
        v = mean + scale * (torch.log(u) - torch.log1p(-u))
        return torch.clamp(torch.round((v + 1) * 127.5), 0, 255)


# ---------------------------------------------------------------------------------------

def make_model(name: str, levels: int, channels: int | None = None, layers: int | None = None,
               hidden: list[int] | None = None, output: str | None = None) -> ImageModel:
    """Builds a model by its command-line name with the Swift defaults unless overridden
    (``output``: a Swift ``--output``, e.g. ``logistic-mixture:5``, for the loader models)."""
    if name in LOADER_MODELS:
        return RecurrentOrPlusPlus(loader_config(name, levels, output, channels=channels, layers=layers,
                                                 hidden=hidden[0] if hidden else None))
    if output is not None:
        raise ValueError(f"--output is read by {', '.join(LOADER_MODELS)}, not {name}")
    if name == "gated-pixelcnn":
        return GatedPixelCNN(levels, channels=channels or 64, layers=layers or 7)
    if name == "pixelcnn":
        return PixelCNN(levels, channels=channels or 64, layers=15 if layers is None else layers)
    if name == "made":
        return MADE(levels, hidden=hidden)
    if name == "fvsbn":
        return FVSBN(levels)
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")


def parameter_count(model: nn.Module) -> int:
    """Number of trainable scalars (masked-out weights included, as in the Swift models)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def expected_conv_parameters(name: str, levels: int, channels: int, layers: int) -> int:
    """Closed-form parameter count of the Swift convolutional models with one image
    channel and the default kernels (3x3 / 1x3, PixelCNN's first 7x7), computed from the
    layer list of ``GatedPixelCNN.swift`` and ``PixelCNN.swift``."""
    out = 1 if levels == 2 else levels
    n = channels
    if name == "gated-pixelcnn":
        block = (n * 2 * n * 9 + 2 * n) + (n * 2 * n * 3 + 2 * n) + (4 * n * n + 2 * n) + (n * n + n)
        return (9 * n + n) + (3 * n + n) + layers * block + (n * out + out)
    if name == "pixelcnn":
        h = n // 2
        block = (n * h + h) + (h * h * 9 + h) + (h * n + n)
        return (49 * n + n) + layers * block + (n * n + n) + (n * out + out)
    raise ValueError(name)


def expected_loader_parameters(name: str, out: int, size: int | None = None, layers: int | None = None) -> int:
    """Closed-form parameter count of Swift's Row LSTM, Diagonal BiLSTM (one image channel,
    7x7 input, k = 3, 32 output maps; ``size`` = h) and PixelCNN++ (``size`` = filters,
    ``layers`` = blocks per resolution) with ``out`` outputs per pixel, from the layer lists of
    ``RowLSTM.swift``, ``DiagonalBiLSTM.swift``, ``PixelRNN.swift`` and ``PixelCNNPlusPlus*.swift``."""
    if name in ("row-lstm", "diagonal-bilstm"):
        h, m, k, n = size or 16, 32, 3, 7 if layers is None else layers
        if name == "row-lstm":   # 1xk input-to-state 2h -> 4h, 1xk state-to-state h -> 4h
            recurrent = (2 * h * 4 * h * k + 4 * h) + (h * 4 * h * k + 4 * h)
        else:                    # two directions: 1x1 2h -> 4h, 2x1 h -> 4h
            recurrent = 2 * ((2 * h * 4 * h + 4 * h) + (h * 4 * h * 2 + 4 * h))
        per_layer = recurrent + (h * 2 * h + 2 * h)
        return (49 * 2 * h + 2 * h) + n * per_layer + (2 * h * m + m) + (m * out + out)
    if name == "pixelcnn++":
        f, r = size or 32, 2 if layers is None else layers
        first = (2 * f * 6 + f) + (2 * f * 3 + f) + (2 * f * 2 + f)      # 2x3, 1x3, 2x1 over [x, 1]
        u = (2 * f * f * 6 + f) + (2 * f * 2 * f * 6 + 2 * f)              # 2x3 conv and gate
        ul = (2 * f * f * 4 + f) + (2 * f * 2 * f * 4 + 2 * f)             # 2x2 conv and gate
        link = 2 * f * f + f
        up = 3 * r * (u + ul + link)                                        # ul reads u
        down = (3 * r + 2) * (u + link + ul + 2 * link)                    # shortcuts
        resample = 4 * ((f * f * 6 + f) + (f * f * 4 + f))                 # 2 down, 2 up
        return first + up + down + resample + (2 * f * out + out)
    raise ValueError(name)


if __name__ == "__main__":  # pragma: no cover - quick manual check
    for model_name, lv in [("gated-pixelcnn", 256), ("gated-pixelcnn", 2), ("pixelcnn", 2),
                           ("made", 2), ("fvsbn", 2)]:
        print(model_name, lv, parameter_count(make_model(model_name, lv)))
    print("pixelcnn 128x12", parameter_count(make_model("pixelcnn", 2, channels=128, layers=12)))
