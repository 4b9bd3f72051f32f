"""Checks of the fair-comparison parts of the harness, none of which time anything:

* Autoreg's malloc settings (``Sources/CKernels/allocator.c``) and ``compare.py``'s table of
  them agree, and glibc honours them when they are passed as environment variables;
* the PyTorch row "pytorch" gets them, "pytorch (glibc defaults)" does not, and
  ``pytorch_bench.py`` writes what it got into its JSON record;
* the report has the rows and the header lines (allocator, torch version and why), a
  compiled row that fails to compile is a note and not a failed run;
* the torch-version explanation.

Run with ``benchmarks/.venv/bin/python -m unittest discover -s benchmarks`` (or this file
alone: ``-m unittest test_fair_harness`` from ``benchmarks/``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import textwrap
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import compare
from compare import PYTORCH_ROWS, Case, Settings

HERE = Path(__file__).resolve().parent
SAME, DEFAULTS, COMPILED = PYTORCH_ROWS
MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


class AllocatorSettings(unittest.TestCase):
    def test_table_matches_the_c_source(self):
        """compare.py's table is what ar_tune_allocator sets (update both together)."""
        source = compare.ALLOCATOR_SOURCE.read_text()
        self.assertEqual(compare.mallopt_settings(source), compare.AUTOREG_MALLOC_ENV)
        self.assertEqual(compare.AUTOREG_MALLOC_ENV, {"MALLOC_MMAP_THRESHOLD_": str(32 << 20),
                                                      "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
                                                      "MALLOC_TOP_PAD_": str(64 << 20)})
        settings, origin = compare.autoreg_allocator()
        self.assertEqual(settings, compare.AUTOREG_MALLOC_ENV)
        self.assertIn("Sources/CKernels/allocator.c", origin)

    def test_parses_mallopt_calls(self):
        source = textwrap.dedent("""
            void f(void) {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);   // comment
                mallopt( M_TRIM_THRESHOLD , (1UL << 30) );
                mallopt(M_TOP_PAD, 64 * 1024 * 1024);
                mallopt(M_ARENA_MAX, 2);
            }""")
        self.assertEqual(compare.mallopt_settings(source), {
            "MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824",
            "MALLOC_TOP_PAD_": "67108864", "MALLOC_ARENA_MAX": "2"})

    def test_untranslatable_call_falls_back_to_the_table(self):
        with self.assertRaisesRegex(ValueError, "M_PERTURB"):
            compare.mallopt_settings("mallopt(M_PERTURB, 1);")
        with self.assertRaises(ValueError):
            compare.mallopt_settings("mallopt(M_TOP_PAD, SOME_MACRO);")
        with tempfile.TemporaryDirectory() as tmp:
            settings, origin = compare.autoreg_allocator(Path(tmp) / "missing.c")
        self.assertEqual(settings, compare.AUTOREG_MALLOC_ENV)
        self.assertIn("compare.py's table", origin)

    def test_glibc_honours_the_variables(self):
        """An 8 MiB malloc comes from mmap under glibc's defaults (threshold 128 KiB) and
        from the heap with Autoreg's 32 MiB threshold given as MALLOC_MMAP_THRESHOLD_."""
        probe = textwrap.dedent("""
            import ctypes, sys
            class Info(ctypes.Structure):
                _fields_ = [(n, ctypes.c_size_t) for n in
                            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
            libc = ctypes.CDLL("libc.so.6")
            if not hasattr(libc, "mallinfo2"):
                print("no mallinfo2"); sys.exit(0)
            libc.mallinfo2.restype = Info
            libc.malloc.restype = ctypes.c_void_p
            libc.free.argtypes = [ctypes.c_void_p]
            before = libc.mallinfo2().hblks
            block = libc.malloc(8 << 20)
            print("mmap" if libc.mallinfo2().hblks > before else "heap")
            libc.free(block)
            """)
        base = compare.without_malloc_settings(dict(__import__("os").environ))

        def source(env):
            return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                                  check=True).stdout.strip()

        defaults = source(compare.pytorch_env(base, DEFAULTS, compare.AUTOREG_MALLOC_ENV))
        if defaults == "no mallinfo2":
            self.skipTest("this C library has no mallinfo2 (not glibc 2.33+)")
        self.assertEqual(defaults, "mmap")
        self.assertEqual(source(compare.pytorch_env(base, SAME, compare.AUTOREG_MALLOC_ENV)), "heap")


