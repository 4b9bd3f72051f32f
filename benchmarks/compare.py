"""Side-by-side throughput of Autoreg (Swift) and the PyTorch reference models.

For every (model, levels, task) of the table below it runs ``autoreg bench TASK ... --json``
and ``pytorch_bench.py TASK ... --json``, each in a fresh process, alternating which goes
first, and prints Markdown tables of images/s, their ratio, peak memory and sampling
time. A side that fails (missing binary, unknown option, crash, timeout) becomes a row
saying so rather than stopping the comparison.

PyTorch runs under the glibc malloc settings Autoreg makes at start-up (read from
``Sources/CKernels/allocator.c`` and passed as ``MALLOC_*`` environment variables), and
again with glibc's defaults as a second row; the convolutional models also get a
``torch.compile`` row (``--pytorch-rows`` picks among them).

    benchmarks/.venv/bin/python benchmarks/compare.py [--quick] [--models gated-pixelcnn,made]
        [--threads 2] [--batch 64] [--pytorch-rows same-allocator,glibc-defaults,compiled] [--out results.md]

``benchmarks/run.sh`` sets up the virtual environment first and then runs this script.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import re
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
    """A side's JSON record, or why there is none (``label``: the PyTorch row it is)."""
    record: dict | None = None
    error: str | None = None
    command: list[str] = field(default_factory=list)
    label: str = "pytorch"
    wrong_allocator: bool = False   # ran with other malloc settings than its row claims


# ---------------------------------------------------------------------------------------
# The same allocator on both sides
# ---------------------------------------------------------------------------------------

# Autoreg tunes glibc's malloc at start-up (ar_tune_allocator, called by the CLI through
# Allocator.keepFreedMemory()). The same settings reach any other glibc process through
# these environment variables; this table is checked against the C source by
# test_fair_harness.py, and the source itself is read at run time when it is there.
ALLOCATOR_SOURCE = REPO / "Sources/CKernels/allocator.c"
AUTOREG_MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),   # mallopt(M_MMAP_THRESHOLD, 32 << 20)
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),    # mallopt(M_TRIM_THRESHOLD, 1 << 30)
    "MALLOC_TOP_PAD_": str(64 << 20),          # mallopt(M_TOP_PAD, 64 << 20)
}
# mallopt's parameters and the environment variables glibc reads for them.
MALLOPT_ENV = {
    "M_MMAP_THRESHOLD": "MALLOC_MMAP_THRESHOLD_",
    "M_TRIM_THRESHOLD": "MALLOC_TRIM_THRESHOLD_",
    "M_TOP_PAD": "MALLOC_TOP_PAD_",
    "M_MMAP_MAX": "MALLOC_MMAP_MAX_",
    "M_ARENA_MAX": "MALLOC_ARENA_MAX",
    "M_ARENA_TEST": "MALLOC_ARENA_TEST",
}


