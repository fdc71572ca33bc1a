"""The gradient check of every layer and loss, by name: the table ``minnet gradcheck`` reads.

``CASES`` maps a name to a function ``build(settings, rng) -> (title, forward, backward, wrt)``
that makes the layer (or loss) and a random float input and returns the closures
:func:`minnet.gradcheck.measure` takes. :class:`Settings` carries the command's options: the
input ``shape``, a window's ``kernel``, ``stride`` and ``padding`` (each None for the case's
own default) and the ``dtype``. A builder that reads a window option says so with its
``takes`` attribute (:func:`takes`); :func:`build_case` finds a case by name, whatever its
case (``conv2d``), and refuses an option the case would ignore (``Dense --kernel 3``).

A new layer joins with one line. For a layer taking one array, :func:`layer_case` needs only
how to make it from the input shape and the settings, and a default input shape::

    "MyLayer": layer_case(lambda shape, s, rng: MyLayer(shape[1], 4, rng=rng), (3, 5)),

Layers with several inputs or a state (``Concat``, ``LabelledConv2d``, ``LSTMCell``, the reads
of :mod:`minnet.layers.canvas` and :mod:`minnet.layers.attention`) and the losses have builders
of their own below. ``tests/test_gradcheck_cases.py`` checks that every
layer in :mod:`minnet.layers` and every loss in :mod:`minnet.losses` has an entry.
"""

import dataclasses
import difflib

from minnet import backend, losses
from minnet.errors import MinnetError
from minnet.gradcheck import layer_closures
from minnet.layers import (
    LSTM,
    AttentionRead,
    AttentionWrite,
    BatchNorm,
    CanvasRead,
    Concat,
    Conv2d,
    Deconv2d,
    Dense,
    Dropout,
    Filterbank,
    Flatten,
    LabelledConv2d,
    LeakyReLU,
    LSTMCell,
    MaxPool2d,
    PixelRead,
    PixelWrite,
    Read,
    ReLU,
    Reshape,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Write,
)
from minnet.layers.base import evaluating

DTYPES = ("float64", "float32")
WINDOW = ("kernel", "stride", "padding")  # the options only some cases take

# Central differences in float32 carry rounding errors near 1e-7 / eps: a larger step and
# looser tolerances, so only gross mistakes show. float64 is the real check.
TOLERANCES = {
    "float64": {"eps": 1e-6, "rtol": 1e-5, "atol": 1e-7},
    "float32": {"eps": 1e-2, "rtol": 2e-2, "atol": 2e-3},
}


@dataclasses.dataclass
class Settings:
    """The options of ``minnet gradcheck``; None means the case's default."""

    shape: tuple = None
    kernel: int = None
    stride: int = None
    padding: int = None
    dtype: str = "float64"

    def window(self, kernel, stride, padding):
        """``(kernel, stride, padding)``: the given options, else these defaults."""
        given = (self.kernel, self.stride, self.padding)
        return tuple(default if value is None else value for value, default in zip(given, (kernel, stride, padding)))


def input_shape(settings, default):
    """The ``--shape`` given, else ``default``; a MinnetError when their dimensions differ."""
    if settings.shape is None:
        return tuple(default)
    if len(settings.shape) != len(default):
        example = ",".join(map(str, default))
        raise MinnetError(f"--shape needs {len(default)} sizes here, like {example}; got {len(settings.shape)}")
    return tuple(settings.shape)


def _normal(rng, shape, dtype):
    return backend.to_device(rng.standard_normal(shape).astype(dtype))


def _title(what, shapes, dtype):
    given = ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items())
    return f"{' '.join(repr(what).split())} at {given}, {dtype}"


def takes(*options):
    """Mark a builder as reading these of :data:`WINDOW` (``@takes("kernel")``); a builder
    without the mark takes none of them."""

    def mark(build):
        build.takes = options
        return build

    return mark


