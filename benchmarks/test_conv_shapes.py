"""Tests of conv_shapes.py and compare_conv.py on tiny stand-in shapes (a few seconds).

    benchmarks/.venv/bin/python -m unittest discover -s benchmarks
"""

from __future__ import annotations

import argparse
import unittest

import torch

import compare_conv
import conv_shapes


def shape_row(**changes) -> dict:
    """A small shape row as `autoreg-lab conv --list --json` writes one."""
    row = {"id": "gated.block.vertical.d2", "model": "gated-pixelcnn", "layer": "block1.vertical", "uses": 2,
           "batch": 2, "in_channels": 3, "out_channels": 4, "height": 6, "width": 5, "kernel": [3, 3],
           "dilation": [2, 2], "padding": [2, 2, 2, 2], "taps_kept": 6, "taps_total": 9, "input_grad": True,
           "mask": [[1, 1, 1], [1, 1, 1], [0, 0, 0]],
           "flops_fwd_useful": 1e6, "flops_fwd_dense": 1.5e6, "flops_fwdbwd_useful": 3e6, "flops_fwdbwd_dense": 4.5e6}
    row.update(changes)
    return row


class ConvShapesTests(unittest.TestCase):
    def test_mask_from_pattern_and_flat(self):
        m = conv_shapes.mask_tensor(shape_row())
        self.assertEqual(tuple(m.shape), (4, 3, 3, 3))
        self.assertTrue(torch.equal(m[2, 1], torch.tensor([[1.0, 1, 1], [1, 1, 1], [0, 0, 0]])))
        flat = shape_row()
        del flat["mask"]
        flat["mask_flat"] = m.flatten().int().tolist()
        self.assertTrue(torch.equal(conv_shapes.mask_tensor(flat), m))

    def test_steps_give_masked_gradients(self):
        conv = conv_shapes.Convolution(shape_row())
        self.assertEqual(tuple(conv.output().shape), (2, 4, 6, 5))
        conv.reset()
        conv.forward_backward()
        self.assertEqual(tuple(conv.x.grad.shape), (2, 3, 6, 5))
        self.assertTrue(torch.all(conv.weight.grad[:, :, 2, :] == 0))   # masked row: no gradient
        self.assertTrue(torch.any(conv.weight.grad[:, :, 0, :] != 0))

    def test_first_layer_has_no_input_gradient(self):
        conv = conv_shapes.Convolution(shape_row(in_channels=1, input_grad=False))
        conv.reset()
        conv.forward_backward()
        self.assertIsNone(conv.x.grad)
        self.assertIsNotNone(conv.weight.grad)

    def test_asymmetric_padding(self):
        conv = conv_shapes.Convolution(shape_row(padding=[2, 0, 2, 2]))
        self.assertEqual(tuple(conv.output().shape), (2, 4, 4, 5))

    def test_parse_verbose(self):
        text = "\n".join([
            "onednn_verbose,v1,info,oneDNN v3.12.0 (commit abc)",
            "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:blk,undef,src:f32 dst:f32,,,2x3x6x5,0.5",
            "onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx2,forward_training,src:f32,,alg:x,mb2_ic3oc4,1.25",
            "onednn_verbose,v1,primitive,exec,cpu,convolution,gemm:jit,backward_weights,src:f32,,alg:x,mb2_ic3oc4,2",
            "unrelated line",
        ])
        conv_shapes.ONEDNN_VERSION.clear()
        conv, reorder, impls = conv_shapes.parse_verbose(text)
        self.assertAlmostEqual(conv, 3.25)
        self.assertAlmostEqual(reorder, 0.5)
        self.assertEqual(impls, {"forward_training jit:avx2", "backward_weights gemm:jit"})
        self.assertEqual(conv_shapes.ONEDNN_VERSION[-1], "3.12.0")

    def test_measure_record(self):
        args = argparse.Namespace(warmup=0, repeats=1, no_reference=False, no_verbose=False)
        record = conv_shapes.measure(shape_row(), args)
        self.assertGreater(record["onednn"]["fwd_ms"], 0)
        self.assertLess(record["native"]["max_abs_diff"], 1e-4)
        self.assertIn(record["verbose"]["backend"], ("oneDNN", "not oneDNN"))


class CompareConvTests(unittest.TestCase):
    def test_tables(self):
        ours = {"rows": [
            dict(shape_row(), fwd_ms=2.0, fwdbwd_ms=6.0),
            dict(shape_row(id="gated.output.head.L2", layer="output.head", uses=1, kernel=[1, 1], dilation=[1, 1],
                           padding=[0, 0, 0, 0], taps_kept=1, taps_total=1, mask=[[1]]), fwd_ms=1.0, fwdbwd_ms=3.0),
        ]}
        timing = {"fwd_ms": 4.0, "fwdbwd_ms": 3.0}
        torch_side = {"rows": [{"id": "gated.block.vertical.d2", "onednn": timing},
                               {"id": "gated.output.head.L2", "onednn": timing}]}
        lines = compare_conv.tables(ours, torch_side)
        row = next(l for l in lines if l.startswith("| gated.block.vertical.d2 |"))
        self.assertIn("| 3x3 3→4 d2 | 2 | 6/9 |", row)
        self.assertIn("| 2.00 | 0.50 | fwd: ours, fwd+bwd: oneDNN |", row)
        total = next(l for l in lines if l.startswith("| gated-pixelcnn |"))
        # The Bernoulli head is left out of the gated model's total: 2 uses x (2, 4, 2; 6, 3, 3).
        self.assertEqual(total, "| gated-pixelcnn | 4.00 | 8.00 | 4.00 | 12.0 | 6.00 | 6.00 |")


if __name__ == "__main__":
    unittest.main()