def _constant(node: ast.AST) -> int:
    """The value of an integer constant expression (literals, + - * <<, parentheses)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp):
        ops = {ast.LShift: lambda a, b: a << b, ast.Mult: lambda a, b: a * b,
               ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b}
        if type(node.op) in ops:
            return ops[type(node.op)](_constant(node.left), _constant(node.right))
    raise ValueError(f"not an integer constant: {ast.dump(node)}")


def mallopt_settings(source: str) -> dict[str, str]:
    """The ``mallopt(M_..., value)`` calls of a C source as environment variables,
    e.g. ``{"MALLOC_MMAP_THRESHOLD_": "33554432"}``. Raises ValueError on a parameter
    or value it cannot translate."""
    settings = {}
    for name, value in re.findall(r"\bmallopt\s*\(\s*(M_[A-Z_]+)\s*,\s*([^;]*?)\)\s*;", source):
        if name not in MALLOPT_ENV:
            raise ValueError(f"mallopt({name}, ...) has no environment variable in compare.MALLOPT_ENV")
        expression = re.sub(r"(?<=\d)[uUlL]+\b", "", value.strip())  # 1UL << 30 -> 1 << 30
        settings[MALLOPT_ENV[name]] = str(_constant(ast.parse(expression, mode="eval").body))
    return settings


def autoreg_allocator(path: Path = ALLOCATOR_SOURCE) -> tuple[dict[str, str], str]:
    """Autoreg's malloc settings as environment variables and where they were read:
    from the C source if it is there, else from ``AUTOREG_MALLOC_ENV``."""
    try:
        settings = mallopt_settings(path.read_text())
        if settings:
            return settings, f"mallopt in {path.relative_to(REPO) if path.is_relative_to(REPO) else path}"
        why = f"no mallopt call in {path}"
    except (OSError, ValueError) as e:
        why = str(e)
    return dict(AUTOREG_MALLOC_ENV), f"compare.py's table ({why})"


def without_malloc_settings(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without any glibc malloc setting: no ``MALLOC_*`` variable that mallopt
    has, no ``glibc.malloc.*`` entry in ``GLIBC_TUNABLES``."""
    env = {k: v for k, v in environ.items() if k not in MALLOPT_ENV.values()}
    if "GLIBC_TUNABLES" in env:
        kept = [t for t in env["GLIBC_TUNABLES"].split(":") if t and not t.startswith("glibc.malloc.")]
        if kept:
            env["GLIBC_TUNABLES"] = ":".join(kept)
        else:
            del env["GLIBC_TUNABLES"]
    return env


def mib(value: str) -> str:
    n = int(value)
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,} bytes"


# ---------------------------------------------------------------------------------------
# PyTorch rows
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PyTorchRow:
    """One way of running the PyTorch side."""
    key: str               # its name for --pytorch-rows
    label: str             # its name in the report
    autoreg_malloc: bool   # run with Autoreg's malloc settings (else glibc's defaults)
    compiled: bool = False # pytorch_bench.py --compile
    required: bool = True  # a failure means the harness is broken (exit status 1)


PYTORCH_ROWS = (
    PyTorchRow("same-allocator", "pytorch", autoreg_malloc=True),
    PyTorchRow("glibc-defaults", "pytorch (glibc defaults)", autoreg_malloc=False),
    PyTorchRow("compiled", "pytorch compiled", autoreg_malloc=True, compiled=True, required=False),
)
# Models with a torch.compile row (train and eval).
COMPILE_MODELS = {"gated-pixelcnn", "pixelcnn"}
# A compiled loss further than this (relative) from the eager one on the same batch is flagged.
COMPILED_TOLERANCE = 1e-4
# Seconds a compiled row may take beyond --timeout: inductor compiles C++ on its first call.
COMPILE_ALLOWANCE = 900


def pytorch_rows_for(case: Case, wanted: list[str]) -> list[PyTorchRow]:
    """The PyTorch rows of a case among ``wanted`` keys: compiled only for the models of
    ``COMPILE_MODELS`` and for train and eval."""
    return [r for r in PYTORCH_ROWS if r.key in wanted
            and (not r.compiled or (case.model in COMPILE_MODELS and case.task in ("train", "eval")))]


def allocator_mismatch(record: dict | None, row: PyTorchRow, malloc: dict[str, str]) -> str | None:
    """Why a PyTorch record's ``allocator`` (what pytorch_bench.py found in its own
    environment) is not what its row asked for, or None if it is."""
    if not record or "allocator" not in record:
        return None
    expected = malloc if row.autoreg_malloc else "glibc defaults"
    got = record["allocator"]
    return None if got == expected else f"ran with allocator {got}, not {expected}"


def pytorch_env(base: dict[str, str], row: PyTorchRow, malloc: dict[str, str]) -> dict[str, str]:
    """The environment of one PyTorch run: ``base`` without malloc settings, plus
    Autoreg's (``malloc``) for the rows that share our allocator settings."""
    env = without_malloc_settings(base)
    if row.autoreg_malloc:
        env.update(malloc)
    return env


# ---------------------------------------------------------------------------------------
# The torch version, and why that one
# ---------------------------------------------------------------------------------------