class Environments(unittest.TestCase):
    parent = {"PATH": "/usr/bin", "OMP_NUM_THREADS": "1", "MALLOC_TOP_PAD_": "1",
              "MALLOC_ARENA_MAX": "4", "GLIBC_TUNABLES": "glibc.malloc.tcache_count=0:glibc.cpu.hwcaps=-AVX"}

    def test_same_allocator_row_gets_autoreg_settings(self):
        env = compare.pytorch_env(self.parent, SAME, compare.AUTOREG_MALLOC_ENV)
        for k, v in compare.AUTOREG_MALLOC_ENV.items():
            self.assertEqual(env[k], v)
        self.assertNotIn("MALLOC_ARENA_MAX", env)          # the parent's own settings are gone
        self.assertEqual(env["GLIBC_TUNABLES"], "glibc.cpu.hwcaps=-AVX")
        self.assertEqual((env["PATH"], env["OMP_NUM_THREADS"]), ("/usr/bin", "1"))

    def test_glibc_defaults_row_has_none(self):
        env = compare.pytorch_env(self.parent, DEFAULTS, compare.AUTOREG_MALLOC_ENV)
        for k in (*MALLOC_VARS, "MALLOC_ARENA_MAX"):
            self.assertNotIn(k, env)
        self.assertNotIn("glibc.malloc", env.get("GLIBC_TUNABLES", ""))
        only_malloc = compare.without_malloc_settings({"GLIBC_TUNABLES": "glibc.malloc.top_pad=1"})
        self.assertNotIn("GLIBC_TUNABLES", only_malloc)

    def test_compiled_row_shares_our_settings(self):
        env = compare.pytorch_env(self.parent, COMPILED, compare.AUTOREG_MALLOC_ENV)
        self.assertEqual({k: env[k] for k in MALLOC_VARS}, compare.AUTOREG_MALLOC_ENV)

    def test_pytorch_bench_reads_its_environment(self):
        import pytorch_bench
        self.assertEqual(pytorch_bench.allocator_settings({"PATH": "/bin"}), "glibc defaults")
        self.assertEqual(pytorch_bench.allocator_settings(dict(compare.AUTOREG_MALLOC_ENV, PATH="/bin")),
                         compare.AUTOREG_MALLOC_ENV)
        self.assertEqual(pytorch_bench.allocator_settings({"GLIBC_TUNABLES": "glibc.cpu.x=1:glibc.malloc.top_pad=9"}),
                         {"GLIBC_TUNABLES": "glibc.malloc.top_pad=9"})

    def test_real_pytorch_records_name_their_allocator(self):
        """Both rows through compare.run_case and the real pytorch_bench.py (MADE, one step)."""
        with tempfile.TemporaryDirectory() as tmp:
            stub = stand_in_autoreg(Path(tmp))
            s = Settings(threads=1, batch=2, steps=1, warmup=0, count=1, pixels=1, timeout=300)
            rows = compare.run_case(Case("made", 2, "eval"), 0, str(stub), sys.executable, s,
                                    [SAME, DEFAULTS], compare.AUTOREG_MALLOC_ENV)
        (_, _, same), (_, _, defaults) = rows
        self.assertIsNone(same.error)
        self.assertIsNone(defaults.error)
        self.assertEqual(same.record["allocator"], compare.AUTOREG_MALLOC_ENV)
        self.assertEqual(defaults.record["allocator"], "glibc defaults")
        self.assertEqual((same.label, defaults.label), ("pytorch", "pytorch (glibc defaults)"))
        self.assertFalse(same.record["compiled"])
        self.assertTrue(same.record["version"])


class Rows(unittest.TestCase):
    def test_compiled_rows_for_convolutional_train_and_eval(self):
        keys = [r.key for r in PYTORCH_ROWS]
        self.assertEqual([r.label for r in compare.pytorch_rows_for(Case("gated-pixelcnn", 256, "train"), keys)],
                         ["pytorch", "pytorch (glibc defaults)", "pytorch compiled"])
        self.assertEqual([r.label for r in compare.pytorch_rows_for(Case("pixelcnn", 2, "eval"), keys)],
                         ["pytorch", "pytorch (glibc defaults)", "pytorch compiled"])
        self.assertNotIn(COMPILED, compare.pytorch_rows_for(Case("gated-pixelcnn", 2, "sample"), keys))
        self.assertNotIn(COMPILED, compare.pytorch_rows_for(Case("made", 2, "train"), keys))
        self.assertEqual(compare.pytorch_rows_for(Case("pixelcnn", 2, "train"), ["compiled"]), [COMPILED])

    def test_pytorch_command_compile_flag(self):
        s = Settings(threads=1, batch=2, steps=1, warmup=0, count=1, pixels=1, timeout=1)
        self.assertIn("--compile", compare.pytorch_command("py", Case("pixelcnn", 2, "train"), s, compiled=True))
        self.assertNotIn("--compile", compare.pytorch_command("py", Case("pixelcnn", 2, "train"), s))

    def test_bad_pytorch_rows_option(self):
        with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            compare.parse_args(["--pytorch-rows", "fastest"])
        self.assertEqual(compare.parse_args(["--pytorch-rows", "compiled"]).pytorch_rows, ["compiled"])


