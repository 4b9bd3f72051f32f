"""Side-by-side throughput of Autoreg (Swift) and the PyTorch reference models.

For every (model, levels, task) of the table below it runs ``autoreg bench TASK ... --json``
and ``pytorch_bench.py TASK ... --json``, each in a fresh process, alternating which goes
first, and prints Markdown tables of images/s, their ratio, peak memory and sampling
time. A side that fails (missing binary, unknown option, crash, timeout) becomes a row
saying so rather than stopping the comparison.

    benchmarks/.venv/bin/python benchmarks/compare.py [--quick] [--models gated-pixelcnn,made]
        [--threads 2] [--batch 64] [--out results.md]

``benchmarks/run.sh`` sets up the virtual environment first and then runs this script.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass(frozen=True)
class Case:
    """A model configuration and a task (for a sampling row, with the sampler our side uses)."""
    model: str
    levels: int
    task: str                       # train, eval or sample
    extra: tuple[str, ...] = ()     # options both sides take (model size)
    sampler: str | None = None      # sample: our sampler, naive or cached

    @property
    def label(self) -> str:
        size = " ".join(self.extra)
        return f"{self.model}{' ' + size if size else ''}"


# Benchmark configurations: the sizes the README's tables quote.
MODEL_OPTIONS: dict[str, list[tuple[int, tuple[str, ...]]]] = {
    "gated-pixelcnn": [(256, ()), (2, ())],
    "pixelcnn": [(2, ("--channels", "128", "--layers", "12"))],
    "made": [(2, ())],
    "fvsbn": [(2, ())],
    "row-lstm": [(2, ())],
    "diagonal-bilstm": [(2, ())],
    "pixelcnn++": [(256, ("--output", "logistic-mixture:5"))],
}
# Models with a cached incremental sampler on our side.
CACHED_SAMPLER = {"gated-pixelcnn", "pixelcnn", "row-lstm", "diagonal-bilstm"}


def cases_for(models: list[str], tasks: list[str]) -> list[Case]:
    """The comparison table: train, eval and sample for each configuration (a sampling
    case becomes one row per sampler of ``samplers_for``)."""
    return [Case(model, levels, task, extra)
            for model in models for levels, extra in MODEL_OPTIONS[model] for task in tasks]


def samplers_for(model: str) -> list[str]:
    """Our samplers compared with PyTorch's naive one: naive for every model, and the
    cached incremental sampler too where we have one."""
    return ["naive", "cached"] if model in CACHED_SAMPLER else ["naive"]


@dataclass
class Result:
    """A side's JSON record, or why there is none."""
    record: dict | None = None
    error: str | None = None
    command: list[str] = field(default_factory=list)


def default_lab_bin() -> str:
    """Our ``autoreg-lab`` (the convolution experiments): ``$AUTOREG_LAB_BIN``, else the one
    beside ``$AUTOREG_BIN``, else ``.build/release/autoreg-lab``."""
    if os.environ.get("AUTOREG_LAB_BIN"):
        return os.environ["AUTOREG_LAB_BIN"]
    if os.environ.get("AUTOREG_BIN"):
        return str(Path(os.environ["AUTOREG_BIN"]).with_name("autoreg-lab"))
    return str(REPO / ".build/release/autoreg-lab")


def last_json_line(text: str) -> dict | None:
    """The last line of ``text`` that parses as a JSON object, or None."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def one_line(text: str, limit: int = 240) -> str:
    """Condenses process output to one Markdown-safe line of at most ``limit`` characters."""
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    # Swift's argument parser puts the useful "Error: ..." line first and usage after it.
    errors = [l for l in lines if l.lower().startswith(("error", "fatal"))]
    s = " / ".join(errors or lines[-3:]) or "no output"
    s = s.replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def run_json(command: list[str], timeout: float, label: str, env: dict | None = None) -> Result:
    """Runs ``command`` and returns its last JSON line, or an error naming ``label``."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        return Result(error=f"{label} failed: {command[0]} not found", command=command)
    except PermissionError:
        return Result(error=f"{label} failed: {command[0]} is not executable", command=command)
    except subprocess.TimeoutExpired:
        return Result(error=f"{label} failed: timed out after {timeout:.0f} s", command=command)
    record = last_json_line(done.stdout)
    if done.returncode != 0:
        why = one_line(done.stderr or done.stdout)
        return Result(error=f"{label} failed: {why} (exit {done.returncode})", command=command)
    if record is None:
        return Result(error=f"{label} failed: no JSON line in output: {one_line(done.stdout + done.stderr)}",
                      command=command)
    return Result(record=record, command=command)


