"""oneDNN's convolution, through PyTorch, on the convolution shapes of our models.

    benchmarks/.venv/bin/python benchmarks/conv_shapes.py [--shapes FILE|-] [--threads 2]
        [--repeats 10] [--warmup 2] [--only ID,...] [--no-reference] [--no-verbose] [--json]

The shapes (sizes, dilation, padding, the exact causal mask, whether the input gradient is
needed) come from our side: ``autoreg-lab conv --list --json`` (run here unless
``--shapes`` gives its output, or any ``autoreg-lab conv --json`` output, in a file or on
stdin). For each shape it times, with ``torch.nn.functional.conv2d`` on NCHW tensors:

* ``fwd``: ``conv2d(x, W * M, b)`` under ``torch.no_grad()``;
* ``fwdbwd``: the same with autograd, then ``y.backward(dy)``: gradients of the weight
  (through the mask), the bias and, except for a model's first layers, the input.

The weight is masked on every call, as the PyTorch models do, and the convolution is dense
over all KHxKW taps. Columns:

* ``onednn``: PyTorch's default CPU path, which for these shapes is oneDNN (mkldnn);
* ``native`` (unless ``--no-reference``): the same under
  ``torch.backends.mkldnn.flags(enabled=False)``, PyTorch's own im2col + MKL sgemm
  (``slow_conv2d`` / ``slow_conv_dilated2d``), to show what oneDNN changes;
* ``verbose`` (unless ``--no-verbose``): the same steps rerun under oneDNN's verbose mode,
  which names the primitives that ran (``backend`` is ``"oneDNN"`` only if a convolution
  primitive did) and their own execution times: ``*_conv_ms`` for the convolution
  primitives alone, ``*_reorder_ms`` for the layout conversions PyTorch adds around them
  (NCHW to oneDNN's blocked layouts and back).

Times are medians over ``--repeats`` calls after ``--warmup`` untimed ones.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

from compare import default_lab_bin

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# mkldnn.flags() also sets oneDNN's TF32 switch, and says it only matters on Intel GPUs.
warnings.filterwarnings("ignore", message="TF32 acceleration")


def load_shapes(args: argparse.Namespace) -> list[dict]:
    """The shape rows: from ``--shapes`` (a file or ``-``), else from our binary's ``--list``."""
    if args.shapes:
        text = sys.stdin.read() if args.shapes == "-" else Path(args.shapes).read_text()
    else:
        command = [args.autoreg_lab_bin, "conv", "--list", "--json", "--batch", str(args.batch),
                   "--models", args.models]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"conv_shapes.py: {' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
        text = done.stdout
    lines = [line for line in text.splitlines() if line.strip().startswith("{")]
    if not lines:
        sys.exit("conv_shapes.py: no JSON line in the shape list")
    rows = json.loads(lines[-1])["rows"]
    if args.only:
        keys = args.only.split(",")
        rows = [r for r in rows if any(k in r["id"] for k in keys)]
    if not rows:
        sys.exit("conv_shapes.py: no shape to measure")
    return rows


def mask_tensor(row: dict) -> torch.Tensor:
    """The 0/1 weight mask ``[Cout, Cin, KH, KW]`` of a shape row."""
    cout, cin = row["out_channels"], row["in_channels"]
    kh, kw = row["kernel"]
    if "mask" in row:
        return torch.tensor(row["mask"], dtype=torch.float32).expand(cout, cin, kh, kw).contiguous()
    return torch.tensor(row["mask_flat"], dtype=torch.float32).reshape(cout, cin, kh, kw)