def _release(version: str) -> tuple[int, ...]:
    """``"2.13.0+cpu"`` -> ``(2, 13, 0)`` (pre-releases sort with their release)."""
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def torch_choice(installed: str, visible: list[str] | None) -> str:
    """Why this torch: ``installed`` against the versions pip can see (``pip index
    versions torch``, newest first; None if that failed). benchmarks/setup.sh takes plain
    ``torch`` when it installs without CUDA wheels, else the newest ``+cpu`` build."""
    if visible is None:
        return "pip could not list the torch versions here, so whether a newer one exists is unknown"
    if not visible:
        return "pip lists no torch version here"
    newest = max(visible, key=_release)
    cpu = [v for v in visible if v.endswith("+cpu")]
    newest_cpu = max(cpu, key=_release) if cpu else None
    if _release(installed) >= _release(newest):
        return "the newest torch visible to pip"
    if installed.endswith("+cpu") and newest_cpu and _release(installed) >= _release(newest_cpu):
        return (f"newest +cpu build visible to pip (torch {newest} is newer, but on Linux x86_64 "
                f"PyPI's wheels pull the CUDA wheels; benchmarks/README.md says how to use a newer +cpu wheel)")
    if newest_cpu and _release(newest_cpu) > _release(installed):
        return (f"older than torch {newest_cpu}, which pip can see: rm -rf benchmarks/.venv && "
                f"benchmarks/setup.sh installs it")
    return f"older than torch {newest} (set by TORCH_SPEC, or a venv made before it appeared)"


def visible_torch_versions(python: str) -> list[str] | None:
    """Versions of torch that pip (with this machine's pip configuration, e.g. find-links)
    can see, newest first, or None if ``pip index versions`` fails."""
    try:
        done = subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "--retries", "1", "--timeout", "20",
                               "index", "versions", "torch"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in done.stdout.splitlines():
        if line.startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    return None


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


def pytorch_command(python: str, case: Case, s: Settings, compiled: bool = False) -> list[str]:
    """``pytorch_bench.py TASK ...`` (always the naive sampler; ``--compile`` for a
    compiled row)."""
    cmd = [python, str(HERE / "pytorch_bench.py"), *common_args(case, s)]
    if case.task == "sample" and s.pixels < 784:
        cmd += ["--pixels", str(s.pixels)]
    if compiled:
        cmd += ["--compile"]
    return cmd


def run_case(case: Case, index: int, binary: str, python: str, s: Settings,
             rows: list[PyTorchRow] | None = None,
             malloc: dict[str, str] | None = None) -> list[tuple[Case, Result, Result]]:
    """Runs both sides of one case, each run in a fresh process, alternating which starts
    so neither always runs on a machine the other has just warmed (or heated): ours first
    on even cases, then the PyTorch rows; the reverse order on odd ones. A sampling case
    runs our side once per sampler and each PyTorch row once, giving one table row per
    (sampler, PyTorch row). ``rows`` defaults to PyTorch with our allocator settings only;
    ``malloc`` (Autoreg's settings as environment variables) to ``autoreg_allocator()``."""
    base = without_malloc_settings(dict(os.environ, OMP_NUM_THREADS=str(s.threads)))
    malloc = autoreg_allocator()[0] if malloc is None else malloc
    rows = rows if rows is not None else [PYTORCH_ROWS[0]]
    variants = [replace(case, sampler=x) for x in samplers_for(case.model)] if case.task == "sample" else [case]
    jobs = [("ours", v) for v in variants] + [("pytorch", r) for r in rows]
    if index % 2:
        jobs.reverse()
    ours, theirs = {}, {}
    for side, what in jobs:
        if side == "ours":
            ours[what] = run_json(ours_command(binary, what, s), s.timeout, "autoreg bench", base)
        else:
            label = f"pytorch_bench ({what.label})" if what.label != "pytorch" else "pytorch_bench"
            timeout = s.timeout + (COMPILE_ALLOWANCE if what.compiled else 0)
            result = run_json(pytorch_command(python, case, s, compiled=what.compiled), timeout, label,
                              pytorch_env(base, what, malloc))
            result.label = what.label
            mismatch = allocator_mismatch(result.record, what, malloc)
            if mismatch:  # the harness did not give this row the settings it claims
                result.error = f"{label}: {mismatch}"
                result.wrong_allocator = True
            theirs[what] = result
    return [(v, ours[v], theirs[r]) for v in variants for r in rows]


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


