"""Throughput of the PyTorch reference models, printed as one JSON line.

    python pytorch_bench.py train|eval|sample --model gated-pixelcnn|pixelcnn|made|fvsbn|row-lstm|diagonal-bilstm|pixelcnn++ \\
        --levels 2|256 [--output logistic-mixture:K] --batch 64 --threads 2 --steps 20 --warmup 3 [--count 16] [--pixels P] --json

Tasks, on random 28x28 inputs (binary pixels with p(1) = 0.2, or uniform levels 0..255):

* ``train``: forward, per-image NLL averaged over the batch, backward, Adam step (lr 1e-3);
* ``eval``: forward and per-image NLL under ``torch.no_grad()``;
* ``sample``: naive ancestral sampling of ``--count`` images, one full network pass per
  pixel (784 passes). ``--pixels P`` times only the first P passes and extrapolates the
  total to 784, reported as ``"extrapolated_from_pixels": P``.

Rates are images per second per step (per pass for sampling: ``count / (784 * pass
time)``); median, min and max are taken over the timed steps after ``--warmup`` untimed
ones. ``peak_rss_mib`` is this process's ``ru_maxrss``.

``--compile`` (train, eval) wraps the model's loss (train) or per-image NLL (eval) in
``torch.compile`` (default inductor backend; on CPU it needs a C++ compiler). The first
call compiles; it is timed on its own as ``compile_seconds`` (compilation plus that one
step) and excluded from the rates, before the ``--warmup`` steps; the loss (NLL) that
call computes is compared with the eager model's on the same batch (``compiled_vs_eager``,
relative difference). If compiling fails the record holds ``compile_error`` (the error's
first line) and no rates, and the exit status is still 0: a model that does not compile on
this CPU is a result, not a broken harness.

The record names the torch version and the glibc malloc settings this process got from
its environment (``MALLOC_*`` variables, ``glibc.malloc.*`` tunables; ``allocator`` is
``"glibc defaults"`` when there are none), so each JSON line says how it was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from typing import Callable

import torch

from pytorch_models import LOADER_MODELS, MODEL_NAMES, ImageModel, make_model, parameter_count, _autoreg_torch

HEIGHT = WIDTH = 28


def levels_of(output: str) -> int:
    """Pixel levels a Swift ``--output`` distribution models (2 or 256)."""
    return _autoreg_torch().distributions.levels(output)


def random_pixels(batch: int, levels: int, generator: torch.Generator) -> torch.Tensor:
    """A batch ``[B, 1, 28, 28]`` of random pixels as floats: 0/1 with p(1) = 0.2 for
    binary models (as the Swift benchmark), uniform over 0..levels-1 otherwise."""
    shape = (batch, 1, HEIGHT, WIDTH)
    if levels == 2:
        return (torch.rand(shape, generator=generator) < 0.2).float()
    return torch.randint(0, levels, shape, generator=generator).float()


def timed_steps(step: Callable[[], None], steps: int, warmup: int) -> list[float]:
    """Runs ``warmup`` untimed then ``steps`` timed calls of ``step``; returns seconds each."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


# Environment variables through which glibc's malloc takes the settings mallopt makes
# (glibc 2.26+ reads them as aliases of the glibc.malloc.* tunables).
MALLOC_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                      "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST")


def allocator_settings(environ: dict | None = None) -> dict | str:
    """The glibc malloc settings of this process's environment: the ``MALLOC_*`` variables
    and any ``glibc.malloc.*`` entries of ``GLIBC_TUNABLES``, or ``"glibc defaults"``."""
    environ = os.environ if environ is None else environ
    found = {k: environ[k] for k in MALLOC_ENVIRONMENT if environ.get(k)}
    tunables = [t for t in environ.get("GLIBC_TUNABLES", "").split(":") if t.startswith("glibc.malloc.")]
    if tunables:
        found["GLIBC_TUNABLES"] = ":".join(tunables)
    return found or "glibc defaults"


def first_line(error: BaseException) -> str:
    """``Type: first line`` of an exception's message (with the next line too when the
    first only introduces it, as torch._dynamo's "backend='inductor' raised:")."""
    lines = [l.strip() for l in str(error).splitlines() if l.strip()]
    text = lines[0] if lines else ""
    if text.endswith(":") and len(lines) > 1:
        text += " " + lines[1]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class CompileFailed(Exception):
    """torch.compile could not compile the step; ``args[0]`` is the error's first line."""


