"""PyTorch rebuilds of Autoreg models from the safetensors files `autoreg export` writes.

    from autoreg_torch import load_model
    model, config = load_model("model.safetensors")
    logits = model(x)                      # x: [B, C, H, W] float pixel values (0/1 or 0..255)
    nll = image_nll(model, config, x)      # nats per image

See python/README.md for the interface a model file implements.
"""
from .safetensors_io import load_export
from .models import BUILDERS, build, load_model
from .distributions import nll_terms, image_nll

__all__ = ["load_export", "BUILDERS", "build", "load_model", "nll_terms", "image_nll"]