def compile_note(b: Result) -> str:
    """A compiled row's compile time (not in its rates) or why it did not compile."""
    if not b.record:
        return ""
    if b.record.get("compile_error"):
        return f"torch.compile failed: {one_line(b.record['compile_error'])}"
    if b.record.get("compile_seconds") is not None:
        note = f"compiled in {b.record['compile_seconds']:.1f} s (first call, not timed)"
        diff = b.record.get("compiled_vs_eager")
        if diff is not None:
            note += f", loss {'differs from' if diff > COMPILED_TOLERANCE else 'matches'} eager's " \
                    f"(relative difference {diff:.1e})"
        return note
    return ""


def notes(a: Result, b: Result) -> str:
    return "; ".join(n for n in (a.error, b.error, compile_note(b), parameter_note(a, b)) if n)


def get(result: Result, key: str):
    return result.record.get(key) if result.record else None


def ratio(x, y) -> str:
    return f"{x / y:.2f}" if x and y else "—"


def throughput_table(rows: list[tuple[Case, Result, Result]]) -> list[str]:
    out = ["| model | levels | task | parameters | ours img/s (min–max) | PyTorch row | PyTorch img/s (min–max) "
           "| ours / PyTorch | ours peak MiB | PyTorch peak MiB | notes |",
           "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---|"]
    for case, a, b in rows:
        params = get(b, "parameters") or get(a, "parameters")

        def rate(r: Result) -> str:
            med = get(r, "images_per_s_median")
            if med is None:
                return "—"
            return f"{fmt(med, 1)} ({fmt(get(r, 'images_per_s_min'), 1)}–{fmt(get(r, 'images_per_s_max'), 1)})"

        out.append(f"| {case.label} | {case.levels} | {case.task} | {fmt(params)} | {rate(a)} | {b.label} | {rate(b)} "
                   f"| {ratio(get(a, 'images_per_s_median'), get(b, 'images_per_s_median'))} "
                   f"| {fmt(get(a, 'peak_rss_mib'))} | {fmt(get(b, 'peak_rss_mib'))} | {notes(a, b)} |")
    return out


def sampling_table(rows: list[tuple[Case, Result, Result]], s: Settings) -> list[str]:
    out = ["| model | levels | images | our sampler | ours s | PyTorch row | PyTorch s (naive) | PyTorch s / ours s "
           "| ours peak MiB | PyTorch peak MiB | notes |",
           "|---|---:|---:|---|---:|---|---:|---:|---:|---:|---|"]
    for case, a, b in rows:
        extra = get(b, "extrapolated_from_pixels")
        theirs = fmt(get(b, "seconds"), 2) + (f" (from {extra} px)" if extra else "")
        out.append(f"| {case.label} | {case.levels} | {s.count} | {case.sampler} | {fmt(get(a, 'seconds'), 2)} "
                   f"| {b.label} | {theirs} | {ratio(get(b, 'seconds'), get(a, 'seconds'))} "
                   f"| {fmt(get(a, 'peak_rss_mib'))} | {fmt(get(b, 'peak_rss_mib'))} | {notes(a, b)} |")
    return out


def cpu_name() -> str:
    """The CPU's model name, family and model numbers and widest vector extension, e.g.
    "AMD EPYC, family 25 model 17, AVX-512" (the model name alone does not tell Zen 3 from
    Zen 4, and the AVX2 and AVX-512 machines give different figures): for autoreg-lab's
    report, and for ours where no `bench` record carries the binary's own `machine` line."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break  # the end of the first processor's block
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown CPU"
    parts = [fields.get("model name") or platform.processor() or "unknown CPU"]
    if "cpu family" in fields and "model" in fields:
        parts.append(f"family {fields['cpu family']} model {fields['model']}")
    flags = set(fields.get("flags", "").split())
    parts.append("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")
    return ", ".join(parts)


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


def allocator_lines(malloc: dict[str, str], origin: str) -> list[str]:
    """The report header's lines on the allocator settings of each side."""
    settings = ", ".join(f"`{k}={v}` ({mib(v)})" for k, v in malloc.items())
    return [f"- allocator: Autoreg tunes glibc malloc at start-up ({origin}); the rows \"pytorch\" and "
            f"\"pytorch compiled\" run with the same settings: {settings}; "
            f"\"pytorch (glibc defaults)\" runs without them"]


