"""Forward + backward time of each layer at the sizes the models use, against PyTorch.

    python benchmarks/layers.py [--device cpu|gpu] [--repeats N] [--threads N] [--cpu-time]

Everything is float32. One step is a forward pass in training mode followed by the backward
pass of a fixed random upstream gradient, for the input and every parameter, in minnet and in
the equivalent torch module. The table gives the median time of a step, minnet's throughput
(matrix-product FLOPs of forward and backward: three products of equal size for these layers)
and the ratio minnet / torch. Without torch only minnet is timed; on ``--device gpu`` torch is
timed on CUDA when it can use it. Threads and clocks: :func:`harness.add_timing_arguments`.
"""

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import minnet  # noqa: F401  # isort: skip  # before NumPy: sets OpenBLAS's thread timeout
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (  # noqa: E402
    add_timing_arguments,
    gflops,
    set_up_cpu,
    time_ms,
    torch_device,
    torch_synchronize,
)

from minnet import backend  # noqa: E402
from minnet.layers.base import evaluating  # noqa: E402
from minnet.layers.conv import Conv2d, Deconv2d  # noqa: E402
from minnet.layers.dense import Dense  # noqa: E402
from minnet.layers.norm import BatchNorm  # noqa: E402
from minnet.layers.pooling import MaxPool2d  # noqa: E402
from minnet.layers.recurrent import LSTMCell  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


@dataclass
class Case:
    """One layer to time: how to build a minnet step and a torch step, and its FLOPs."""

    name: str
    shape: str
    minnet_step: Callable[[np.random.Generator], Callable[[], None]]
    torch_step: Callable[[np.random.Generator, str], Callable[[], None]]
    flop: float | None  # None where matrix-product FLOPs mean nothing (pooling, normalisation)


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# -- minnet steps: build the layer and data, return a closure doing forward + backward ------


def minnet_layer_step(layer, x_shape):
    def build(rng):
        x = backend.to_device(normal(rng, *x_shape))
        with evaluating(layer):
            gy = backend.to_device(normal(rng, *layer.forward(x).shape))

        def step():
            layer.forward(x)
            layer.backward(gy)

        return step

    return build


def minnet_lstm_step(batch, n_in, n_hidden):
    def build(rng):
        cell = LSTMCell(n_in, n_hidden, rng=rng)
        x, h0, c0, gh, gc = (
            backend.to_device(normal(rng, batch, n)) for n in (n_in, n_hidden, n_hidden, n_hidden, n_hidden)
        )

        def step():
            cell.forward(x, (h0, c0))
            cell.backward(gh, gc)

        return step

    return build


# -- torch steps ---------------------------------------------------------------------------


def torch_module_step(make_module, x_shape):
    def build(rng, device):
        module = make_module().to(device)
        x = torch.tensor(normal(rng, *x_shape), device=device, requires_grad=True)
        with torch.no_grad():
            gy = torch.tensor(normal(rng, *module(x).shape), device=device)

        def step():
            module(x).backward(gy)

        return step

    return build


def torch_lstm_step(batch, n_in, n_hidden):
    def build(rng, device):
        cell = torch.nn.LSTMCell(n_in, n_hidden).to(device)
        x = torch.tensor(normal(rng, batch, n_in), device=device, requires_grad=True)
        h0, c0, gh, gc = (torch.tensor(normal(rng, batch, n_hidden), device=device) for _ in range(4))
        h0.requires_grad_()
        c0.requires_grad_()

        def step():
            h, c = cell(x, (h0, c0))
            torch.autograd.backward([h, c], [gh, gc])

        return step

    return build


def cases():
    conv_flop = 3 * 2 * 128 * 128 * 64 * 4 * 4 * 7 * 7  # B * C_out * C_in * k^2 * Ho * Wo
    deconv_flop = 3 * 2 * 128 * 128 * 64 * 4 * 4 * 7 * 7  # B * C_in * C_out * k^2 * H * W
    return [
        Case(
            "Conv2d 64->128 k4 s2 p1",
            "128x64x14x14",
            minnet_layer_step(Conv2d(64, 128, 4, 2, 1, rng=0), (128, 64, 14, 14)),
            torch_module_step(lambda: torch.nn.Conv2d(64, 128, 4, 2, 1), (128, 64, 14, 14)),
            conv_flop,
        ),
        Case(
            "Deconv2d 128->64 k4 s2 p1",
            "128x128x7x7",
            minnet_layer_step(Deconv2d(128, 64, 4, 2, 1, rng=0), (128, 128, 7, 7)),
            torch_module_step(lambda: torch.nn.ConvTranspose2d(128, 64, 4, 2, 1), (128, 128, 7, 7)),
            deconv_flop,
        ),
        Case(
            "Dense 784->300",
            "256x784",
            minnet_layer_step(Dense(784, 300, rng=0), (256, 784)),
            torch_module_step(lambda: torch.nn.Linear(784, 300), (256, 784)),
            3 * 2 * 256 * 784 * 300,
        ),
        Case(
            "LSTMCell 1968->400",
            "100x1968",
            minnet_lstm_step(100, 1968, 400),
            torch_lstm_step(100, 1968, 400),
            3 * 2 * 100 * (1968 + 400) * 4 * 400,
        ),
        Case(
            "BatchNorm 128 channels",
            "128x128x7x7",
            minnet_layer_step(BatchNorm(128), (128, 128, 7, 7)),
            torch_module_step(lambda: torch.nn.BatchNorm2d(128), (128, 128, 7, 7)),
            None,
        ),
        Case(
            "MaxPool2d 2x2 s1",
            "128x5x24x24",
            minnet_layer_step(MaxPool2d(2, stride=1), (128, 5, 24, 24)),
            torch_module_step(lambda: torch.nn.MaxPool2d(2, stride=1), (128, 5, 24, 24)),
            None,
        ),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timing_arguments(parser, repeats=20, unit="layer")
    args = parser.parse_args(argv)

    backend.use(args.device)
    against = torch_device(torch, args.device)
    torch_sync = torch_synchronize(torch, against)
    print(f"minnet on {args.device}, torch on {against or '-'}")
    clock = set_up_cpu(args, torch, "forward+backward steps")
    if not against:
        print("torch: not compared (" + ("not installed" if torch is None else "no CUDA") + ")")
    print()

    header = f"{'layer':<26} {'input':<14} {'minnet ms':>10} {'GFLOP/s':>8}"
    if against:
        header += f" {'torch ms':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for case in cases():
        rng = np.random.default_rng(0)
        ms = time_ms(case.minnet_step(rng), args.repeats, synchronize=backend.synchronize, clock=clock)
        rate = f"{gflops(case.flop, ms):8.1f}" if case.flop else f"{'-':>8}"
        row = f"{case.name:<26} {case.shape:<14} {ms:10.2f} {rate}"
        if against:
            torch_ms = time_ms(case.torch_step(rng, against), args.repeats, synchronize=torch_sync, clock=clock)
            row += f" {torch_ms:9.2f} {ms / torch_ms:6.2f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
