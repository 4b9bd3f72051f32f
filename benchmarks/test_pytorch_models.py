"""Checks of the PyTorch reference models and benchmark script.

Run with ``benchmarks/.venv/bin/python -m unittest discover -s benchmarks`` (after
``benchmarks/setup.sh``). The parameter counts are those the Swift models report
(``autoreg bench model --model X`` prints them on its first line).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unittest
from pathlib import Path

import torch

from pytorch_models import make_model, parameter_count, expected_conv_parameters, expected_loader_parameters
import compare

HERE = Path(__file__).resolve().parent

# (model, levels, channels, layers) -> parameters of the Swift model.
SWIFT_COUNTS = {
    ("gated-pixelcnn", 256, None, None): 852_160,
    ("gated-pixelcnn", 2, None, None): 835_585,
    ("pixelcnn", 2, None, None): 209_025,
    ("pixelcnn", 2, 128, 12): 665_089,
    ("made", 2, None, None): 785_284,
    ("fvsbn", 2, None, None): 615_440,
}


class ParameterCounts(unittest.TestCase):
    def test_counts_match_swift_models(self):
        for (name, levels, channels, layers), expected in SWIFT_COUNTS.items():
            with self.subTest(model=name, levels=levels, channels=channels, layers=layers):
                model = make_model(name, levels, channels=channels, layers=layers)
                self.assertEqual(parameter_count(model), expected)

    def test_closed_form_matches(self):
        for name, levels, channels, layers in [("gated-pixelcnn", 256, 64, 7), ("gated-pixelcnn", 2, 32, 3),
                                                ("pixelcnn", 2, 128, 12), ("pixelcnn", 256, 64, 15)]:
            with self.subTest(model=name, levels=levels):
                model = make_model(name, levels, channels=channels, layers=layers)
                self.assertEqual(parameter_count(model), expected_conv_parameters(name, levels, channels, layers))


# (model, levels, output) -> parameters of the Swift model with its defaults (Row LSTM and Diagonal
# BiLSTM: `autoreg export` of the checkpoints under models/ and `autoreg bench model`;
# PixelCNN++: `autoreg bench train --model pixelcnn++ --levels 256 [--output logistic-mixture:5] --json`).
SWIFT_LOADER_COUNTS = {
    ("row-lstm", 2, None): 71_905,
    ("diagonal-bilstm", 2, None): 65_633,
    ("pixelcnn++", 256, "logistic-mixture:5"): 968_239,
    ("pixelcnn++", 256, None): 969_214,      # Swift's default output for 8-bit pixels: 10 logistics
}


class LoaderModels(unittest.TestCase):
    """Row LSTM, Diagonal BiLSTM and PixelCNN++ (python/autoreg_torch's loaders, fresh weights)."""

    def test_counts_match_swift_models(self):
        for (name, levels, output), expected in SWIFT_LOADER_COUNTS.items():
            with self.subTest(model=name, output=output):
                self.assertEqual(parameter_count(make_model(name, levels, output=output)), expected)

    def test_closed_form_matches(self):
        for name, levels, output, out, kwargs in [
                ("row-lstm", 256, None, 256, dict(hidden=[8], layers=3)),
                ("diagonal-bilstm", 256, None, 256, dict(hidden=[8], layers=2)),
                ("diagonal-bilstm", 2, None, 1, {}),
                ("pixelcnn++", 256, "logistic-mixture:3", 9, dict(channels=8, layers=1)),
                ("pixelcnn++", 2, None, 1, dict(channels=5, layers=0))]:
            with self.subTest(model=name, levels=levels, output=output, **kwargs):
                model = make_model(name, levels, output=output, **kwargs)
                size = kwargs.get("channels") or (kwargs["hidden"][0] if "hidden" in kwargs else None)
                self.assertEqual(parameter_count(model),
                                 expected_loader_parameters(name, out, size=size, layers=kwargs.get("layers")))

    def test_every_parameter_trains(self):
        """The loaders freeze what they load; the benchmark model must train all of it."""
        model = make_model("pixelcnn++", 256, output="logistic-mixture:2", channels=4, layers=1)
        x = torch.randint(0, 256, (2, 1, 28, 28)).float()
        model.loss(x).backward()
        for name, p in model.named_parameters():
            self.assertTrue(p.requires_grad, name)
            self.assertIsNotNone(p.grad, name)

    def test_mixture_nll_is_the_discretised_likelihood(self):
        """Per pixel, the 256 bins of the mixture sum to 1, and the NLL is a sum of their -log."""
        torch.manual_seed(3)
        model = make_model("pixelcnn++", 256, output="logistic-mixture:2", channels=3, layers=0)
        terms = model.distributions.logistic_mixture_terms
        params = model.net(torch.zeros(1, 1, 28, 28))[0, :4]                  # 4 pixels, [4, 6]
        values = torch.arange(256.0)
        probs = torch.exp(-terms(params[:, None, :].expand(4, 256, 6), values.expand(4, 256), 2))
        for total in probs.sum(1):
            self.assertAlmostEqual(float(total), 1.0, places=5)

    def test_draw_gives_valid_values(self):
        gen = torch.Generator().manual_seed(0)
        for name, levels, output, allowed in [("pixelcnn++", 256, "logistic-mixture:3", 256),
                                               ("row-lstm", 2, None, 2), ("diagonal-bilstm", 256, None, 256)]:
            with self.subTest(model=name):
                model = make_model(name, levels, output=output, hidden=[4], layers=1) if name != "pixelcnn++" \
                    else make_model(name, levels, output=output, channels=3, layers=0)
                v = model.draw(model.pixel_logits(torch.zeros(5, 1, 28, 28), 0, 0), gen)
                self.assertEqual(tuple(v.shape), (5,))
                self.assertTrue(bool(((v >= 0) & (v < allowed) & (v == v.round())).all()))


class Causality(unittest.TestCase):
    """The logits of pixel i must not depend on pixels i, i+1, ... (raster order)."""

    def check(self, name: str, levels: int, **kwargs) -> None:
        torch.manual_seed(0)
        model = make_model(name, levels, **kwargs)
        if name == "fvsbn":  # zero-initialised: give the weights values to test the mask
            torch.nn.init.normal_(model.linear.weight)
        x = torch.randint(0, levels, (2, 1, 28, 28)).float().requires_grad_(True)
        logits = model.logits(x)
        for i in [0, 1, 27, 28, 29, 400, 783]:
            row, col = divmod(i, 28)
            x.grad = None
            logits[:, :, row, col].sum().backward(retain_graph=True)
            grad = x.grad.abs().sum(0).flatten()
            self.assertEqual(float(grad[i:].sum()), 0.0, f"{name}: pixel {i} sees itself or later pixels")
            # MADE's pixel 1 sees pixel 0 only if some hidden unit drew degree 1.
            if i > (27 if name == "made" else 0):
                self.assertGreater(float(grad[:i].sum()), 0.0, f"{name}: pixel {i} sees nothing")

    def test_gated_pixelcnn(self):
        self.check("gated-pixelcnn", 256, channels=8, layers=7)

    def test_pixelcnn(self):
        self.check("pixelcnn", 2, channels=8, layers=3)

    def test_made(self):
        self.check("made", 2)

    def test_fvsbn(self):
        self.check("fvsbn", 2)

    def test_row_lstm(self):
        self.check("row-lstm", 2, hidden=[4], layers=2)

    def test_diagonal_bilstm(self):
        self.check("diagonal-bilstm", 256, hidden=[4], layers=2)

    def test_pixelcnn_plus_plus(self):
        self.check("pixelcnn++", 256, output="logistic-mixture:2", channels=4, layers=1)

    def test_row_lstm_field_is_triangular(self):
        """One Row LSTM layer at pixel (10, 14): the state of row 10 - j covers columns 14 - j ..
        14 + j (1x3 state-to-state per row), its 1x3 mask-B input-to-state reads s one column
        further left, and the 7x7 mask-A input reaches 3 columns either side in the 3 rows above
        and 3 to the left in its own row, so row 10 - d is seen at exactly 14 - d - 4 .. 14 + d + 2:
        a triangle. One Diagonal BiLSTM layer sees every pixel of rows 0 .. 8."""
        torch.manual_seed(1)
        seen = {}
        for name in ("row-lstm", "diagonal-bilstm"):
            model = make_model(name, 2, hidden=[4], layers=1)
            x = torch.zeros(1, 1, 28, 28, requires_grad=True)
            model.logits(x)[0, 0, 10, 14].backward()
            seen[name] = x.grad[0, 0] != 0
        for d in range(1, 11):
            expected = torch.zeros(28, dtype=torch.bool)
            expected[max(14 - d - 4, 0):14 + d + 3] = True
            self.assertTrue(torch.equal(seen["row-lstm"][10 - d], expected), f"row {10 - d}")
        self.assertTrue(bool(seen["diagonal-bilstm"][:9].all()))

    def test_gated_sees_whole_past(self):
        """No blind spot: the last pixel of a row depends on every earlier pixel it can reach."""
        model = make_model("gated-pixelcnn", 2, channels=8, layers=7)
        x = torch.zeros(1, 1, 28, 28, requires_grad=True)
        model.logits(x)[0, 0, 3, 5].backward()
        seen = x.grad[0, 0] != 0
        self.assertTrue(bool(seen[2, 6:9].all()), "pixels above and to the right are seen")


class NLL(unittest.TestCase):
    def test_nll_shapes_and_values(self):
        for name, levels in [("gated-pixelcnn", 256), ("pixelcnn", 2), ("made", 2), ("fvsbn", 2)]:
            with self.subTest(model=name):
                model = make_model(name, levels, channels=8, layers=2) if "pixelcnn" in name \
                    else make_model(name, levels)
                x = torch.randint(0, levels, (3, 1, 28, 28)).float()
                nll = model.nll(x)
                self.assertEqual(tuple(nll.shape), (3,))
                self.assertTrue(bool((nll > 0).all()))
        # An untrained FVSBN is uniform: 784 log 2 nats per image.
        nll = make_model("fvsbn", 2).nll(torch.zeros(2, 1, 28, 28))
        self.assertAlmostEqual(float(nll[0]), 784 * 0.6931471805599453, places=2)


class BenchScript(unittest.TestCase):
    def run_bench(self, *args: str) -> dict:
        out = subprocess.run([sys.executable, str(HERE / "pytorch_bench.py"), *args, "--json"],
                             check=True, capture_output=True, text=True, cwd=HERE).stdout
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 1, out)
        return json.loads(lines[0])

    def test_train_and_eval_json(self):
        for task in ("train", "eval"):
            r = self.run_bench(task, "--model", "made", "--batch", "8", "--threads", "1", "--steps", "2",
                               "--warmup", "1")
            self.assertEqual((r["framework"], r["task"], r["model"], r["parameters"]),
                             ("pytorch", task, "made", 785_284))
            self.assertLessEqual(r["images_per_s_min"], r["images_per_s_median"])
            self.assertLessEqual(r["images_per_s_median"], r["images_per_s_max"])
            self.assertIsNone(r["gflops"])
            self.assertGreater(r["peak_rss_mib"], 10)

    def test_sample_extrapolates(self):
        r = self.run_bench("sample", "--model", "gated-pixelcnn", "--levels", "256", "--count", "2",
                           "--threads", "1", "--warmup", "0", "--pixels", "3", "--channels", "8",
                           "--layers", "2")
        self.assertEqual(r["extrapolated_from_pixels"], 3)
        self.assertGreater(r["seconds"], 0)
        self.assertEqual(r["count"], 2)