def layer_case(make, default_shape, *, options=()):
    """A case for a layer taking one array: ``make(shape, settings, rng) -> Layer``.

    Its input is standard normal, of the ``--shape`` given or ``default_shape``; ``options``
    are the names of :data:`WINDOW` that ``make`` reads.
    """

    @takes(*options)
    def build(settings, rng):
        shape = input_shape(settings, default_shape)
        layer = make(shape, settings, rng).astype(settings.dtype)
        x = _normal(rng, shape, settings.dtype)
        return (_title(layer, {"input": shape}, settings.dtype), *layer_closures(layer, x))

    return build


def _conv2d(shape, s, rng):
    k, stride, pad = s.window(3, 1, 1)
    return Conv2d(shape[1], 3, k, stride, pad, rng=rng)


def _deconv2d(shape, s, rng):
    k, stride, pad = s.window(3, 2, 1)
    return Deconv2d(shape[1], 3, k, stride, pad, rng=rng)


def _max_pool(shape, s, rng):
    k, stride, pad = s.window(2, None, 0)
    return MaxPool2d(k, stride, pad)


def _batch_norm(shape, s, rng):
    layer = BatchNorm(shape[1])
    layer.params["gamma"][...] = backend.to_device(rng.uniform(0.5, 1.5, shape[1]))  # not all ones
    return layer


def _sequential(shape, s, rng):
    return Sequential(Dense(shape[1], 4, rng=rng), Tanh(), Dense(4, 3, rng=rng))


class _FixedMask(Dropout):
    """Dropout with one mask drawn at the first forward and kept, so the function is fixed."""

    def forward(self, x, mask=None):
        if not hasattr(self, "mask"):
            self.mask = self.draw_mask(x)
        return super().forward(x, mask=self.mask)

    def __repr__(self):
        return f"Dropout({self.p}) with a fixed mask"


def _lstm_cell(settings, rng):
    """One step of an LSTMCell: the input, both halves of the state and the parameters."""
    batch, n_in = input_shape(settings, (3, 4))
    n_hidden = 5
    cell = LSTMCell(n_in, n_hidden, rng=rng).astype(settings.dtype)
    cell.params["b"][...] = _normal(rng, 4 * n_hidden, settings.dtype)  # every gate away from its start
    x, h_prev, c_prev = (_normal(rng, shape, settings.dtype) for shape in [(batch, n_in)] + [(batch, n_hidden)] * 2)

    def forward():
        h, c = cell.forward(x, (h_prev, c_prev))
        cell.clear()
        return h, c

    def backward(gys):
        cell.zero_grad()
        cell.forward(x, (h_prev, c_prev))
        gx, (gh_prev, gc_prev) = cell.backward(*gys)
        return {"x": gx, "h_prev": gh_prev, "c_prev": gc_prev, **cell.grads}

    wrt = {"x": x, "h_prev": h_prev, "c_prev": c_prev, **cell.params}
    title = _title(cell, {"x": x.shape, "state": h_prev.shape}, settings.dtype)
    return title, forward, backward, wrt


def _several_inputs(layer, inputs, settings):
    """Closures for a layer whose forward takes the list of ``inputs`` (a dict, by name)."""
    layer = layer.astype(settings.dtype)
    arrays = list(inputs.values())

    def forward():
        y = layer.forward(arrays)
        layer.clear()
        return y

    def backward(gys):
        layer.zero_grad()
        layer.forward(arrays)
        return {**dict(zip(inputs, layer.backward(gys[0]))), **layer.named_grads()}

    title = _title(layer, {name: a.shape for name, a in inputs.items()}, settings.dtype)
    return title, forward, backward, {**inputs, **layer.named_parameters()}


def _concat(settings, rng):
    shape = input_shape(settings, (2, 3))
    other = (shape[0], 2, *shape[2:])
    inputs = {"a": _normal(rng, shape, settings.dtype), "b": _normal(rng, other, settings.dtype)}
    return _several_inputs(Concat(axis=1), inputs, settings)