@dataclass
class Settings:
    """What both sides are asked to do."""
    threads: int
    batch: int
    steps: int
    warmup: int
    count: int          # images to sample
    pixels: int         # PyTorch sampling: pixels timed (extrapolated to 784)
    timeout: float


def common_args(case: Case, s: Settings) -> list[str]:
    """Options both command lines share."""
    args = [case.task, "--model", case.model, "--levels", str(case.levels), "--batch", str(s.batch),
            "--threads", str(s.threads), "--steps", str(s.steps), "--warmup", str(s.warmup), *case.extra]
    if case.task == "sample":
        args += ["--count", str(s.count)]
    return args + ["--json"]


def ours_command(binary: str, case: Case, s: Settings) -> list[str]:
    """``autoreg bench TASK ...``."""
    cmd = [binary, "bench", *common_args(case, s)]
    if case.sampler:
        cmd += ["--sampler", case.sampler]
    if case.sampler == "naive":  # the same extrapolation as PyTorch's
        cmd += ["--pixels", str(s.pixels)]
    return cmd


def pytorch_command(python: str, case: Case, s: Settings) -> list[str]:
    """``pytorch_bench.py TASK ...`` (always the naive sampler)."""
    cmd = [python, str(HERE / "pytorch_bench.py"), *common_args(case, s)]
    if case.task == "sample" and s.pixels < 784:
        cmd += ["--pixels", str(s.pixels)]
    return cmd


def run_case(case: Case, index: int, binary: str, python: str,
             s: Settings) -> list[tuple[Case, Result, Result]]:
    """Runs both sides of one case, alternating which starts so neither always runs on a
    machine the other has just warmed (or heated). A sampling case runs PyTorch once and
    our side once per sampler, giving one row per sampler."""
    env = dict(os.environ, OMP_NUM_THREADS=str(s.threads))
    variants = [replace(case, sampler=x) for x in samplers_for(case.model)] if case.task == "sample" else [case]
    ours_first = index % 2 == 0
    theirs = None
    if not ours_first:
        theirs = run_json(pytorch_command(python, case, s), s.timeout, "pytorch_bench", env)
    ours = [run_json(ours_command(binary, v, s), s.timeout, "autoreg bench", env) for v in variants]
    if ours_first:
        theirs = run_json(pytorch_command(python, case, s), s.timeout, "pytorch_bench", env)
    return [(v, a, theirs) for v, a in zip(variants, ours)]


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