def stand_in_autoreg(directory: Path, log: Path | None = None) -> Path:
    """An ``autoreg`` that logs its call and prints a fixed record."""
    record = {"framework": "autoreg", "parameters": 0, "images_per_s_median": 100.0, "images_per_s_min": 90.0,
              "images_per_s_max": 110.0, "peak_rss_mib": 50.0, "seconds": 2.0, "gflops": 1.0,
              "machine": "Stand-in CPU, family 1 model 2; AVX-512; oneDNN avx512_core; C kernels x86-64-v4"}
    stub = directory / "autoreg"
    logging = f"echo \"ours $*\" >> '{log}'\n" if log else ""
    stub.write_text(f"#!/bin/sh\n{logging}echo '{json.dumps(record)}'\n")
    stub.chmod(0o755)
    return stub


def stand_in_python(directory: Path, log: Path) -> Path:
    """A ``python`` for ``pytorch_bench.py ...`` that logs its call and environment and
    prints a record like pytorch_bench.py's (using its real ``allocator_settings`` logic
    would import torch; this one has the same rule for MALLOC_* variables). For pixelcnn
    it fails to compile, like a model torch.compile cannot handle."""
    script = directory / "python"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(f"""
        import json, os, sys
        args = sys.argv[2:]
        model = args[args.index("--model") + 1]
        found = {{k: os.environ[k] for k in {MALLOC_VARS!r} if k in os.environ}}
        with open({str(log)!r}, "a") as f:
            f.write("pytorch " + " ".join(args) + " | " + json.dumps(found) + "\\n")
        record = {{"framework": "pytorch", "version": "9.9.9+cpu", "allocator": found or "glibc defaults",
                  "compiled": "--compile" in args, "parameters": 0, "images_per_s_median": 50.0,
                  "images_per_s_min": 40.0, "images_per_s_max": 60.0, "peak_rss_mib": 300.0, "seconds": 4.0,
                  "gflops": None}}
        if "--compile" in args:
            if model == "pixelcnn":
                record.update(compile_error="BackendCompilerFailed: no C++ compiler", images_per_s_median=None,
                              images_per_s_min=None, images_per_s_max=None)
            else:
                record.update(compile_seconds=12.5, compiled_vs_eager=3e-7)
        print(json.dumps(record))
        """))
    script.chmod(0o755)
    return script


