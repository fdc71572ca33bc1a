"""The fully connected layer."""

from minnet import init as initializers
from minnet.layers.accumulate import add_transposed_product
from minnet.layers.base import Layer


class Dense(Layer):
    """Affine map ``y = x W + b``.

    Shapes: ``x (B, n_in)``, ``W (n_in, n_out)``, ``b (n_out,)``, ``y (B, n_out)``.

    Backward, with ``gy = dL/dy``:

    * ``dL/dx = gy W^T``            (B, n_in)
    * ``dL/dW = x^T gy``            (n_in, n_out), summed over the batch
    * ``dL/db = sum_batch gy``      (n_out,)

    Naive twin: :func:`minnet.layers.naive.dense` and ``dense_backward``, the same sums as
    three nested loops. Here each sum over an index is a matrix product, which BLAS runs on
    every core in cache-sized blocks, and ``dL/dW`` is added into ``grads`` by one in-place
    ``sgemm`` on the Fortran-ordered transpose (:mod:`minnet.layers.accumulate`), which saves a
    temporary as large as ``W`` (the largest array of some models) at every backward.

    Parameters
    ----------
    n_in, n_out : int
        Input and output sizes.
    init : str or callable
        Initializer of ``W`` (see :mod:`minnet.init`), given the fans ``n_in`` and ``n_out``.
    bias : bool
        Whether the layer has ``b`` (zeros at the start).
    rng : int, numpy.random.Generator or None
        Seed or generator of the initial weights.
    """

    def __init__(self, n_in, n_out, *, init="glorot", bias=True, rng=None):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        rng = initializers.as_rng(rng)
        self.add_param("W", initializers.resolve(init)(rng, (n_in, n_out), n_in, n_out))
        if bias:
            self.add_param("b", initializers.zeros((n_out,)))

    def output_shape(self, input_shape):
        self.expect_shape(input_shape, ("B", self.n_in))
        return (input_shape[0], self.n_out)

    def forward(self, x):
        self.expect_shape(x.shape, ("B", self.n_in))
        y = x @ self.params["W"]
        if "b" in self.params:
            y += self.params["b"]
        if self.training:
            self.push(x)
        return y

    def backward(self, gy):
        (x,) = self.pop()
        if self.param_grads:
            add_transposed_product(self.grads["W"], x, gy)  # dL/dW = x^T gy
            if "b" in self.grads:
                self.grads["b"] += gy.sum(axis=0)  # dL/db = sum over the batch of gy
        return gy @ self.params["W"].T  # dL/dx = gy W^T

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"
