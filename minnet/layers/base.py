"""The layer contract every minnet layer follows, and ``Sequential``.

A layer maps an input array to an output array and knows how to send a gradient back::

    y  = layer.forward(x)    # in training mode, remembers what backward will need
    gx = layer.backward(gy)  # gy = dL/dy  ->  gx = dL/dx, and grads[k] += dL/dparams[k]

What ``forward`` remembers goes on a stack and ``backward`` pops it, so one layer object can
be applied several times before back-propagating (a discriminator that sees a real and a fake
batch, an LSTM cell unrolled over 64 steps): the backward calls then come in the reverse order
of the forward calls.

Modes, as in PyTorch: a layer is in training mode (``layer.training`` True) or in evaluation
mode. A new layer trains, as in PyTorch, because the common first use is a training loop.
``net.eval()`` and ``net.train()`` switch a layer and every layer inside it; ``with
evaluating(net):`` does so for a block and then restores each layer's previous mode. In
evaluation mode ``forward`` saves nothing for backward, dropout is the identity and batch norm
normalises with its running statistics; a ``backward`` after it is an error that says so.

Every ``backward`` first checks its gradient against the shape of what the matching
``forward`` returned and raises :class:`~minnet.errors.ShapeError` naming the layer when they
differ, before any arithmetic. The check lives here, once: :meth:`Layer.__init_subclass__`
wraps each subclass's ``forward`` (to note the output's shape beside the saved values) and
``backward`` (to compare), so no layer repeats it.

``backward`` *adds* into ``grads`` (``+=``), so weights shared between several uses just get
the sum of their gradients; optimizers zero the gradients after each step. Gradients are the
true dL/dtheta; an optimizer subtracts them.

A layer with several inputs (``Concat``, ``LabelledConv2d``) takes them as a list and returns
their gradients as a list, in the same order.

Gradients with respect to the input alone: a model that refines its *input* (a latent code
moved by Langevin steps or gradient descent through a fixed generator) wants ``gx`` and not the
weights' gradients. Inside ``with input_gradients_only(net):`` every layer of ``net`` skips
computing and adding its parameter gradients (``layer.param_grads`` is False), so such a
backward pass costs less and leaves ``grads`` untouched.

No layer changes an array it was given or one it returned: an activation saves the very
array it returns for its backward, so a caller's ``y += ...`` would corrupt that gradient
without any error. Work in place only on arrays the layer itself just made.
"""

import contextlib
import functools

import numpy as np

from minnet import backend
from minnet.errors import MinnetError, ShapeError