def fmt(value, digits: int = 0) -> str:
    """A number for a table cell, or an em dash."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def parameter_note(a: Result, b: Result) -> str:
    """Flags models whose parameter counts differ between the two sides."""
    if a.record and b.record:
        pa, pb = a.record.get("parameters"), b.record.get("parameters")
        if pa is not None and pb is not None and pa != pb:
            return f"parameters differ: ours {pa:,}, PyTorch {pb:,}"
    return ""


def notes(a: Result, b: Result) -> str:
    return "; ".join(n for n in (a.error, b.error, parameter_note(a, b)) if n)


def get(result: Result, key: str):
    return result.record.get(key) if result.record else None


def ratio(x, y) -> str:
    return f"{x / y:.2f}" if x and y else "—"


def throughput_table(rows: list[tuple[Case, Result, Result]]) -> list[str]:
    out = ["| model | levels | task | parameters | ours img/s (min–max) | PyTorch img/s (min–max) "
           "| ours / PyTorch | ours peak MiB | PyTorch peak MiB | notes |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for case, a, b in rows:
        params = get(b, "parameters") or get(a, "parameters")

        def rate(r: Result) -> str:
            med = get(r, "images_per_s_median")
            if med is None:
                return "—"
            return f"{fmt(med, 1)} ({fmt(get(r, 'images_per_s_min'), 1)}–{fmt(get(r, 'images_per_s_max'), 1)})"

        out.append(f"| {case.label} | {case.levels} | {case.task} | {fmt(params)} | {rate(a)} | {rate(b)} "
                   f"| {ratio(get(a, 'images_per_s_median'), get(b, 'images_per_s_median'))} "
                   f"| {fmt(get(a, 'peak_rss_mib'))} | {fmt(get(b, 'peak_rss_mib'))} | {notes(a, b)} |")
    return out


def sampling_table(rows: list[tuple[Case, Result, Result]], s: Settings) -> list[str]:
    out = ["| model | levels | images | our sampler | ours s | PyTorch s (naive) | PyTorch s / ours s "
           "| ours peak MiB | PyTorch peak MiB | notes |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for case, a, b in rows:
        extra = get(b, "extrapolated_from_pixels")
        theirs = fmt(get(b, "seconds"), 2) + (f" (from {extra} px)" if extra else "")
        out.append(f"| {case.label} | {case.levels} | {s.count} | {case.sampler} | {fmt(get(a, 'seconds'), 2)} "
                   f"| {theirs} | {ratio(get(b, 'seconds'), get(a, 'seconds'))} "
                   f"| {fmt(get(a, 'peak_rss_mib'))} | {fmt(get(b, 'peak_rss_mib'))} | {notes(a, b)} |")
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (rev or "unknown") + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def torch_version(python: str) -> str:
    try:
        out = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, timeout=120)
        return out.stdout.strip() or "not importable"
    except (OSError, subprocess.SubprocessError):
        return "not importable"


def report(rows: list[tuple[Case, Result, Result]], s: Settings, binary: str, python: str,
           quick: bool) -> str:
    """The whole Markdown report."""
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"# Autoreg vs PyTorch ({now})", "",
             f"- machine: {os.cpu_count()} logical CPUs, {cpu_name()}",
             f"- autoreg: `{binary}`, git {git_revision()}",
             f"- PyTorch: {torch_version(python)} (`{python}`)",
             f"- threads {s.threads}, batch {s.batch}, {s.steps} timed steps after {s.warmup} warm-up"
             + (" (--quick: a smoke test, not a measurement)" if quick else ""),
             f"- sampling: {s.count} images, 784 pixels; PyTorch samples naively (one full pass per pixel)"
             + (f", timing the first {s.pixels} pixels and extrapolating" if s.pixels < 784 else ""),
             "- img/s: median over the timed steps (min–max); ratio > 1 means Autoreg is faster", ""]
    main = [r for r in rows if r[0].task != "sample"]
    sampling = [r for r in rows if r[0].task == "sample"]
    if main:
        lines += throughput_table(main) + [""]
    if sampling:
        lines += ["## Sampling", ""] + sampling_table(sampling, s) + [""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 3 steps after 1 warm-up, batch 16, 4 sampled images, PyTorch 8 pixels")
    p.add_argument("--models", default=",".join(MODEL_OPTIONS),
                   help=f"comma-separated subset of {','.join(MODEL_OPTIONS)}")
    p.add_argument("--tasks", default="train,eval,sample", help="comma-separated subset of train,eval,sample")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=None, help="minibatch (default 64; 16 with --quick)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 20; 3 with --quick)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default 3; 1 with --quick)")
    p.add_argument("--count", type=int, default=None, help="images to sample (default 16; 4 with --quick)")
    p.add_argument("--pixels", type=int, default=None,
                   help="PyTorch sampling: pixels timed before extrapolating to 784 "
                        "(default 56; 8 with --quick; 784 = no extrapolation)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per command (default 1800; 300 quick)")
    p.add_argument("--autoreg-bin", default=os.environ.get("AUTOREG_BIN", str(REPO / ".build/release/autoreg")),
                   help="our binary (default $AUTOREG_BIN or .build/release/autoreg)")
    p.add_argument("--python", default=str(HERE / ".venv/bin/python"),
                   help="interpreter with torch (default benchmarks/.venv/bin/python)")
    p.add_argument("--out", help="also write the Markdown report to this file")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = dict(batch=(16, 64), steps=(3, 20), warmup=(1, 3), count=(4, 16), pixels=(8, 56),
                    timeout=(300, 1800))
    for name, (q, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, q if quick else full)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in MODEL_OPTIONS]
    if unknown:
        p.error(f"unknown models {unknown}; expected some of {', '.join(MODEL_OPTIONS)}")
    args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if any(t not in ("train", "eval", "sample") for t in args.tasks):
        p.error("--tasks takes train, eval and/or sample")
    if min(args.threads, args.batch, args.steps, args.count, args.pixels) < 1 or args.warmup < 0:
        p.error("--threads, --batch, --steps, --count and --pixels must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = Settings(threads=args.threads, batch=args.batch, steps=args.steps, warmup=args.warmup,
                 count=args.count, pixels=min(args.pixels, 784), timeout=args.timeout)
    binary = args.autoreg_bin
    cases = cases_for(args.models, args.tasks)
    rows = []
    for i, case in enumerate(cases):
        what = f"{case.label} levels {case.levels} {case.task}"
        print(f"[{i + 1}/{len(cases)}] {what}", file=sys.stderr, flush=True)
        results = run_case(case, i, binary, args.python, s)
        for _, a, b in results:
            for r in (a, b):
                if r.error:
                    print(f"    {r.error}", file=sys.stderr, flush=True)
        rows += results
    text = report(rows, s, binary, args.python, args.quick)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    # Failing PyTorch rows mean the harness itself is broken; our side may legitimately lag.
    return 1 if any(b.error for _, _, b in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
