"""The table of gradient checks names every layer and loss, and each passes in float64."""

import inspect

import numpy as np
import pytest

from minnet import layers, losses
from minnet.gradcheck import measure
from minnet.gradcheck_cases import CASES, TOLERANCES, Settings

NOT_DIFFERENTIATED = {"log_softmax", "one_hot"}  # helpers of the losses, not losses


def test_every_layer_has_a_check():
    exported = {name: getattr(layers, name) for name in layers.__all__}
    named = {
        name for name, value in exported.items()
        if inspect.isclass(value) and issubclass(value, layers.Layer) and value is not layers.Layer
    }
    assert named <= CASES.keys(), f"add to minnet/gradcheck_cases.py: {sorted(named - CASES.keys())}"


def test_every_loss_has_a_check():
    functions = {
        name
        for name, value in vars(losses).items()
        if inspect.isfunction(value) and value.__module__ == losses.__name__ and not name.startswith("_")
    }
    missing = functions - NOT_DIFFERENTIATED - CASES.keys()
    assert not missing, f"add to minnet/gradcheck_cases.py: {sorted(missing)}"


@pytest.mark.parametrize("name", list(CASES))
def test_case_passes(device, name):
    _title, forward, backward, wrt = CASES[name](Settings(), np.random.default_rng(0))
    for comparison in measure(forward, backward, wrt, **TOLERANCES["float64"]):
        assert comparison.ok, comparison.problem
        assert comparison.max_abs < 1e-6 and comparison.size > 0