def compiled_first_call(step: Callable[[], float], eager: float, info: dict | None) -> None:
    """Runs the first call of a step whose function is wrapped in ``torch.compile`` (it
    compiles); records its seconds as ``info["compile_seconds"]`` and how far the value
    it computed is from ``eager``, the uncompiled model's on the same batch
    (``info["compiled_vs_eager"]``, relative). Raises ``CompileFailed`` if compiling fails."""
    t0 = time.perf_counter()
    try:
        value = step()
    except Exception as e:  # torch._dynamo / inductor errors, a missing C++ compiler, ...
        raise CompileFailed(first_line(e)) from e
    if info is not None:
        info["compile_seconds"] = time.perf_counter() - t0
        info["compiled_vs_eager"] = abs(value - eager) / max(abs(eager), 1e-30)


def bench_train(model: ImageModel, x: torch.Tensor, steps: int, warmup: int,
                compiled: bool = False, info: dict | None = None) -> list[float]:
    """Seconds per training step: forward + loss + backward + Adam update. With
    ``compiled`` the loss (forward and, through AOTAutograd, backward) is compiled; the
    optimizer step stays eager. ``info["compile_seconds"]`` gets the first call's time."""
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_of = torch.compile(model.loss) if compiled else model.loss

    def step() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(x)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        with torch.no_grad():
            eager = model.loss(x).item()
        compiled_first_call(lambda: step().item(), eager, info)  # the loss before its update
    return timed_steps(step, steps, warmup)


def bench_eval(model: ImageModel, x: torch.Tensor, steps: int, warmup: int,
               compiled: bool = False, info: dict | None = None) -> list[float]:
    """Seconds per evaluation step: forward + per-image NLL without autograd (compiled
    with ``compiled``; ``info["compile_seconds"]`` gets the first call's time)."""
    model.eval()
    nll_of = torch.compile(model.nll) if compiled else model.nll

    def step() -> float:
        with torch.no_grad():
            return nll_of(x).sum().item()

    if compiled:
        with torch.no_grad():
            eager = model.nll(x).sum().item()
        compiled_first_call(step, eager, info)
    return timed_steps(step, steps, warmup)


