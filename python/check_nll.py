#!/usr/bin/env python3
"""Recomputes every image's NLL in PyTorch from an `autoreg export` file and compares it with
the per-image scores of `autoreg eval --per-image`.

    python/check_nll.py MODEL.safetensors IMAGES SCORES.csv [MODEL IMAGES SCORES ...] [--tolerance 1e-4]

IMAGES: a .npy array [N, H, W] or [N, H, W, C] of pixel values, or the folder of PNG files
`eval` read (the split folder itself, e.g. DATA/test), in the same order as the CSV. Labels
come from the CSV's label column (a class-conditional model is scored with them). A binary
model on 8-bit images sees them thresholded as Autoreg's fixed binarisation does (v >= 128).
Prints the largest |difference| per model and exits 1 when any image differs by more than the
tolerance. Several triples are checked in one run (PyTorch's import is the slow part).
"""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from autoreg_torch import image_nll, load_model  # noqa: E402
from autoreg_torch.distributions import levels as output_levels  # noqa: E402
from autoreg_torch.images import load_images  # noqa: E402


def read_scores(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    for needed in ("index", "label"):
        if needed not in header:
            raise SystemExit(f"{path}: no {needed} column (header {header})")
    nats = "nll_nats" if "nll_nats" in header else "nats"
    if nats not in header:
        raise SystemExit(f"{path}: no nll_nats column (header {header})")
    i, l, n = header.index("index"), header.index("label"), header.index(nats)
    index = [int(r[i]) for r in body]
    labels = [int(r[l]) if r[l] != "" else None for r in body]
    return index, labels, np.array([float(r[n]) for r in body], dtype=np.float64)


def check(model_path, images_path, scores_path, dtype, batch_size, masks=None):
    """The comparison of one model: a dict with the per-image values and their differences."""
    model, config = load_model(model_path, dtype=dtype)
    index, labels, swift = read_scores(scores_path)
    images = load_images(images_path)
    h, w, c = config["height"], config["width"], config["channels"]
    if images.shape[1:] != (h, w, c):
        raise SystemExit(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}x{images.shape[3]}, "
                         f"the model takes {h}x{w}x{c}")
    if index != list(range(len(index))) or len(index) > len(images):
        raise SystemExit(f"{scores_path}: rows must be images 0..N-1 of the {len(images)} given")
    images = images[:len(index)].astype(np.int64)
    if output_levels(config["output"]) == 2 and images.max() > 1:
        images = (images > 127).astype(np.int64)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).to(dtype)
    conditional = config.get("classes", 0) > 0 and all(l is not None for l in labels)
    ours = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            y = labels[start:start + batch_size] if conditional else None
            ours.append(image_nll(model, config, batch, labels=y, masks=masks).double())
    ours = torch.cat(ours).numpy()
    diff = np.abs(ours - swift)
    return {"model": model_path, "kind": config["kind"], "output": config["output"], "images": len(diff),
            "max_abs_diff": float(diff.max()), "mean_abs_diff": float(diff.mean()), "worst": int(np.argmax(diff)),
            "finite": bool(np.all(np.isfinite(ours))), "torch": ours.tolist(), "swift": swift.tolist()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", metavar="MODEL IMAGES SCORES", help="one or more triples")
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest |NLL difference| allowed per image, nats")
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                   help="precision of the PyTorch computation (float64: a reference for Swift's float32)")
    p.add_argument("--masks", type=int, help="MADE: average this many masks, as `eval --masks N` (default: all)")
    p.add_argument("--json", help="also write the comparisons as a JSON list to this file")
    a = p.parse_args(argv)
    if len(a.files) % 3 != 0:
        p.error("give MODEL IMAGES SCORES triples")
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    torch.set_num_threads(1)
    results, failed = [], False
    for i in range(0, len(a.files), 3):
        r = check(*a.files[i:i + 3], dtype=dtype, batch_size=a.batch_size, masks=a.masks)
        w = r["worst"]
        ok = r["finite"] and r["max_abs_diff"] <= a.tolerance
        failed |= not ok
        print(f"{r['model']}: {r['kind']} ({r['output']}), {r['images']} images, max |dNLL| {r['max_abs_diff']:.3g} nats "
              f"(image {w}: PyTorch {r['torch'][w]:.6f}, Swift {r['swift'][w]:.6f}), mean {r['mean_abs_diff']:.3g}"
              + ("" if ok else f"  DISAGREE (tolerance {a.tolerance})"))
        results.append(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