class CompareParsing(unittest.TestCase):
    def test_last_json_line(self):
        self.assertEqual(compare.last_json_line("noise\n{\"a\": 1}\n"), {"a": 1})
        self.assertIsNone(compare.last_json_line("no json here\n"))

    def test_failed_command_becomes_error(self):
        result = compare.run_json([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"],
                                  timeout=30, label="autoreg bench")
        self.assertIn("autoreg bench failed", result.error)
        self.assertIn("boom", result.error)

    def test_missing_binary_becomes_error(self):
        result = compare.run_json(["/nonexistent/autoreg", "bench"], timeout=30, label="autoreg bench")
        self.assertIn("autoreg bench failed", result.error)

    def test_report_with_stand_in_binary(self):
        """A stand-in for `autoreg bench` that prints a fixed record: the table shows its
        rate, the ratio to PyTorch's and a parameter mismatch note."""
        import io
        import tempfile
        from contextlib import redirect_stderr, redirect_stdout
        record = {"framework": "autoreg", "parameters": 1, "images_per_s_median": 1000.0,
                  "images_per_s_min": 900.0, "images_per_s_max": 1100.0, "peak_rss_mib": 50.0,
                  "seconds": 2.0, "gflops": 1.0}
        with tempfile.TemporaryDirectory() as tmp:
            stub = Path(tmp) / "autoreg"
            stub.write_text(f"#!/bin/sh\necho 'some log line'\necho '{json.dumps(record)}'\n")
            stub.chmod(0o755)
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                status = compare.main(["--quick", "--models", "fvsbn", "--tasks", "eval,sample", "--threads", "1",
                                       "--autoreg-bin", str(stub), "--python", sys.executable, "--pixels", "2"])
        text = out.getvalue()
        self.assertEqual(status, 0, err.getvalue())
        self.assertIn("| fvsbn | 2 | eval | 615,440 | 1,000.0 (900.0–1,100.0) |", text)
        self.assertIn("parameters differ: ours 1, PyTorch 615,440", text)
        self.assertIn("| fvsbn | 2 | 4 | naive | 2.00 |", text)
        self.assertIn("(from 2 px)", text)


if __name__ == "__main__":
    unittest.main()