@takes(*WINDOW)
def _labelled_conv2d(settings, rng):
    shape = input_shape(settings, (2, 1, 6, 6))
    k, stride, pad = settings.window(4, 2, 1)
    n_labels = 3
    layer = LabelledConv2d(shape[1], n_labels, 2, k, stride, pad, rng=rng)
    inputs = {
        "image": _normal(rng, shape, settings.dtype),
        "labels": _normal(rng, (shape[0], n_labels), settings.dtype),
    }
    return _several_inputs(layer, inputs, settings)


@takes("kernel")
def _filterbank(settings, rng):
    """DRAW's filterbank: N x N filters (``--kernel``, default 3) on a 6x7 image from p (B, 5)."""
    batch, _ = input_shape(settings, (3, 5))
    layer = Filterbank(settings.kernel or 3, 6, 7)
    p = rng.standard_normal((batch, 5)) * 0.3
    p[:, 2] += 0.5  # filters about 1.3 pixels wide, centred near the image's middle
    p = backend.to_device(p.astype(settings.dtype))

    def forward():
        f_x, f_y, gamma = layer.forward(p)
        layer.clear()
        return f_x, f_y, gamma

    def backward(gys):
        layer.forward(p)
        return {"p": layer.backward(list(gys))}

    return _title(layer, {"p": p.shape}, settings.dtype), forward, backward, {"p": p}


def _filters(rng, batch, n, height, width, dtype):
    """Positive filterbanks F_X, F_Y and intensities gamma for the read and write layers."""
    return {
        "F_X": backend.to_device(rng.uniform(0, 1, (batch, n, width)).astype(dtype)),
        "F_Y": backend.to_device(rng.uniform(0, 1, (batch, n, height)).astype(dtype)),
        "gamma": backend.to_device(rng.uniform(0.5, 1.5, batch).astype(dtype)),
    }


@takes("kernel")
def _read(settings, rng):
    """DRAW's read of C channels (B, C, H, W) through N x N filters (``--kernel``, default 3)."""
    shape = input_shape(settings, (2, 2, 6, 7))
    n = settings.kernel or 3
    inputs = {"image": _normal(rng, shape, settings.dtype), **_filters(rng, shape[0], n, *shape[2:], settings.dtype)}
    return _several_inputs(Read(), inputs, settings)


def _write(settings, rng):
    """DRAW's write of an N x N patch (B, N, N) onto a 6x7 image."""
    shape = input_shape(settings, (2, 3, 3))
    inputs = {"patch": _normal(rng, shape, settings.dtype), **_filters(rng, shape[0], shape[1], 6, 7, settings.dtype)}
    return _several_inputs(Write(), inputs, settings)


def _read_closures(read, x, seen, h, data, settings):
    """Closures for the read of a read/write pair (:mod:`minnet.layers.canvas`): its outputs are
    r_t and the data offset (none with attention); its gradients those of seen, h and the weights."""
    xp = backend.xp_of(x)

    def outputs():
        r, offset = read.forward(x, seen, h), read.data_offset(data)
        return (r,) if offset is None else (r, offset)

    def forward():
        with evaluating(read):
            return outputs()

    def backward(gys):
        read.zero_grad()
        outputs()
        read.data_offset_backward(gys[1] if len(gys) == 2 else None)
        g_seen, g_h = read.backward(gys[0])
        return {"seen": g_seen, "h": g_h + xp.zeros_like(h), **read.named_grads()}  # g_h may be the number 0

    title = _title(read, {"x": x.shape, "h": h.shape}, settings.dtype)
    return title, forward, backward, {"seen": seen, "h": h, **read.named_parameters()}