def report(rows: list[tuple[Case, Result, Result]], s: Settings, binary: str, python: str,
           quick: bool, torch_line: str | None = None,
           allocator: tuple[dict[str, str], str] | None = None) -> str:
    """The whole Markdown report (``torch_line``: the torch version and why that one,
    ``allocator``: Autoreg's malloc settings and where they were read)."""
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    malloc, origin = allocator or autoreg_allocator()
    # The binary's own account of the machine (it adds oneDNN's ISA and the C kernels' clone),
    # or /proc/cpuinfo's where no run of ours gave one.
    machine = next((ours.record["machine"] for _, ours, _ in rows
                    if ours.record and ours.record.get("machine")), None) or cpu_name()
    lines = [f"# Autoreg vs PyTorch ({now})", "",
             f"- machine: {os.cpu_count()} logical CPUs, {machine}",
             f"- autoreg: `{binary}`, git {git_revision()}",
             f"- PyTorch: {torch_line or torch_version(python)} (`{python}`)",
             *allocator_lines(malloc, origin),
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
    p.add_argument("--pytorch-rows", default=",".join(r.key for r in PYTORCH_ROWS),
                   help="comma-separated subset of " + ",".join(r.key for r in PYTORCH_ROWS) +
                        " (default all): PyTorch with Autoreg's malloc settings, with glibc's defaults, "
                        "and torch.compile'd (convolutional models, train and eval)")
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
    args.pytorch_rows = [r.strip() for r in args.pytorch_rows.split(",") if r.strip()]
    keys = [r.key for r in PYTORCH_ROWS]
    if not args.pytorch_rows or any(r not in keys for r in args.pytorch_rows):
        p.error(f"--pytorch-rows takes some of {', '.join(keys)}")
    if min(args.threads, args.batch, args.steps, args.count, args.pixels) < 1 or args.warmup < 0:
        p.error("--threads, --batch, --steps, --count and --pixels must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = Settings(threads=args.threads, batch=args.batch, steps=args.steps, warmup=args.warmup,
                 count=args.count, pixels=min(args.pixels, 784), timeout=args.timeout)
    binary = args.autoreg_bin
    version = torch_version(args.python)
    torch_line = f"torch {version}" if version == "not importable" else \
        f"torch {version}: {torch_choice(version, visible_torch_versions(args.python))}"
    malloc, origin = autoreg_allocator()
    print(f"PyTorch: {torch_line}", file=sys.stderr)
    print(f"allocator ({origin}): " + " ".join(f"{k}={v}" for k, v in malloc.items()), file=sys.stderr)
    cases = cases_for(args.models, args.tasks)
    rows = []
    required = {r.label for r in PYTORCH_ROWS if r.required}
    for i, case in enumerate(cases):
        what = f"{case.label} levels {case.levels} {case.task}"
        print(f"[{i + 1}/{len(cases)}] {what}", file=sys.stderr, flush=True)
        results = run_case(case, i, binary, args.python, s, pytorch_rows_for(case, args.pytorch_rows), malloc)
        for _, a, b in results:
            for r in (a, b):
                if r.error:
                    print(f"    {r.error}", file=sys.stderr, flush=True)
            if b.record and b.record.get("compile_error"):
                print(f"    {b.label}: torch.compile failed: {b.record['compile_error']}", file=sys.stderr, flush=True)
        rows += results
    text = report(rows, s, binary, args.python, args.quick, torch_line, (malloc, origin))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    # Failing PyTorch rows mean the harness itself is broken; our side may legitimately lag,
    # and a model that torch.compile cannot compile on this CPU is a finding, not a failure.
    # A row measured under other malloc settings than it claims is a broken harness too.
    return 1 if any(b.error and (b.label in required or b.wrong_allocator) for _, _, b in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
