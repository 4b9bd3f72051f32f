"""Per-sub-pixel and per-image NLL from a model's logits, for each of Swift's PixelDistributions.

Logits are laid out as Swift's `PixelDistribution.logitShape`: [B, D] for Bernoulli (one logit
of p(x = 1) per sub-pixel), [B, D, width] otherwise, D = height*width*channels sub-pixels in
row-major order with the channels of a pixel last. Pixels are [B, D] in the same order.
"""
import math

import torch
import torch.nn.functional as F


def parse_output(text):
    """("bernoulli", 1) | ("categorical", levels) | ("logistic-mixture", K) from the config's output."""
    name, _, arg = text.partition(":")
    if name == "bernoulli" and not arg:
        return name, 1
    if name == "categorical":
        return name, int(arg) if arg else 256
    if name == "logistic-mixture":
        return name, int(arg) if arg else 10
    raise ValueError(f"unknown pixel distribution {text!r}")


def levels(output):
    """Pixel values the distribution covers: 2, the categorical's levels, or 256."""
    name, n = parse_output(output)
    return 2 if name == "bernoulli" else (n if name == "categorical" else 256)


def width(output):
    """Outputs per sub-pixel: 1, levels, or 3K."""
    name, n = parse_output(output)
    return 1 if name == "bernoulli" else (n if name == "categorical" else 3 * n)


MIN_LOG_SCALE = -7.0  # PixelCNN++'s clamp, as Swift's LogisticMixture.minLogScale


def _log_bin(v, mean, log_scale):
    """log P(bin of v) under a logistic(mean, e^log_scale) on [-1, 1], bins of width 2/255,
    the first reaching down to -inf and the last up to +inf.

    v: integer values 0..255 broadcast against mean and log_scale.
    """
    inv = torch.exp(-log_scale)
    upper = (2 * v - 254) / 255.0
    lower = (2 * v - 256) / 255.0
    a = (upper - mean) * inv
    b = (lower - mean) * inv
    # P = sigmoid(a) - sigmoid(b) = sigmoid(a) * sigmoid(-b) * (1 - e^-(a - b)).
    log_upper = F.logsigmoid(a)          # log sigmoid(a): 0 at the top bin (a = +inf)
    log_lower = F.logsigmoid(-b)         # log (1 - sigmoid(b)): 0 at the bottom bin (b = -inf)
    d = (2.0 / 255.0) * inv
    log_width = torch.log(-torch.expm1(-d))
    top, bottom = v >= 255, v <= 0
    zero = torch.zeros_like(a)
    return (torch.where(top, zero, log_upper) + torch.where(bottom, zero, log_lower)
            + torch.where(top | bottom, zero, log_width))


def logistic_mixture_terms(params, pixels, components):
    """-log p(x_i | x_<i) per sub-pixel under its own discretised logistic mixture (grey, or
    one channel of a colour pixel given the earlier ones).

    params [B, D, 3K]: K mixture logits, K means (on [-1, 1]), K log-scales (clamped below at -7).
    """
    k = components
    logits, means, log_scales = params[..., :k], params[..., k:2 * k], params[..., 2 * k:3 * k]
    log_scales = torch.clamp(log_scales, min=MIN_LOG_SCALE)
    v = pixels.unsqueeze(-1).round()
    log_p = _log_bin(v, means, log_scales)
    return torch.logsumexp(logits, dim=-1) - torch.logsumexp(logits + log_p, dim=-1)


def nll_terms(output, logits, pixels):
    """-log p(x_i | x_<i) of every sub-pixel, [B, D]."""
    name, n = parse_output(output)
    if name == "bernoulli":
        return F.softplus(logits) - pixels * logits
    if name == "categorical":
        target = pixels.round().long().unsqueeze(-1)
        return torch.logsumexp(logits, dim=-1) - torch.gather(logits, -1, target).squeeze(-1)
    return logistic_mixture_terms(logits, pixels, n)


def flatten_pixels(x):
    """[B, C, H, W] -> [B, H*W*C] with the channels of a pixel last (Swift's order)."""
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


def image_nll(model, config, x, labels=None, masks=None):
    """-log p(x) in nats per image, [B], as `autoreg eval` computes it: for a mask ensemble
    (a model with `mask_count` > 1, MADE), the equal-weight mixture of its first `masks`
    masks (all by default, as `eval` without --masks)."""
    pixels = flatten_pixels(x)
    available = getattr(model, "mask_count", 1)
    masks = available if masks is None else min(masks, available)

    def one():
        return nll_terms(config["output"], model(x, labels=labels), pixels).sum(dim=1)

    if masks <= 1:
        return one()
    per_mask = []
    for k in range(masks):
        model.use_mask(k)
        per_mask.append(one())
    model.use_mask(0)
    stacked = -torch.stack(per_mask)  # log p_k(x), [K, B]
    return -(torch.logsumexp(stacked, dim=0) - math.log(masks))