def _pixel_read(cls):
    """A read without attention (``PixelRead``, ``CanvasRead``) of an image of P pixels
    (``--shape B,P``, default 3,6) and 2 labels, for an encoder of 2 units (8 gates)."""

    def build(settings, rng):
        batch, pixels = input_shape(settings, (3, 6))
        read = cls(pixels, 8, n_labels=2, rng=rng).astype(settings.dtype)
        x, labels, h = (_normal(rng, (batch, size), settings.dtype) for size in (pixels, 2, 3))
        seen = backend.to_device(rng.uniform(0, 1, (batch, pixels)).astype(settings.dtype))
        data = backend.xp_of(x).concatenate((x, labels), axis=1)
        return _read_closures(read, x, seen, h, data, settings)

    return build


def _moved_window(layer, name, rng):
    """``layer`` with its window layer's zero weights moved, so h reaches the window."""
    weights = layer.sublayers()[name].params["W"]
    weights[...] = backend.to_device(rng.standard_normal(weights.shape) * 0.3)
    return layer


def _attention_read(settings, rng):
    """DRAW's read with attention: an N x N glimpse (``--kernel``, default 3) of a 5x6 image
    (``--shape B,H,W``, default 2,5,6) and its error image, placed by h of 4 numbers."""
    batch, height, width = input_shape(settings, (2, 5, 6))
    read = AttentionRead(settings.kernel or 3, height, width, 4, gamma=2.0)
    read = _moved_window(read, "read_window", rng).astype(settings.dtype)
    x, h = (_normal(rng, shape, settings.dtype) for shape in [(batch, height * width), (batch, 4)])
    seen = backend.to_device(rng.uniform(0, 1, (batch, height * width)).astype(settings.dtype))
    return _read_closures(read, x, seen, h, x, settings)


def _attention_write(shape, s, rng):
    """DRAW's write with attention: an N x N patch (``--kernel``, default 3) painted on a 5x6 image."""
    return _moved_window(AttentionWrite(s.kernel or 3, 5, 6, shape[1], gamma=0.5, rng=rng), "write_window", rng)


def loss_case(loss, names, default_shape, make_rest=None):
    """A case for a loss ``loss(first, *rest) -> (value, gradient)``; the value is a scalar or
    one per example.

    ``names`` names the arguments the gradient is for (one, or two when the loss returns a
    pair of gradients, as ``gaussian_kl``); they are standard normal, of the ``--shape`` given
    or ``default_shape``. ``make_rest(rng, shape, dtype)`` gives the other arguments (targets).
    """

    def build(settings, rng):
        shape = input_shape(settings, default_shape)
        arrays = {name: _normal(rng, shape, settings.dtype) for name in names}
        rest = make_rest(rng, shape, settings.dtype) if make_rest else ()

        def forward():
            return loss(*arrays.values(), *rest)[0]

        def backward(gys):
            gradients = loss(*arrays.values(), *rest)[1]
            gradients = gradients if isinstance(gradients, tuple) else (gradients,)
            # a loss of one value per example (N,) weights each example's gradient by its gy
            gy = gys[0].reshape(gys[0].shape + (1,) * (len(shape) - gys[0].ndim))
            return {name: g * gy for name, g in zip(names, gradients)}

        title = f"losses.{loss.__name__} at {', '.join(names)} {tuple(shape)}, {settings.dtype}"
        return title, forward, backward, arrays

    return build


def _probabilities(rng, shape, dtype):
    return (backend.to_device(rng.uniform(0, 1, shape).astype(dtype)),)


def _labels(rng, shape, dtype):
    return (backend.to_device(rng.integers(0, shape[-1], shape[0])),)


