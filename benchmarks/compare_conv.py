"""Our kept-taps convolutions against oneDNN's convolution primitive, shape by shape.

    benchmarks/.venv/bin/python benchmarks/compare_conv.py [--threads 2] [--repeats 10]
        [--warmup 2] [--batch 64] [--models gated-pixelcnn,pixelcnn] [--only ID,...]
        [--quick] [--no-onednn-c] [--no-reference] [--no-verbose] [--out FILE.md]

Runs ``autoreg-lab conv --json`` (every convolution shape of the benchmark Gated PixelCNN
and PixelCNN, with the models' masks; ``--onednn`` too unless ``--no-onednn-c``) and then
``conv_shapes.py --json`` on exactly those shapes (PyTorch's ``F.conv2d``, i.e. oneDNN),
each in its own process with the same thread count, and prints Markdown tables: per shape
ours vs oneDNN forward and forward + backward, GFLOP/s, oneDNN's details, and per model the
convolution time of one step (each shape times the number of layers that have it) with
ours, with oneDNN, and with the faster of the two for each shape.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from compare import cpu_name, default_lab_bin, git_revision, last_json_line, one_line

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run_side(command: list[str], label: str, timeout: float, env: dict) -> dict:
    """Runs one side and returns its JSON record; exits with the reason if it fails."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as error:
        sys.exit(f"compare_conv.py: {label} failed: {error}")
    record = last_json_line(done.stdout)
    if done.returncode != 0 or record is None:
        sys.exit(f"compare_conv.py: {label} failed (exit {done.returncode}): "
                 f"{one_line(done.stderr or done.stdout)}\n  command: {' '.join(command)}")
    return record


