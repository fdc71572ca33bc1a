"""Every CUDA kernel minnet has compiles: NVRTC on the CPU, no GPU needed (marker ``gpu_compile``).

The sources are the translation units CuPy itself would compile (:func:`minnet.speed.kernels.cuda_source`),
so a typo in a kernel fails here instead of at its first call on a GPU. Skipped where CuPy or
NVRTC is not installed (CI's plain ``pip install -e '.[test]'``; ``.[gpu-compile]`` adds them).
"""

import dataclasses
import importlib
import pathlib
import pkgutil
import re

import numpy as np
import pytest

import minnet
from minnet.speed import kernels


def _nvrtc_available():
    """CuPy with the internals minnet.speed.kernels.cuda_source uses (CuPy 14), and a loadable NVRTC."""
    try:
        from cupy._core import _kernel, core
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception:  # ImportError, or NVRTC's shared library missing
        return False
    return hasattr(_kernel, "_get_elementwise_kernel_code") and hasattr(core, "assemble_cupy_compiler_options")


def _import_every_minnet_module():
    """Import all of minnet (models and CLI included), so that every kernel is declared."""
    for package_name in ("minnet", "minnet.models", "minnet.cli"):
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, package_name + "."):
            if not module.name.endswith("__main__"):  # that one runs the CLI
                importlib.import_module(module.name)


_import_every_minnet_module()

pytestmark = [
    pytest.mark.gpu_compile,
    pytest.mark.skipif(not _nvrtc_available(), reason="CuPy (>= 14) or NVRTC is not installed"),
]

ARCH = 90  # H100/H200; PTX for it covers every feature the kernels use


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(kernels.DECLARED))
def test_every_kernel_compiles(name, dtype):
    kernel = kernels.DECLARED[name]
    ptx = kernels.compile_ptx(kernels.cuda_source(kernel, dtype), name, ARCH)
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    assert f".entry {name}(" in text


def test_a_typo_fails_with_the_compiler_log():
    leaky = kernels.DECLARED["minnet_leaky_relu_fwd"]
    broken = dataclasses.replace(leaky, operation=leaky.operation.replace("slope *", "slop *"))
    expected = r'minnet_leaky_relu_fwd does not compile:\n.*identifier "slop" is undefined'
    with pytest.raises(kernels.KernelCompileError, match=expected):
        kernels.compile_ptx(kernels.cuda_source(broken), broken.name, ARCH)


def test_a_wrong_type_fails():
    adam = kernels.DECLARED["minnet_adam"]
    broken = dataclasses.replace(adam, operation=adam.operation.replace("sqrt(v)", "sqrt(&v)"))
    with pytest.raises(kernels.KernelCompileError, match="minnet_adam does not compile"):
        kernels.compile_ptx(kernels.cuda_source(broken), broken.name, ARCH)


def test_the_source_is_what_cupy_generates():
    """Scalars are kernel parameters, arrays CArrays read through the loop's index, T a typedef."""
    source = kernels.cuda_source(kernels.DECLARED["minnet_leaky_relu_fwd"], np.float64)
    assert source.startswith("#include <cupy/complex.cuh>\n")
    assert "typedef double T;" in source
    assert re.search(r"minnet_leaky_relu_fwd\(const CArray<double, 1, 1, 1[^>]*> _raw_x, const double slope,", source)
    assert "const T &x = _raw_x[_ind.get()];" in source


def test_no_kernel_is_built_outside_the_registry():
    """Every CUDA kernel goes through minnet.speed.kernels, so the tests above see all of them."""
    root = pathlib.Path(minnet.__file__).parent.parent
    pattern = re.compile(r"\b(ElementwiseKernel|ReductionKernel|RawKernel|RawModule)\(")
    outside = [
        str(path.relative_to(root))
        for folder in ("minnet", "models", "cli")
        for path in (root / folder).rglob("*.py")
        if path.name != "kernels.py" and pattern.search(path.read_text())
    ]
    assert outside == []
