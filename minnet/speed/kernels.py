"""Every custom CUDA kernel minnet has: declared once, compiled on first use, cached.

A module that needs a fused GPU operation declares it at import time::

    LEAKY_FORWARD = kernels.elementwise(
        "minnet_leaky_relu_fwd", "T x, T slope", "T y", "y = x > 0 ? x : slope * x", scalars="slope")

and calls it with CuPy arrays like a ``cupy.ElementwiseKernel`` (``LEAKY_FORWARD(x, slope)``).
The CuPy object is built on the first call only, so the CPU path never imports CuPy, and CuPy
then compiles it once per argument types and caches the binary on disk.

Every declaration lands in :data:`DECLARED`, so a test can compile all of minnet's CUDA code
with NVRTC on a machine without a GPU: :func:`cuda_source` writes the translation unit CuPy
itself generates for a kernel (CuPy's own code generator, ``_get_elementwise_kernel_code``,
fed the argument descriptions of a call with contiguous arrays), and :func:`compile_ptx`
compiles it with CuPy's compiler options and headers, raising :class:`KernelCompileError`
with the compiler's log on an error. minnet has no ``ReductionKernel`` or ``RawKernel``:
every kernel is an ``ElementwiseKernel``, so that is the one kind declared here.
"""

import dataclasses
import functools

import numpy as np

from minnet.errors import MinnetError

DECLARED = {}  # kernel name -> ElementwiseKernel declaration, in declaration order


class KernelCompileError(MinnetError):
    """NVRTC refused a kernel's source; the message carries the compiler's log."""


@dataclasses.dataclass(frozen=True)
class ElementwiseKernel:
    """A ``cupy.ElementwiseKernel`` declaration: CuPy's four arguments plus which inputs are scalars.

    ``scalars`` names the inputs passed as Python or NumPy scalars rather than arrays (CuPy
    types them from the call; the declaration says so, so that :func:`cuda_source` can write
    the same source without a call).
    """

    name: str
    in_params: str
    out_params: str
    operation: str
    preamble: str = ""
    scalars: tuple = ()

    def __call__(self, *args, **kwargs):
        return _compiled(self)(*args, **kwargs)


def elementwise(name, in_params, out_params, operation, *, preamble="", scalars=""):
    """Declare an element-wise kernel (see :class:`ElementwiseKernel`) and return it.

    ``scalars`` is a comma-separated list of input names. A name may be declared once.
    """
    if name in DECLARED:
        raise ValueError(f"a CUDA kernel named {name!r} is already declared")
    names = tuple(s.strip() for s in scalars.split(",") if s.strip())
    kernel = ElementwiseKernel(name, in_params, out_params, operation, preamble, names)
    DECLARED[name] = kernel
    return kernel


@functools.cache
def _compiled(kernel):
    import cupy

    return cupy.ElementwiseKernel(
        kernel.in_params, kernel.out_params, kernel.operation, kernel.name, preamble=kernel.preamble
    )


# -- the source CuPy compiles, and compiling it without a GPU ------------------------------
# The helpers below use CuPy internals (cupy._core._kernel, cupy._core.core) that CuPy 13-14
# expose to Python; they serve the gpu_compile tests only and are never on a training path.

_ARG_NDARRAY, _ARG_INDEXER, _ARG_SCALAR = 1, 2, 3  # CuPy's _ArgKind values


def cuda_source(kernel, dtype=np.float32):
    """The full CUDA translation unit CuPy compiles for ``kernel`` with ``T = dtype``.

    That is CuPy's header block followed by the code its ``_get_elementwise_kernel_code``
    generates for a call with C-contiguous 1-d arrays and the declared scalars: the typedefs,
    the kernel's preamble, and the loop around the operation with a reference to every non-raw
    argument's element. Contiguous non-raw arrays are 1-d after CuPy's dimension reduction; at
    a real call raw and broadcast arrays keep more dimensions, which changes only the
    ``CArray`` template arguments, not the code that uses them.
    """
    import cupy
    from cupy._core import _kernel, core

    in_params = _kernel._get_param_info(kernel.in_params, True)
    out_params = _kernel._get_param_info(kernel.out_params, False)
    indexer = _kernel._get_param_info("CIndexer _ind", False)
    unknown = set(kernel.scalars) - {p.name for p in in_params}
    if unknown:
        raise ValueError(f"{kernel.name}: scalars {sorted(unknown)} are not among its inputs")
    dtype = np.dtype(dtype)
    in_types, out_types, type_map = _kernel._decide_params_type(
        in_params,
        out_params,
        tuple(dtype if p.dtype is None else p.dtype for p in in_params),
        tuple(dtype if p.dtype is None else p.dtype for p in out_params),
    )
    arginfos = tuple(
        _kernel._ArgInfo(_ARG_SCALAR, None, t, 0, True, True)
        if p.name in kernel.scalars
        else _kernel._ArgInfo(_ARG_NDARRAY, cupy.ndarray, t, 1, True, True)
        for p, t in zip(in_params + out_params, in_types + out_types)
    ) + (_kernel._ArgInfo(_ARG_INDEXER, None, None, 1, True, True),)
    code = _kernel._get_elementwise_kernel_code(
        arginfos, type_map, in_params + out_params + indexer, kernel.operation, kernel.name, kernel.preamble
    )
    return "".join(f"#include <{header}>\n" for header in core._cupy_header_list) + code


def nvrtc_options(arch):
    """The NVRTC options CuPy compiles an ElementwiseKernel with, for ``compute_<arch>``."""
    from cupy._core import core

    return core.assemble_cupy_compiler_options(()) + (
        "-ftz=true",
        f"-arch=compute_{arch}",
        "--device-as-default-execution-space",
    )


def compile_ptx(source, name, arch=90):
    """Compile ``source`` to PTX with NVRTC (no GPU needed); return the PTX.

    Raises :class:`KernelCompileError` with NVRTC's log when the source does not compile.
    """
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram(source, f"{name}.cu", (), ())
    try:
        try:
            nvrtc.compileProgram(program, nvrtc_options(arch))
        except nvrtc.NVRTCError:
            raise KernelCompileError(f"{name} does not compile:\n{nvrtc.getProgramLog(program)}") from None
        return nvrtc.getPTX(program)
    finally:
        nvrtc.destroyProgram(program)