class Convolution:
    """One shape's tensors and its two steps, as PyTorch's masked layers compute them."""

    def __init__(self, row: dict, seed: int = 1):
        g = torch.Generator().manual_seed(seed)
        n, cin, cout = row["batch"], row["in_channels"], row["out_channels"]
        h, w = row["height"], row["width"]
        kh, kw = row["kernel"]
        bound = 1 / (cin * kh * kw) ** 0.5
        self.input_grad = bool(row["input_grad"])
        self.x = (torch.rand(n, cin, h, w, generator=g) * 2 - 1).requires_grad_(self.input_grad)
        self.weight = ((torch.rand(cout, cin, kh, kw, generator=g) * 2 - 1) * bound).requires_grad_()
        self.bias = ((torch.rand(cout, generator=g) * 2 - 1) * bound).requires_grad_()
        self.mask = mask_tensor(row)
        self.dilation = tuple(row["dilation"])
        top, bottom, left, right = row["padding"]
        # conv2d pads symmetrically; an asymmetric padding is done by F.pad first.
        self.pre_pad = None if (top == bottom and left == right) else (left, right, top, bottom)
        self.padding = (top, left) if self.pre_pad is None else (0, 0)
        oh = h + top + bottom - self.dilation[0] * (kh - 1)
        ow = w + left + right - self.dilation[1] * (kw - 1)
        self.dy = torch.rand(n, cout, oh, ow, generator=g) - 0.5

    def output(self) -> torch.Tensor:
        x = self.x if self.pre_pad is None else F.pad(self.x, self.pre_pad)
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding, dilation=self.dilation)

    def forward(self) -> None:
        with torch.no_grad():
            self.output()

    def reset(self) -> None:
        self.x.grad = self.weight.grad = self.bias.grad = None

    def forward_backward(self) -> None:
        self.output().backward(self.dy)


def timed(step: Callable[[], None], warmup: int, repeats: int, prepare: Callable[[], None] = lambda: None) -> dict:
    """Median, min and max milliseconds of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        prepare()
        step()
    times = []
    for _ in range(repeats):
        prepare()
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"ms": statistics.median(times), "ms_min": min(times), "ms_max": max(times)}


@contextlib.contextmanager
def captured_stdout_fd() -> Iterator[list[str]]:
    """Captures what C code writes to file descriptor 1 (oneDNN's verbose lines) into the
    yielded list's single element, once the block ends."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    out: list[str] = []
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 1)
        try:
            yield out
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            f.seek(0)
            out.append(f.read().decode(errors="replace"))


ONEDNN_VERSION: list[str] = []


def parse_verbose(text: str) -> tuple[float, float, set[str]]:
    """(convolution ms, reorder ms, {"prop impl"} of the convolutions) from oneDNN verbose
    lines: ``onednn_verbose,[v1,]primitive,exec,cpu,KIND,IMPL,PROP,...,TIME``."""
    conv = reorder = 0.0
    impls: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("onednn_verbose"):
            continue
        fields = line.split(",")
        if "info" in fields and any(f.startswith("oneDNN v") for f in fields) and not ONEDNN_VERSION:
            ONEDNN_VERSION.append(next(f for f in fields if f.startswith("oneDNN v"))[len("oneDNN v"):].split(" (")[0])
        if "exec" not in fields:
            continue
        i = fields.index("exec")
        kind, impl, prop = fields[i + 2], fields[i + 3], fields[i + 4]
        try:
            ms = float(fields[-1])
        except ValueError:
            continue
        if kind == "convolution":
            conv += ms
            impls.add(f"{prop} {impl}")
        elif kind == "reorder":
            reorder += ms
    return conv, reorder, impls


def verbose_times(conv: Convolution, warmup: int, repeats: int) -> dict:
    """The steps rerun under oneDNN's verbose mode: per-step medians of the convolution
    primitives' and the reorders' own execution times, and which primitives ran."""
    result: dict = {}
    impls: set[str] = set()
    for name, step, prepare in (("fwd", conv.forward, lambda: None),
                                ("fwdbwd", conv.forward_backward, conv.reset)):
        for _ in range(warmup):
            prepare()
            step()
        conv_ms, reorder_ms = [], []
        for _ in range(repeats):
            prepare()
            with captured_stdout_fd() as out, torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):
                step()
            c, r, seen = parse_verbose(out[0])
            conv_ms.append(c)
            reorder_ms.append(r)
            impls |= seen
        result[f"{name}_conv_ms"] = statistics.median(conv_ms)
        result[f"{name}_reorder_ms"] = statistics.median(reorder_ms)
    result["primitives"] = sorted(impls)
    result["backend"] = "oneDNN" if impls else "not oneDNN"
    return result


