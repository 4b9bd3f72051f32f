"""torch.compile'd models compute what the eager ones do (the "pytorch compiled" rows of
compare.py time the compiled ones, so they must be the same models).

Each test compiles a small model with the default inductor backend (it builds C++ with the
system compiler: a minute or two on a loaded 2-vCPU machine). Where compiling cannot run
here the tests are skipped and say why; AUTOREG_SKIP_COMPILE_TESTS=1 skips them on purpose.

    benchmarks/.venv/bin/python -m unittest test_pytorch_compile      # from benchmarks/
"""

from __future__ import annotations

import os
import unittest

import torch

from pytorch_bench import first_line, random_pixels
from pytorch_models import make_model


def compile_or_skip(test: unittest.TestCase, call):
    """``call()``, or skip ``test`` with the error's first line if torch.compile fails."""
    try:
        return call()
    except Exception as e:  # dynamo / inductor / C++ compiler errors
        test.skipTest(f"torch.compile cannot run here: {first_line(e)}")


@unittest.skipIf(os.environ.get("AUTOREG_SKIP_COMPILE_TESTS"), "AUTOREG_SKIP_COMPILE_TESTS is set")
class CompiledMatchesEager(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        try:  # one compile worker: the machine is small and shared
            import torch._inductor.config as inductor_config
            inductor_config.compile_threads = 1
        except Exception:
            pass

    def setUp(self):
        torch._dynamo.reset()

    def test_training_loss_and_gradients(self):
        """Gated PixelCNN, 256 levels: the compiled loss and its gradients (forward and
        AOTAutograd's backward) equal the eager ones on the same batch."""
        torch.manual_seed(0)
        model = make_model("gated-pixelcnn", 256, channels=4, layers=2).train()
        x = random_pixels(3, 256, torch.Generator().manual_seed(1))
        eager = model.loss(x)
        eager.backward()
        eager_grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad(set_to_none=True)
        compiled = compile_or_skip(self, lambda: torch.compile(model.loss)(x))
        compiled.backward()
        torch.testing.assert_close(compiled.detach(), eager.detach(), rtol=1e-5, atol=1e-4)
        for (name, p), g in zip(model.named_parameters(), eager_grads):
            torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-5, msg=lambda m: f"{name}: {m}")

    def test_evaluation_nll(self):
        """PixelCNN, binary pixels: the compiled per-image NLL under no_grad equals eager's."""
        torch.manual_seed(0)
        model = make_model("pixelcnn", 2, channels=8, layers=2).eval()
        x = random_pixels(3, 2, torch.Generator().manual_seed(2))
        with torch.no_grad():
            eager = model.nll(x)
            compiled = compile_or_skip(self, lambda: torch.compile(model.nll)(x))
        self.assertEqual(tuple(compiled.shape), (3,))
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-4)


if __name__ == "__main__":
    unittest.main()
