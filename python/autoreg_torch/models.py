"""The registry: one builder per Swift `ModelKind` raw value.

Each builder is `build(config: dict, tensors: dict) -> torch.nn.Module` whose
`forward(x, labels=None)` takes x [B, C, H, W] (float, integer pixel values: 0/1 or 0..255)
and returns logits in Swift's layout (`distributions.py`). A mask ensemble also has
`mask_count` and `use_mask(k)`.
"""
from . import diagonal_bilstm, fvsbn, gated_pixelcnn, made, nade, pixelcnn, pixelcnn_pp, row_lstm
from .safetensors_io import ExportError, load_export

BUILDERS = {
    "fvsbn": fvsbn.build,
    "nade": nade.build,
    "made": made.build,
    "pixelcnn": pixelcnn.build,
    "gated-pixelcnn": gated_pixelcnn.build,
    "row-lstm": row_lstm.build,
    "diagonal-bilstm": diagonal_bilstm.build,
    "pixelcnn++": pixelcnn_pp.build,
}


def build(config, tensors):
    """The network `config` describes, with the exported weights."""
    kind = config.get("kind")
    if kind not in BUILDERS:
        raise ExportError(f"no PyTorch loader for model kind {kind!r} (have: {', '.join(sorted(BUILDERS))})")
    model = BUILDERS[kind](config, tensors)
    model.eval()
    return model


def load_model(path, **kwargs):
    """(model, config) from an `autoreg export` file; kwargs go to `load_export` (dtype)."""
    config, tensors, _ = load_export(path, **kwargs)
    return build(config, tensors), config