CASES = {
    # layers (minnet.layers), one array in
    "Dense": layer_case(lambda shape, s, rng: Dense(shape[1], 4, rng=rng), (3, 5)),
    "ReLU": layer_case(lambda shape, s, rng: ReLU(), (3, 5)),
    "LeakyReLU": layer_case(lambda shape, s, rng: LeakyReLU(0.2), (3, 5)),
    "Tanh": layer_case(lambda shape, s, rng: Tanh(), (3, 5)),
    "Sigmoid": layer_case(lambda shape, s, rng: Sigmoid(), (3, 5)),
    "Softmax": layer_case(lambda shape, s, rng: Softmax(), (3, 5)),
    "Conv2d": layer_case(_conv2d, (2, 2, 6, 6), options=WINDOW),
    "Deconv2d": layer_case(_deconv2d, (2, 2, 3, 3), options=WINDOW),
    "MaxPool2d": layer_case(_max_pool, (2, 2, 6, 6), options=WINDOW),
    "BatchNorm": layer_case(_batch_norm, (6, 3)),
    "Dropout": layer_case(lambda shape, s, rng: _FixedMask(0.3, rng=rng), (3, 5)),
    "LSTM": layer_case(lambda shape, s, rng: LSTM(shape[2], 3, rng=rng), (4, 2, 3)),
    "Flatten": layer_case(lambda shape, s, rng: Flatten(), (2, 3, 2, 2)),
    "Reshape": layer_case(lambda shape, s, rng: Reshape((-1,)), (2, 3, 4)),
    "Sequential": layer_case(_sequential, (3, 5)),
    # layers with several inputs or a state
    "Concat": _concat,
    "LabelledConv2d": _labelled_conv2d,
    "LSTMCell": _lstm_cell,
    "Filterbank": _filterbank,
    "Read": _read,
    "Write": _write,
    # the read/write pairs of a model drawing on a canvas
    "PixelRead": _pixel_read(PixelRead),
    "CanvasRead": _pixel_read(CanvasRead),
    "PixelWrite": layer_case(lambda shape, s, rng: PixelWrite(shape[1], 6, rng=rng), (3, 4)),
    "AttentionRead": _attention_read,
    "AttentionWrite": layer_case(_attention_write, (2, 4)),
    # losses (minnet.losses)
    "squared_error": loss_case(losses.squared_error, ["prediction"], (3, 4), lambda rng, s, d: (_normal(rng, s, d),)),
    "bce_with_logits": loss_case(losses.bce_with_logits, ["logits"], (3, 4), _probabilities),
    "softmax_cross_entropy": loss_case(losses.softmax_cross_entropy, ["logits"], (3, 4), _labels),
    "gaussian_kl": loss_case(losses.gaussian_kl, ["mu", "logvar"], (3, 4)),
    "bernoulli_log_likelihood": loss_case(losses.bernoulli_log_likelihood, ["logits"], (3, 4), _probabilities),
    "bernoulli_cross_entropy": loss_case(losses.bernoulli_cross_entropy, ["logits"], (3, 4), _probabilities),
}


def case_name(name):
    """The name in :data:`CASES` that ``name`` spells, ignoring case (``conv2d`` -> ``Conv2d``).

    An unknown name is a MinnetError suggesting the closest names, or listing them all.
    """
    by_lower = {known.lower(): known for known in CASES}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), by_lower, n=3, cutoff=0.6)
    if close:
        hint = f"did you mean {' or '.join(by_lower[c] for c in close)}?"
    else:
        hint = f"choose one of: {', '.join(CASES)}"
    raise MinnetError(f"no gradient check named {name!r}; {hint}")


def build_case(name, settings, rng):
    """``(title, forward, backward, wrt)`` of the case ``name`` (any case) with ``settings``.

    Parameters
    ----------
    name : str, a key of :data:`CASES`, in any case.
    settings : :class:`Settings`; a window option set (not None) that the case does not take
        is a MinnetError, since the case would ignore it.
    rng : numpy.random.Generator drawing the weights and the input.
    """
    name = case_name(name)
    build = CASES[name]
    taken = getattr(build, "takes", ())
    ignored = [option for option in WINDOW if getattr(settings, option) is not None and option not in taken]
    if ignored:
        given = ", ".join(f"--{option}" for option in ignored)
        accepted = f"it takes only {', '.join(f'--{option}' for option in taken)}" if taken else "it has no window"
        raise MinnetError(f"{name} does not take {given}: {accepted}")
    return build(settings, rng)
