import numpy as np
import pytest

from minnet import backend
from minnet.errors import MinnetError
from minnet.layers.dense import Dense


def test_numpy_is_the_default():
    assert backend.device() == "cpu"
    assert backend.xp() is np
    assert backend.xp_of(np.zeros(2)) is np


def test_unknown_device():
    with pytest.raises(MinnetError, match="unknown device 'tpu'"):
        backend.use("tpu")


@pytest.mark.skipif(backend.gpu_available(), reason="a GPU is present")
def test_asking_for_a_missing_gpu_is_one_clear_error():
    with pytest.raises(MinnetError, match="CuPy|CUDA") as info:
        backend.use("gpu")
    assert "\n" not in str(info.value)
    assert backend.device() == "cpu"


def test_moving_a_model_keeps_its_values(device):
    layer = Dense(3, 2, rng=0)
    before = layer.state_dict()
    layer.to(device)
    assert backend.xp_of(layer.params["W"]) is backend.xp()
    layer.to("cpu")
    assert backend.xp_of(layer.params["W"]) is np
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_to_numpy_and_synchronize(device):
    x = backend.to_device(np.arange(4.0))
    np.testing.assert_array_equal(backend.to_numpy(x), np.arange(4.0))
    backend.synchronize()


def test_moving_to_an_unknown_device_is_refused():
    with pytest.raises(MinnetError, match="unknown device 'CPU'"):
        backend.to_device(np.zeros(2), "CPU")