def measure(row: dict, args: argparse.Namespace) -> dict:
    """All columns for one shape row."""
    conv = Convolution(row)
    record: dict = {"id": row["id"]}

    def both() -> dict:
        fwd = timed(conv.forward, args.warmup, args.repeats)
        fb = timed(conv.forward_backward, args.warmup, args.repeats, prepare=conv.reset)
        return {"fwd_ms": fwd["ms"], "fwd_ms_min": fwd["ms_min"], "fwd_ms_max": fwd["ms_max"],
                "fwdbwd_ms": fb["ms"], "fwdbwd_ms_min": fb["ms_min"], "fwdbwd_ms_max": fb["ms_max"]}

    record["onednn"] = both()
    if not args.no_reference:
        with torch.backends.mkldnn.flags(enabled=False):
            record["native"] = both()
            with torch.no_grad():
                native_out = conv.output()
        with torch.no_grad():
            record["native"]["max_abs_diff"] = (conv.output() - native_out).abs().max().item()
    if not args.no_verbose:
        record["verbose"] = verbose_times(conv, min(args.warmup, 1), args.repeats)
    return record


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    rows = load_shapes(args)
    out = {
        "framework": "pytorch", "version": torch.__version__, "task": "conv",
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "threads": args.threads, "repeats": args.repeats, "warmup": args.warmup,
        "rows": [],
    }
    for row in rows:
        record = measure(row, args)
        out["rows"].append(record)
        if not args.json:
            print_row(row, record)
    out["onednn_version"] = ONEDNN_VERSION[0] if ONEDNN_VERSION else None
    return out


def print_row(row: dict, r: dict) -> None:
    o = r["onednn"]
    line = f"{row['id']:<30} fwd {o['fwd_ms']:8.2f} ms  fwd+bwd {o['fwdbwd_ms']:8.2f} ms"
    if "native" in r:
        line += f"   without oneDNN: fwd {r['native']['fwd_ms']:8.2f} ms  fwd+bwd {r['native']['fwdbwd_ms']:8.2f} ms"
    if "verbose" in r:
        v = r["verbose"]
        line += (f"   [{v['backend']}: conv {v['fwd_conv_ms']:.2f} / {v['fwdbwd_conv_ms']:.2f} ms, "
                 f"reorders {v['fwd_reorder_ms']:.2f} / {v['fwdbwd_reorder_ms']:.2f} ms; {', '.join(v['primitives'])}]")
    print(line, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", help="JSON of `autoreg-lab conv [--list] --json` (a file, or - for stdin)")
    p.add_argument("--autoreg-lab-bin", default=default_lab_bin(),
                   help="our autoreg-lab, to list the shapes when --shapes is not given (default "
                        "$AUTOREG_LAB_BIN, else beside $AUTOREG_BIN, else .build/release/autoreg-lab)")
    p.add_argument("--models", default="gated-pixelcnn,pixelcnn", help="models whose shapes to list (without --shapes)")
    p.add_argument("--batch", type=int, default=64, help="batch of the listed shapes (without --shapes)")
    p.add_argument("--only", help="only shapes whose id contains one of these comma-separated strings")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--repeats", type=int, default=10, help="timed calls per shape and step")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    p.add_argument("--no-reference", action="store_true", help="skip the timing without oneDNN")
    p.add_argument("--no-verbose", action="store_true", help="skip the oneDNN verbose pass")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args(argv)
    for name in ("threads", "repeats", "batch"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must not be negative")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
