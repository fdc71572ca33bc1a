"""The array backend: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every layer asks its input which module to compute with (``xp = xp_of(x)``), so the same
code runs on both. What is chosen here is only where *new* arrays go: parameters made by
layer constructors, batches handed out by the data loaders, noise drawn by trainers.

Choose the GPU with ``MINNET_DEVICE=gpu`` in the environment, ``minnet.backend.use("gpu")``
in Python, or ``--device gpu`` on the command line. Asking for the GPU where CuPy or a CUDA
device is missing raises one :class:`~minnet.errors.MinnetError` saying which.
"""

import os

import numpy as np

from minnet.errors import MinnetError

DEVICES = ("cpu", "gpu")

_device = "cpu"


def _import_cupy():
    """Return the ``cupy`` module if it is installed and sees a CUDA device, else raise."""
    try:
        import cupy
    except ImportError:
        raise MinnetError(
            "the GPU needs CuPy: pip install 'minnet[gpu]' (or the cupy-cudaXXx wheel "
            "matching your CUDA version)"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CuPy raises its own CUDARuntimeError subclasses here
        raise MinnetError(f"CuPy is installed but no CUDA device can be used ({err})") from None
    if count == 0:
        raise MinnetError("CuPy is installed but no CUDA device is present")
    return cupy


def gpu_available():
    """True when CuPy is installed and a CUDA device is present."""
    try:
        _import_cupy()
    except MinnetError:
        return False
    return True


def use(device):
    """Make ``device`` ("cpu" or "gpu") the place new arrays are created."""
    global _device
    _check_device(device)
    if device == "gpu":
        _import_cupy()
    _device = device


def _check_device(device):
    if device not in DEVICES:
        raise MinnetError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")


def device():
    """The current device name, "cpu" or "gpu"."""
    return _device


def xp():
    """The array module of the current device (``numpy`` or ``cupy``)."""
    return _import_cupy() if _device == "gpu" else np


def xp_of(array):
    """The array module that ``array`` belongs to: ``cupy`` for CuPy arrays, else ``numpy``."""
    module = type(array).__module__
    if module.startswith("cupy"):
        import cupy

        return cupy
    return np


def is_gpu_array(array):
    return xp_of(array) is not np


def to_device(array, device=None):
    """Copy ``array`` to ``device`` (default: the current one); a no-op when already there."""
    device = device or _device
    _check_device(device)
    if device == "cpu":
        return to_numpy(array)
    cupy = _import_cupy()
    return cupy.asarray(array)


def to_numpy(array):
    """A NumPy array with the contents of ``array`` (copied from the GPU when needed)."""
    if is_gpu_array(array):
        return array.get()
    return np.asarray(array)


def synchronize():
    """Wait for queued GPU work to finish (for timers); does nothing on the CPU."""
    if _device == "gpu":
        _import_cupy().cuda.get_current_stream().synchronize()


_env_device = os.environ.get("MINNET_DEVICE")
if _env_device:
    use(_env_device.lower())