def ours_command(args: argparse.Namespace) -> list[str]:
    command = [args.autoreg_lab_bin, "conv", "--json", "--batch", str(args.batch), "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup), "--models", args.models]
    if args.only:
        command += ["--only", args.only]
    if not args.no_onednn_c:
        command.append("--onednn")
    return command


def pytorch_command(args: argparse.Namespace, shapes: str) -> list[str]:
    command = [args.python, str(HERE / "conv_shapes.py"), "--shapes", shapes, "--json", "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--warmup", str(args.warmup)]
    if args.no_reference:
        command.append("--no-reference")
    if args.no_verbose:
        command.append("--no-verbose")
    return command


def ms(x: float | None) -> str:
    return "–" if x is None else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def ratio(theirs: float | None, ours: float | None) -> str:
    return "–" if not theirs or not ours else f"{theirs / ours:.2f}"


def shape_text(row: dict) -> str:
    kh, kw = row["kernel"]
    dy, dx = row["dilation"]
    dil = "" if (dy, dx) == (1, 1) else (f" d{dy}" if dy == dx else f" d{dy},{dx}")
    return f"{kh}x{kw} {row['in_channels']}→{row['out_channels']}{dil}"


def faster(ours: dict, theirs: dict) -> str:
    """Which side wins forward and forward + backward."""
    fwd = "ours" if ours["fwd_ms"] <= theirs["fwd_ms"] else "oneDNN"
    both = "ours" if ours["fwdbwd_ms"] <= theirs["fwdbwd_ms"] else "oneDNN"
    return both if fwd == both else f"fwd: {fwd}, fwd+bwd: {both}"


def tables(ours: dict, torch_side: dict, only: bool = False) -> list[str]:
    """The Markdown tables of the report."""
    theirs = {r["id"]: r for r in torch_side["rows"]}
    rows = [(r, theirs[r["id"]]) for r in ours["rows"] if r["id"] in theirs]
    lines = ["## Per shape", "",
             "oneDNN = `F.conv2d(x, W * M, b)` in PyTorch (its oneDNN path; dense over all KHxKW taps, NCHW "
             "tensors, reorders included); ours = products over the kept taps only. Ratio = oneDNN ms / ours ms "
             "(> 1: ours is faster). Forward + backward includes the weight and bias gradients and, except for the "
             "first layers (*), the input gradient.", "",
             "| layer | shape | uses | taps kept/total | ours fwd ms | oneDNN fwd ms | ours fwd+bwd ms "
             "| oneDNN fwd+bwd ms | ratio fwd | ratio fwd+bwd | faster |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r, t in rows:
        o = t["onednn"]
        star = "" if r["input_grad"] else " *"
        lines.append(f"| {r['id']}{star} | {shape_text(r)} | {r['uses']} | {r['taps_kept']}/{r['taps_total']} "
                     f"| {ms(r['fwd_ms'])} | {ms(o['fwd_ms'])} | {ms(r['fwdbwd_ms'])} | {ms(o['fwdbwd_ms'])} "
                     f"| {ratio(o['fwd_ms'], r['fwd_ms'])} | {ratio(o['fwdbwd_ms'], r['fwdbwd_ms'])} "
                     f"| {faster(r, o)} |")

    lines += ["", "## GFLOP/s", "",
              "Useful = 2·N·Cout·Cin·(kept taps)·H·W per product; dense = the same over all KHxKW taps (what "
              "oneDNN computes). Forward + backward counts 3 products (2 without the input gradient).", "",
              "| layer | ours fwd useful | ours fwd dense-equiv. | oneDNN fwd | ours fwd+bwd useful "
              "| ours fwd+bwd dense-equiv. | oneDNN fwd+bwd |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r, t in rows:
        o = t["onednn"]
        gf = lambda flops, m: f"{flops / (m * 1e-3) / 1e9:.1f}" if m else "–"  # noqa: E731
        lines.append(f"| {r['id']} | {gf(r['flops_fwd_useful'], r['fwd_ms'])} | {gf(r['flops_fwd_dense'], r['fwd_ms'])} "
                     f"| {gf(r['flops_fwd_dense'], o['fwd_ms'])} | {gf(r['flops_fwdbwd_useful'], r['fwdbwd_ms'])} "
                     f"| {gf(r['flops_fwdbwd_dense'], r['fwdbwd_ms'])} | {gf(r['flops_fwdbwd_dense'], o['fwdbwd_ms'])} |")

    lines += ["", "## oneDNN in detail", "",
              "Without oneDNN = the same PyTorch call under `torch.backends.mkldnn.flags(enabled=False)` (im2col + "
              "MKL sgemm). Conv only / reorders = oneDNN verbose mode's own execution times of the convolution "
              "primitives and of PyTorch's layout conversions around them. C API = oneDNN's primitive called "
              "directly from Swift (`autoreg-lab conv --onednn`, the system libdnnl the engine links): whole "
              "step with NCHW in and out (conv only in brackets); max diff = largest |its forward − ours|.", "",
              "| layer | without oneDNN fwd / fwd+bwd ms | conv only fwd / fwd+bwd ms | reorders fwd / fwd+bwd ms "
              "| PyTorch's primitives | C API fwd ms | C API fwd+bwd ms | C API primitives | max diff |",
              "|---|---:|---:|---:|---|---:|---:|---|---:|"]
    for r, t in rows:
        n, v, c = t.get("native"), t.get("verbose"), r.get("onednn_c")
        native = f"{ms(n['fwd_ms'])} / {ms(n['fwdbwd_ms'])}" if n else "–"
        conv = f"{ms(v['fwd_conv_ms'])} / {ms(v['fwdbwd_conv_ms'])}" if v else "–"
        reorders = f"{ms(v['fwd_reorder_ms'])} / {ms(v['fwdbwd_reorder_ms'])}" if v else "–"
        prims = ("; ".join(v["primitives"]) or v["backend"]) if v else "–"
        if c:
            c_fwd = f"{ms(c['fwd_ms'])} ({ms(c['fwd_conv_ms'])})"
            c_both = f"{ms(c['fwdbwd_ms'])} ({ms(c['fwdbwd_conv_ms'])})"
            c_impl = f"{c['impl_fwd']}; {c['impl_bwd_data']}; {c['impl_bwd_weights']}"
            c_diff = f"{c['max_abs_diff']:.1e}"
        else:
            c_fwd = c_both = c_impl = c_diff = "–"
        lines.append(f"| {r['id']} | {native} | {conv} | {reorders} | {prims} | {c_fwd} | {c_both} | {c_impl} | {c_diff} |")

    lines += ["", "## Per model: convolution time of one step", "",
              "Σ over shapes of uses × ms (both heads are listed; a model has one: only the 256-level head is "
              "counted for gated-pixelcnn, the Bernoulli head for pixelcnn, as `compare.py` runs them). Best = the "
              "faster side for each shape." + (" Only the shapes measured (`--only`)." if only else ""), "",
              "| model | ours fwd ms | oneDNN fwd ms | best fwd ms | ours fwd+bwd ms | oneDNN fwd+bwd ms "
              "| best fwd+bwd ms |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    skip = {"gated-pixelcnn": ".L2", "pixelcnn": ".L256"}
    for model in dict.fromkeys(r["model"] for r, _ in rows):
        other_head = skip.get(model)
        chosen = [(r, t) for r, t in rows
                  if r["model"] == model and not (other_head and r["id"].endswith(other_head))]
        total = {}
        for key in ("fwd_ms", "fwdbwd_ms"):
            a = sum(r["uses"] * r[key] for r, _ in chosen)
            b = sum(r["uses"] * t["onednn"][key] for r, t in chosen)
            best = sum(r["uses"] * min(r[key], t["onednn"][key]) for r, t in chosen)
            total[key] = (a, b, best)
        f, fb = total["fwd_ms"], total["fwdbwd_ms"]
        lines.append(f"| {model} | {ms(f[0])} | {ms(f[1])} | {ms(f[2])} | {ms(fb[0])} | {ms(fb[1])} | {ms(fb[2])} |")
    return lines


def report(ours: dict, torch_side: dict, args: argparse.Namespace, load: tuple[float, float]) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    c_lib = next((r["onednn_c"]["library"] for r in ours["rows"] if "onednn_c" in r), None)
    lines = [f"# Convolutions: kept taps (ours) vs oneDNN ({now})", "",
             f"- machine: {os.cpu_count()} logical CPUs, {cpu_name()}; load average {load[0]:.2f} before, "
             f"{load[1]:.2f} after",
             f"- autoreg-lab: `{args.autoreg_lab_bin}`, git {git_revision()}",
             f"- PyTorch {torch_side['version']} (`{args.python}`), its oneDNN "
             f"{torch_side.get('onednn_version') or '(version not seen)'}, mkldnn available: "
             f"{torch_side.get('mkldnn_available')}" + (f"; C API: system {c_lib}" if c_lib else ""),
             f"- batch {args.batch}, 28x28, threads {args.threads}, median of {args.repeats} calls after "
             f"{args.warmup} warm-up" + (" (--quick: a smoke test, not a measurement)" if args.quick else ""),
             ""]
    return "\n".join(lines + tables(ours, torch_side, only=bool(args.only))) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="threads for both sides (and OMP_NUM_THREADS)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=10, help="timed calls per shape and step (median)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="smoke test: 3 repeats after 1 warm-up")
    p.add_argument("--models", default="gated-pixelcnn,pixelcnn")
    p.add_argument("--only", help="only shapes whose id contains one of these comma-separated strings")
    p.add_argument("--no-onednn-c", action="store_true", help="skip oneDNN's C API on our side")
    p.add_argument("--no-reference", action="store_true", help="skip PyTorch without oneDNN")
    p.add_argument("--no-verbose", action="store_true", help="skip the oneDNN verbose pass")
    p.add_argument("--autoreg-lab-bin", default=default_lab_bin(),
                   help="our autoreg-lab (default $AUTOREG_LAB_BIN, else beside $AUTOREG_BIN, "
                        "else .build/release/autoreg-lab)")
    p.add_argument("--python", default=sys.executable, help="the Python with torch (default: this one)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per side")
    p.add_argument("--out", help="also write the report to this Markdown file")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.warmup = 3, 1
    for name in ("threads", "batch", "repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    before = os.getloadavg()[0]
    print(f"compare_conv.py: {' '.join(ours_command(args))}", file=sys.stderr)
    ours = run_side(ours_command(args), "autoreg-lab conv", args.timeout, env)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ours, f)
        shapes = f.name
    try:
        print(f"compare_conv.py: {' '.join(pytorch_command(args, shapes))}", file=sys.stderr)
        torch_side = run_side(pytorch_command(args, shapes), "conv_shapes.py", args.timeout, env)
    finally:
        os.unlink(shapes)
    text = report(ours, torch_side, args, (before, os.getloadavg()[0]))
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