class Report(unittest.TestCase):
    def run_compare(self, *args: str) -> tuple[int, str, list[str]]:
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "log"
            stub, python = stand_in_autoreg(Path(tmp), log), stand_in_python(Path(tmp), log)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                status = compare.main(["--quick", "--threads", "1", "--autoreg-bin", str(stub),
                                       "--python", str(python), *args])
            calls = log.read_text().splitlines()
        return status, out.getvalue() + err.getvalue(), calls

    def test_rows_header_and_order(self):
        status, text, calls = self.run_compare("--models", "gated-pixelcnn,pixelcnn", "--tasks", "train,eval")
        self.assertEqual(status, 0, text)   # pixelcnn's compile failure is a note, not a failure
        # Header: allocator settings and where they come from, the torch version and why.
        self.assertIn("`MALLOC_MMAP_THRESHOLD_=33554432` (32 MiB)", text)
        self.assertIn("`MALLOC_TRIM_THRESHOLD_=1073741824` (1024 MiB)", text)
        self.assertIn("`MALLOC_TOP_PAD_=67108864` (64 MiB)", text)
        self.assertIn("mallopt in Sources/CKernels/allocator.c", text)
        self.assertIn("- PyTorch: torch ", text)
        # The machine as our binary describes it (oneDNN's ISA and the kernels' clone included).
        self.assertIn("logical CPUs, Stand-in CPU, family 1 model 2; AVX-512; oneDNN avx512_core; C kernels x86-64-v4",
                      text)
        # Every conv case has the three PyTorch rows, ours repeated beside each.
        for case in ("| gated-pixelcnn | 256 | train |", "| gated-pixelcnn | 2 | eval |",
                     "| pixelcnn --channels 128 --layers 12 | 2 | train |"):
            labels = [line.split(" | ")[5] for line in text.splitlines() if line.startswith(case)]
            self.assertEqual(labels, ["pytorch", "pytorch (glibc defaults)", "pytorch compiled"], case)
        self.assertIn("| 0 | 100.0 (90.0–110.0) | pytorch (glibc defaults) | 50.0 (40.0–60.0) | 2.00 |", text)
        self.assertIn("| pytorch compiled | 50.0 (40.0–60.0) | 2.00 |", text)
        self.assertIn("compiled in 12.5 s (first call, not timed), loss matches eager's (relative difference 3.0e-07)",
                      text)
        self.assertIn("| pytorch compiled | — | — |", text)
        self.assertIn("torch.compile failed: BackendCompilerFailed: no C++ compiler", text)
        # One process per measurement, each PyTorch row with its own environment.
        self.assertEqual(len(calls), 6 * 4)   # 6 cases x (ours + 3 PyTorch rows)
        pytorch = [c.split(" | ") for c in calls if c.startswith("pytorch")]
        tuned = [args for args, env in pytorch if json.loads(env) == compare.AUTOREG_MALLOC_ENV]
        defaults = [args for args, env in pytorch if json.loads(env) == {}]
        self.assertEqual((len(tuned), len(defaults)), (12, 6))   # pytorch and compiled; glibc defaults
        self.assertEqual(sum("--compile" in args for args in tuned), 6)
        self.assertFalse(any("--compile" in args for args in defaults))
        # Interleaved: ours first on even cases, last on odd ones.
        self.assertTrue(calls[0].startswith("ours"))
        self.assertTrue(calls[4].startswith("pytorch") and calls[7].startswith("ours"))

    def test_sampling_rows_per_sampler_and_pytorch_row(self):
        status, text, calls = self.run_compare("--models", "gated-pixelcnn", "--tasks", "sample",
                                               "--pytorch-rows", "same-allocator,glibc-defaults,compiled")
        self.assertEqual(status, 0, text)
        for sampler in ("naive", "cached"):
            for label in ("pytorch", "pytorch (glibc defaults)"):
                self.assertIn(f"| 4 | {sampler} | 2.00 | {label} | 4.00", text)
        self.assertNotIn("pytorch compiled", text.split("## Sampling", 1)[1])
        self.assertEqual(len(calls), 2 * (2 + 2))   # 2 configurations x (2 samplers + 2 PyTorch rows)

    def test_wrong_allocator_is_a_harness_failure(self):
        """A PyTorch record whose allocator is not its row's makes the run fail, compiled
        rows included (here the stand-in ignores the variables)."""
        record = {"allocator": "glibc defaults"}
        self.assertIn("not", compare.allocator_mismatch(record, SAME, compare.AUTOREG_MALLOC_ENV))
        self.assertIsNone(compare.allocator_mismatch(record, DEFAULTS, compare.AUTOREG_MALLOC_ENV))
        original = compare.pytorch_env
        compare.pytorch_env = lambda base, row, malloc: compare.without_malloc_settings(base)
        try:
            status, text, _ = self.run_compare("--models", "gated-pixelcnn", "--tasks", "eval",
                                               "--pytorch-rows", "compiled")
        finally:
            compare.pytorch_env = original
        self.assertEqual(status, 1, text)
        self.assertIn("ran with allocator glibc defaults, not {", text)


class TorchChoice(unittest.TestCase):
    visible = ["2.15.0", "2.14.1", "2.13.0+cpu", "2.13.0", "2.12.0"]

    def test_newest_cpu_build(self):
        why = compare.torch_choice("2.13.0+cpu", self.visible)
        self.assertTrue(why.startswith("newest +cpu build visible to pip"), why)
        self.assertIn("2.15.0", why)

    def test_newest_overall(self):
        self.assertEqual(compare.torch_choice("2.15.0", self.visible), "the newest torch visible to pip")

    def test_newer_cpu_build_available(self):
        why = compare.torch_choice("2.13.0+cpu", ["2.15.0", "2.14.0+cpu", "2.13.0+cpu"])
        self.assertIn("older than torch 2.14.0+cpu", why)
        self.assertIn("setup.sh", why)

    def test_unknown(self):
        self.assertIn("unknown", compare.torch_choice("2.13.0+cpu", None))


class FirstLine(unittest.TestCase):
    def test_first_line_of_errors(self):
        import pytorch_bench
        self.assertEqual(pytorch_bench.first_line(RuntimeError("boom\nmore")), "RuntimeError: boom")
        self.assertEqual(pytorch_bench.first_line(RuntimeError("backend='inductor' raised:\nCppCompileError: x\n")),
                         "RuntimeError: backend='inductor' raised: CppCompileError: x")
        self.assertEqual(pytorch_bench.first_line(ValueError()), "ValueError")


if __name__ == "__main__":
    unittest.main()
