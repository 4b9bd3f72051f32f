"""Reading an `autoreg export` file: the model configuration and the tensors."""
import json

import torch
from safetensors import safe_open
from safetensors.torch import load_file

FORMAT = "autoreg-safetensors/1"
BUFFER_PREFIX = "buffers."


class ExportError(ValueError):
    """A file that is not an Autoreg export this code reads; the message names the file."""


def load_export(path, dtype=torch.float64):
    """Returns (config, tensors, metadata) of an export.

    config: the `ModelConfig` as a dict (kind, height, width, channels, output, classes, seed,
    options). tensors: name -> tensor; parameters converted to `dtype` (float64 by default, so
    that a comparison measures Swift's float32 error), buffers (`buffers.*`, I64) unchanged.
    """
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
    fmt = metadata.get("format")
    if fmt != FORMAT:
        raise ExportError(f"{path}: __metadata__ format is {fmt!r}, expected {FORMAT!r} (written by `autoreg export`)")
    if "autoreg.config" not in metadata:
        raise ExportError(f"{path}: no autoreg.config in __metadata__")
    try:
        config = json.loads(metadata["autoreg.config"])
    except json.JSONDecodeError as e:
        raise ExportError(f"{path}: autoreg.config is not JSON ({e})") from None
    tensors = load_file(path)
    for name, t in tensors.items():
        if t.is_floating_point():
            tensors[name] = t.to(dtype)
    return config, tensors, metadata


def parameter(tensors, name, shape=None):
    """The tensor `name`, checked against `shape` when given (a clear error when absent)."""
    if name not in tensors:
        raise ExportError(f"tensor {name} is missing from the export")
    t = tensors[name]
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise ExportError(f"tensor {name} has shape {tuple(t.shape)}, expected {tuple(shape)}")
    return t


def buffer(tensors, name):
    """The buffer `buffers.NAME` (a 1-D I64 tensor) as a Python list."""
    return parameter(tensors, BUFFER_PREFIX + name).tolist()