def bench_sample(model: ImageModel, count: int, pixels: int, warmup: int,
                 generator: torch.Generator) -> tuple[list[float], torch.Tensor]:
    """Naive pixel-by-pixel sampling of ``count`` images: for each of the first ``pixels``
    pixels in raster order, one full forward pass over the partly sampled batch, then a
    draw of that pixel from its Bernoulli or categorical distribution.

    Returns the seconds of each timed pass and the (partly) sampled images.
    """
    model.eval()
    x = torch.zeros(count, 1, HEIGHT, WIDTH)
    with torch.no_grad():
        for _ in range(warmup):
            model.logits(x)
        times = []
        for i in range(pixels):
            row, col = divmod(i, WIDTH)
            t0 = time.perf_counter()
            logits = model.pixel_logits(x, row, col)
            if hasattr(model, "draw"):
                value = model.draw(logits, generator)
            elif model.levels == 2:
                value = torch.bernoulli(torch.sigmoid(logits), generator=generator)
            else:
                value = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=generator).squeeze(1).float()
            x[:, 0, row, col] = value
            times.append(time.perf_counter() - t0)
    return times, x


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss`` is in KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run(args: argparse.Namespace) -> dict:
    """Builds the model, runs the task and returns the result record."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = make_model(args.model, args.levels, channels=args.channels, layers=args.layers,
                       hidden=args.hidden, output=args.output)
    dimension = HEIGHT * WIDTH
    record: dict = {
        "framework": "pytorch",
        "version": torch.__version__,
        "allocator": allocator_settings(),
        "compiled": args.compile,
        "task": args.task,
        "model": args.model,
        "levels": args.levels,
        "batch": args.count if args.task == "sample" else args.batch,
        "threads": args.threads,
        "parameters": parameter_count(model),
    }
    if args.task == "sample":
        pixels = min(args.pixels or dimension, dimension)
        times, _ = bench_sample(model, args.count, pixels, args.warmup, generator)
        rates = [args.count / (t * dimension) for t in times]
        record["count"] = args.count
        record["seconds"] = sum(times) * dimension / pixels
        if pixels < dimension:
            record["extrapolated_from_pixels"] = pixels
    else:
        x = random_pixels(args.batch, args.levels, generator)
        bench = bench_train if args.task == "train" else bench_eval
        record["steps"] = args.steps
        try:
            times = bench(model, x, args.steps, args.warmup, compiled=args.compile, info=record)
        except CompileFailed as e:
            record.update({"compile_error": str(e), "images_per_s_median": None, "images_per_s_min": None,
                           "images_per_s_max": None, "peak_rss_mib": peak_rss_mib(), "gflops": None})
            return record
        rates = [args.batch / t for t in times]
    record.update({
        "images_per_s_median": statistics.median(rates),
        "images_per_s_min": min(rates),
        "images_per_s_max": max(rates),
        "peak_rss_mib": peak_rss_mib(),
        "gflops": None,
    })
    return record


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (mirroring ``autoreg bench train|eval|sample``)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=("train", "eval", "sample"))
    p.add_argument("--model", choices=MODEL_NAMES, default="gated-pixelcnn")
    p.add_argument("--levels", type=int, choices=(2, 256), default=2)
    p.add_argument("--batch", type=int, default=64, help="minibatch size (train, eval)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--steps", type=int, default=20, help="timed steps after warm-up (train, eval)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps (passes, for sample) first")
    p.add_argument("--count", type=int, default=16, help="images to sample (sample)")
    p.add_argument("--pixels", type=int, default=None,
                   help="sample: time only the first P of the 784 pixels and extrapolate")
    p.add_argument("--output", default=None,
                   help="row-lstm, diagonal-bilstm, pixelcnn++: output distribution as Swift's --output "
                        "(bernoulli, categorical:256, logistic-mixture:K; default from --levels)")
    p.add_argument("--channels", type=int, default=None,
                   help="convolutional models: feature maps (default 64, as the Swift models; pixelcnn++: filters, 32)")
    p.add_argument("--layers", type=int, default=None,
                   help="convolutional models: blocks (default 7 gated, 15 pixelcnn; row-lstm, diagonal-bilstm: "
                        "recurrent layers, 7; pixelcnn++: blocks per resolution, 2)")
    p.add_argument("--hidden", type=lambda s: [int(v) for v in s.split(",")], default=None,
                   help="made: hidden sizes, comma-separated (default 500); row-lstm, diagonal-bilstm: h (default 16)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--compile", action="store_true",
                   help="train, eval: wrap the loss / NLL in torch.compile (first call timed apart, "
                        "as compile_seconds)")
    p.add_argument("--json", action="store_true", help="print one JSON line (else a short summary)")
    args = p.parse_args(argv)
    for name in ("batch", "threads", "steps", "count"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must not be negative")
    if args.pixels is not None and args.pixels < 1:
        p.error("--pixels must be at least 1")
    if args.compile and args.task == "sample":
        p.error("--compile is for train and eval (sampling calls the model on a new pixel each pass)")
    if args.model == "fvsbn" and args.levels != 2:
        p.error("fvsbn models binary pixels only (--levels 2)")
    if args.output is not None:
        if args.model not in LOADER_MODELS:
            p.error(f"--output is read by {', '.join(LOADER_MODELS)}, not {args.model}")
        try:
            if levels_of(args.output) != args.levels:
                p.error(f"--output {args.output} models {levels_of(args.output)}-level pixels, not --levels {args.levels}")
        except ValueError as e:
            p.error(f"--output: {e}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    record = run(args)
    if args.json:
        print(json.dumps(record), flush=True)
        return
    if "compile_error" in record:
        print(f"{record['model']} levels {record['levels']} {record['task']}: torch.compile failed: "
              f"{record['compile_error']}")
        return
    line = (f"{record['model']} levels {record['levels']} {record['task']}: "
            f"{record['images_per_s_median']:.1f} img/s (min {record['images_per_s_min']:.1f}, "
            f"max {record['images_per_s_max']:.1f}), {record['parameters']} parameters, "
            f"torch {record['version']}, {record['threads']} threads, peak {record['peak_rss_mib']:.0f} MiB, "
            f"allocator {record['allocator']}")
    if "compile_seconds" in record:
        line += f", compiled in {record['compile_seconds']:.1f} s (not timed)"
    if "seconds" in record:
        line += f", {record['seconds']:.1f} s for {record['count']} images"
        if "extrapolated_from_pixels" in record:
            line += f" (extrapolated from {record['extrapolated_from_pixels']} pixels)"
    print(line)


if __name__ == "__main__":
    main()