class Layer:
    """Base class: parameters, their gradients, buffers and the stack of saved values.

    Attributes
    ----------
    params : dict[str, array]
        Learnable arrays, e.g. ``{"W": ..., "b": ...}``.
    grads : dict[str, array]
        dL/dparams, same keys and shapes as ``params``; accumulated by ``backward``.
    buffers : dict[str, array]
        Non-learned state saved in checkpoints (batch-norm running statistics).
    training : bool
        True (training mode) on construction: a new layer trains, as in PyTorch, because the
        common first use is a training loop. Set by :meth:`train` and :meth:`eval`.
    """

    param_grads = True  # False inside input_gradients_only: backward then leaves grads alone

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self.training = True
        self._saved = []
        # the shape(s) each training forward returned, by the depth of _saved it left: what gy must fit
        self._output_shapes = {}

    def __init_subclass__(cls, **kwargs):
        """Give every layer the gradient-shape check (see the module docstring)."""
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _noting_output_shapes(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = _checking_gradient_shapes(vars(cls)["backward"])

    # -- the contract -------------------------------------------------------------------
    def forward(self, x):
        """``y`` for input ``x``; in training mode also saves what :meth:`backward` needs."""
        raise NotImplementedError

    def backward(self, gy):
        """``dL/dx`` for ``gy = dL/dy`` of the latest un-back-propagated forward; adds dL/dparams
        into :attr:`grads` (unless inside :func:`input_gradients_only`)."""
        raise NotImplementedError

    def __call__(self, *inputs, **options):
        """``layer(x)`` is ``layer.forward(x)``."""
        return self.forward(*inputs, **options)

    # -- modes -------------------------------------------------------------------------
    def train(self, mode=True):
        """Put this layer and every layer inside it in training mode (``mode=False``:
        evaluation mode); returns self."""
        for layer in self.walk():
            layer.training = bool(mode)
        return self

    def eval(self):
        """Put this layer and every layer inside it in evaluation mode: forward saves nothing,
        dropout is the identity, batch norm uses its running statistics. Returns self."""
        return self.train(False)

    def output_shape(self, input_shape):
        """The shape ``forward`` returns for an input of ``input_shape``, or a ShapeError.

        This default is for layers that keep the shape (activations, dropout, batch norm);
        layers that change it override it, and models size their layers with it rather than
        repeating the arithmetic.
        """
        return tuple(input_shape)

    def expect_shape(self, given, expected, what="input"):
        """Raise :class:`~minnet.errors.ShapeError` unless ``given`` fits ``expected``.

        ``expected`` is a tuple of sizes, where a string (a name such as ``"B"``) stands for
        any size: ``self.expect_shape(x.shape, ("B", self.n_in))``; ``what`` names the array in
        the message (``"input"``, ``"h_prev"``).
        """
        fits = len(given) == len(expected) and all(
            isinstance(size, str) or size == actual for size, actual in zip(expected, given)
        )
        if not fits:
            raise ShapeError(self, f"({', '.join(map(str, expected))})", given, what)

    # -- saved values (a stack: forward pushes, backward pops) --------------------------
    def push(self, *values):
        """Remember ``values`` for the matching ``backward`` call."""
        self._saved.append(values)

    def pop(self):
        """The values pushed by the most recent un-back-propagated ``forward``."""
        if not self._saved:
            raise MinnetError(
                f"{type(self).__name__}.backward has nothing to undo: the forward ran in eval mode "
                "(which saves nothing), or no forward ran"
            )
        return self._saved.pop()

    def clear(self):
        """Forget saved values of forwards that will not be back-propagated."""
        self._saved.clear()
        self._output_shapes.clear()
        for child in self.sublayers().values():
            child.clear()

    # -- parameters -------------------------------------------------------------------
    def add_param(self, name, value):
        """Register ``value``, a learnable array, as ``params[name]`` (moved to the current
        device) with a zero gradient ``grads[name]``; returns the array now held."""
        value = backend.to_device(value)
        self.params[name] = value
        self.grads[name] = backend.xp_of(value).zeros_like(value)
        return value

    def add_buffer(self, name, value):
        """Register ``value`` as ``buffers[name]``: state saved in checkpoints but not learned
        (batch norm's running statistics), moved to the current device; returns it."""
        self.buffers[name] = backend.to_device(value)
        return self.buffers[name]

    def sublayers(self):
        """Named child layers (``{}`` for a leaf); containers override this."""
        return {}

    def walk(self):
        """This layer and every layer inside it, depth first."""
        yield self
        for child in self.sublayers().values():
            yield from child.walk()

    def parameter_slots(self, prefix=""):
        """Yield ``(qualified_name, owner_layer, key)`` for every parameter, children included.

        Qualified names join the path with dots, e.g. ``"2.W"`` for the weights of the third
        layer of a ``Sequential``. Owners and keys let an optimizer find the arrays it updates
        in place, and notice when one was replaced. ``prefix`` starts every name (the path to
        this layer when called from its parent).
        """
        for key in self.params:
            yield prefix + key, self, key
        for name, child in self.sublayers().items():
            yield from child.parameter_slots(f"{prefix}{name}.")

    def buffer_slots(self, prefix=""):
        """Yield ``(qualified_name, owner_layer, key)`` for every buffer, as :meth:`parameter_slots`
        does for parameters (``prefix`` likewise)."""
        for key in self.buffers:
            yield prefix + key, self, key
        for name, child in self.sublayers().items():
            yield from child.buffer_slots(f"{prefix}{name}.")

    def named_parameters(self):
        """``{qualified_name: array}`` of every parameter (the arrays themselves, not copies)."""
        return {name: owner.params[key] for name, owner, key in self.parameter_slots()}

    def named_grads(self):
        """``{qualified_name: array}`` of every parameter's gradient, the arrays themselves."""
        return {name: owner.grads[key] for name, owner, key in self.parameter_slots()}

    def num_parameters(self):
        """The number of learnable numbers in this layer and every layer inside it (an int)."""
        return sum(int(p.size) for p in self.named_parameters().values())

    def zero_grad(self):
        """Set every gradient of this layer and the layers inside it to zero, in place."""
        for _, owner, key in self.parameter_slots():
            owner.grads[key].fill(0)

    # -- state for checkpoints --------------------------------------------------------
    def state_dict(self):
        """Parameters and buffers by qualified name, as NumPy arrays (copies)."""
        state = {name: backend.to_numpy(p).copy() for name, p in self.named_parameters().items()}
        for name, owner, key in self.buffer_slots():
            state[name] = backend.to_numpy(owner.buffers[key]).copy()
        return state

    def load_state_dict(self, state):
        """Copy arrays from ``state`` into the existing ones in place (references stay valid).

        Raises ``KeyError``/``ValueError`` naming the entry when a name is missing or a shape
        differs; callers that read user files turn these into a MinnetError.
        """
        slots = [(n, o.params, k) for n, o, k in self.parameter_slots()]
        slots += [(n, o.buffers, k) for n, o, k in self.buffer_slots()]
        for name, store, key in slots:
            if name not in state:
                raise KeyError(f"missing entry {name!r}")
            value = state[name]
            if tuple(value.shape) != tuple(store[key].shape):
                raise ValueError(
                    f"entry {name!r} has shape {tuple(value.shape)}, expected {tuple(store[key].shape)}"
                )
            store[key][...] = backend.xp_of(store[key]).asarray(value, dtype=store[key].dtype)

    # -- dtype and device -------------------------------------------------------------
    def astype(self, dtype):
        """Convert parameters, gradients and buffers to ``dtype``; returns self.

        Do this before building an optimizer: it replaces the arrays the optimizer updates
        (whose next ``step()`` then refuses to run).
        """
        for _, owner, key in self.parameter_slots():
            owner.params[key] = owner.params[key].astype(dtype)
            owner.grads[key] = owner.grads[key].astype(dtype)
        for _, owner, key in self.buffer_slots():
            owner.buffers[key] = owner.buffers[key].astype(dtype)
        return self

    def to(self, device):
        """Move parameters, gradients and buffers to ``device`` ("cpu" or "gpu"); returns self.

        Like :meth:`astype`, do this before building an optimizer.
        """
        for _, owner, key in self.parameter_slots():
            owner.params[key] = backend.to_device(owner.params[key], device)
            owner.grads[key] = backend.to_device(owner.grads[key], device)
        for _, owner, key in self.buffer_slots():
            owner.buffers[key] = backend.to_device(owner.buffers[key], device)
        return self

    @property
    def dtype(self):
        for p in self.named_parameters().values():
            return p.dtype
        return np.dtype(np.float32)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _shapes(value):
    """The shape of an array, a list of the shapes of a tuple/list's items, None for the rest."""
    if isinstance(value, (tuple, list)):
        return [_shapes(item) for item in value]
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else None


def _mismatch(given, expected):
    """``(given, expected)`` shapes of the first array whose gradient has another shape than
    the array, else None. ``None`` (no gradient given) or a structure this check does not know
    passes: the layer itself decides about those."""
    if isinstance(given, tuple) and isinstance(expected, tuple):
        return None if given == expected else (given, expected)
    if isinstance(given, list) and isinstance(expected, list) and len(given) == len(expected):
        return next(filter(None, map(_mismatch, given, expected)), None)
    return None


def _noting_output_shapes(forward):
    """``forward`` that, when it saved values for backward, notes the shape(s) it returned."""

    @functools.wraps(forward)
    def noting(self, *inputs, **options):
        depth = len(self._saved)
        y = forward(self, *inputs, **options)
        if len(self._saved) > depth:  # (an outer forward around super().forward overwrites the entry)
            self._output_shapes[len(self._saved)] = _shapes(y)
        return y

    return noting


def _checking_gradient_shapes(backward):
    """``backward`` that first compares its gradient(s) with the shapes ``forward`` returned."""

    @functools.wraps(backward)
    def checking(self, *grads, **options):
        expected = self._output_shapes.get(len(self._saved))  # None in a nested super().backward
        if expected is not None:
            wrong = _mismatch(_shapes(grads[0] if len(grads) == 1 else list(grads)), expected)
            if wrong is not None:
                raise ShapeError(self, str(wrong[1]), wrong[0], "gradient")
            del self._output_shapes[len(self._saved)]
        return backward(self, *grads, **options)

    return checking


@contextlib.contextmanager
def _switched_off(attribute, layers):
    """Set ``attribute`` False on ``layers`` and every layer inside them for a block; on leaving,
    each layer gets back the value it had."""
    inside = [layer for top in layers for layer in top.walk()]
    before = [getattr(layer, attribute) for layer in inside]
    for layer in inside:
        setattr(layer, attribute, False)
    try:
        yield
    finally:
        for layer, value in zip(inside, before):
            setattr(layer, attribute, value)


@contextlib.contextmanager
def evaluating(*layers):
    """Within the block, these layers (and all inside them) are in evaluation mode.

    On leaving, each layer gets back the mode it had before, so a model's ``sample()`` or a
    validation pass can run its networks in evaluation mode without knowing how training left
    them.
    """
    with _switched_off("training", layers):
        yield


@contextlib.contextmanager
def input_gradients_only(*layers):
    """Within the block, ``backward`` of these layers (and all inside them) returns dL/dx only.

    No parameter gradient is computed or added, so ``grads`` keep what they held: the cheap,
    explicit way to take the gradient of a loss with respect to a network's input, as
    inference on a latent code needs (Langevin dynamics in ABP, refining CSGM's codes).
    """
    with _switched_off("param_grads", layers):
        yield


class Sequential(Layer):
    """Layers applied one after another: ``y = f_n(...f_2(f_1(x)))``.

    Backward runs the chain rule in reverse: ``gx = f_1'(...f_n'(gy))``. A Sequential is
    itself a Layer, so networks nest.

    Shapes: ``x`` whatever ``f_1`` takes, ``y`` whatever ``f_n`` gives;
    :meth:`output_shape` passes a shape through every layer's ``output_shape`` in turn.
    """

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def sublayers(self):
        return {str(i): layer for i, layer in enumerate(self.layers)}

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, gy):
        for layer in reversed(self.layers):
            gy = layer.backward(gy)
        return gy

    def output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
