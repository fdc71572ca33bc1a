"""P = 2 processes under mpiexec train the model one process trains, at the same global batch.

Every model trains 2 epochs of 2 steps (64 images, global batch 32) once alone and once on two
ranks of 16 images each; the checkpoints (weights, optimizer state, per-image state, generator
state) and the logged losses must agree. Resumed runs may change the number of processes.
"""

import json
import os

import numpy as np
import pytest

from tests.distributed.launch import assert_same_checkpoint, needs_mpi, train

pytestmark = needs_mpi

MODELS = {
    "gan": ["gan"],
    "gan --stable": ["gan", "--stable"],  # batch norm in G, dropout in D
    "cdcgan": ["cdcgan", "--channels", 4, "--g-steps", 2],  # batch norm in G and D, a label draw
    "gan-linear": ["gan-linear", "--g-hidden", "32,64", "--d-hidden", "64,32"],
    "gan-conv": ["gan-conv", "--layers", 1, "--channels", 2],
    "gan-conv-pool": ["gan-conv-pool", "--layers", 1, "--channels", 2],
    "gan-lstm": ["gan-lstm", "--layers", 1, "--units", 16],  # dropout on (T, B, n) sequences
    # per-image codes; with the default --code-lr 2, a code moves by 2 x the gradient of single
    # (code, pixel) pairs through ReLUs, and a ReLU input within rounding of 0 (the order of a
    # batch sum decides its side) moves a code by 1e-3: a step of 0.02 keeps that below tolerance
    "csgm": ["csgm", "--visit-steps", 2, "--eval-samples", 0, "--refine-steps", 0, "--code-lr", 0.02],
    "abp": ["abp", "--langevin-steps", 2, "--eval-images", 10, "--eval-steps", 1, "--hidden", 32,
            "--channels", "4,4"],  # per-image Z, Langevin noise
    "avme": ["avme", "--steps", 3, "--z-dim", 4, "--hidden", 16],
    "avme-cond": ["avme-cond", "--steps", 3, "--z-dim", 4, "--hidden", 16],
    "draw": ["draw", "--steps", 3, "--enc-size", 16, "--dec-size", 16, "--z-size", 4],
}  # fmt: skip
RUN = ["--limit", 64, "--batch-size", 32, "--log-every", 1]

# A bias just before a batch norm has a gradient of exactly 0 (the norm subtracts the mean), so
# what is computed is float32 rounding noise, which differs with the order of the sums, and Adam
# turns noise into steps of up to about lr (2e-4). These (and the running means that include
# them, and cdcgan's moving average of G's weights) may differ by a few such steps; every other
# number agrees to float32 tolerance.
NOISE_DRIVEN = {
    "gan --stable": ["G/0.b", "G/3.b", "G/1.running_mean", "G/4.running_mean"],
    "cdcgan": [
        *(f"{net}/{name}" for net in ("G", "G_average") for name in ("0.b", "4.b", "1.running_mean", "5.running_mean")),
        "D/2.b", "D/3.running_mean",
    ],
}
NOISE_ATOL = 5e-3


def run(processes, model, out, *extra):
    train(processes, *MODELS[model], *RUN, "--out", out, *extra)
    return out


def assert_same_run(run_a, run_b, model):
    assert_same_checkpoint(run_a, run_b, loose=NOISE_DRIVEN.get(model, ()), loose_atol=NOISE_ATOL)
    for log in ("metrics.jsonl", "epochs.jsonl"):
        a, b = read_log(run_a, log), read_log(run_b, log)
        assert [r.keys() for r in a] == [r.keys() for r in b]
        for record_a, record_b in zip(a, b, strict=True):
            for key in record_a.keys() - {"seconds"}:
                np.testing.assert_allclose(record_a[key], record_b[key], rtol=1e-4, atol=1e-6, err_msg=f"{log} {key}")


def read_log(run_dir, name):
    with open(os.path.join(run_dir, name)) as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """The one-process run of each model, made once for the tests that compare with it."""
    runs = {}

    def get(model):
        if model not in runs:
            runs[model] = run(0, model, tmp_path_factory.mktemp("alone") / "run", "--epochs", 2)
        return runs[model]

    return get


@pytest.mark.parametrize("model", MODELS)
def test_two_processes_train_the_model_of_one(model, alone, tmp_path):
    two = run(2, model, tmp_path / "two", "--epochs", 2)
    assert_same_run(alone(model), two, model)


@pytest.mark.parametrize("model", ["gan --stable", "abp"])
@pytest.mark.parametrize(("first", "then"), [(2, 0), (0, 2)])
def test_a_run_resumed_with_another_number_of_processes_continues_as_if_never_stopped(
    model, first, then, alone, tmp_path
):
    out = run(first, model, tmp_path / "run", "--epochs", 1)
    train(then, *MODELS[model][:1], "--out", out, "--resume", "--epochs", 2)
    assert_same_run(alone(model), out, model)
