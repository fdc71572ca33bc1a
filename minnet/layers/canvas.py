"""Reading an image and writing onto a canvas, pixel by pixel: the read/write pairs of a
recurrent variational model that draws on a canvas (DRAW without attention, Gregor et al. 2015,
Section 3.1; AVME, paper 001, Eqs. 10 and 13).

The read/write contract, which :mod:`minnet.layers.attention`'s pair follows too, and which
:class:`minnet.models.recurrent_vae.RecurrentVAE` unrolls. At step t, with ``x`` (B, P) the
image, ``seen = sigmoid(c_{t-1})`` (B, P) the canvas so far as pixel intensities and ``h``
(B, H) the decoder's state h^dec_{t-1}::

    offset = read.data_offset(data)      # once per batch: (B, G), the encoder's gates from what
                                         # r_t holds of the data at every step; None if nothing
    r      = read.forward(x, seen, h)    # (B, read.n_out): the rest of r_t, given to the encoder
    g_seen, g_h = read.backward(g_r)     # dL/dseen (B, P), dL/dh (B, H) or 0
    read.data_offset_backward(g_offset)  # dL/d offset, summed over the steps

    w      = write.forward(h)            # (B, write.n_out): added to the canvas
    g_h    = write.backward(g_w)

The image and the data are data: no gradient is returned for them. ``read.window(h)`` and
``write.window(h)`` give the attention window that ``h`` places, for figures, or None.

A pair saves nothing itself (its layers do), and names its layers in :meth:`sublayers` as the
model's checkpoints name them: a model lists them beside its own layers.

Here, without attention:

* :class:`PixelRead` (DRAW, Section 3.1): ``r_t = [x, x^_t]`` with the error image
  ``x^_t = x - seen`` (Eq. 3);
* :class:`CanvasRead` (AVME, Eq. 10): ``r_t = [x, y, seen]``, the canvas itself;
* :class:`PixelWrite` (both): ``write(h) = h W + b``, one number per pixel.

The data part of a pixel read (``x``, or ``[x, y]`` for a conditional model) is the same at
every step, so the rows of the encoder's weights for it multiply it once per batch:
``encoder_data`` is those rows, a Dense layer without bias from the data to the encoder's 4H
gates, whose product the encoder LSTM adds as its ``offset`` at every step (an LSTM on
``[data, r_t, h]`` with the data's multiplications done once instead of T times; see
:class:`~minnet.layers.recurrent.LSTMCell`).
"""

from minnet.layers.base import Layer
from minnet.layers.dense import Dense


class ReadPair(Layer):
    """The read's side of the contract above; subclasses override what they do.

    By default nothing of the image enters the encoder whole (:meth:`data_offset` is None) and
    there is no window to draw.
    """

    def data_offset(self, data):
        """The data's share of the encoder's gates (B, 4H), from ``data = [x, y]`` (B, P + labels),
        the same at every step; None when the read passes nothing of the data this way."""
        return None

    def data_offset_backward(self, g_offset):
        """Take ``g_offset`` = dL/d offset (B, 4H), summed over the steps, into the weights'
        gradients; nothing to do when :meth:`data_offset` is None."""

    def forward(self, x, seen, h):
        """The changing part of r_t (B, n_out) from the image ``x`` (B, P), the canvas so far
        ``seen`` = sigmoid(c_{t-1}) (B, P) and the decoder's state ``h`` (B, H)."""
        raise NotImplementedError

    def backward(self, g_r):
        """``(dL/dseen (B, P), dL/dh (B, H) or 0)`` from ``g_r`` = dL/dr (B, n_out)."""
        raise NotImplementedError

    def window(self, h):
        """The attention window that the decoder's state ``h`` (B, H) places, for figures; None
        without attention."""
        return None


class WritePair(Layer):
    """The write's side of the contract above."""

    def forward(self, h):
        """What step t adds to the canvas (B, n_out), from the decoder's state ``h`` (B, H)."""
        raise NotImplementedError

    def backward(self, g_w):
        """dL/dh (B, H) from ``g_w`` = dL/dw (B, n_out)."""
        raise NotImplementedError

    def window(self, h):
        """The attention window that ``h`` (B, H) places, for figures; None without attention."""
        return None


class PixelRead(ReadPair):
    """DRAW's read without attention (Section 3.1): ``r_t = [x, x^_t]``, ``x^_t = x - seen`` (Eq. 3).

    ``forward(x, seen, h) -> x^_t (B, P)``; the x half of r_t enters the encoder through
    :meth:`data_offset`. Backward: ``dL/dseen = -dL/dx^_t``, and dL/dh = 0 (r_t does not
    depend on h).

    Parameters
    ----------
    pixels : int
        Size P of the image, of the canvas and of the part of r_t that changes.
    n_gates : int
        Gates of the encoder LSTM, 4H.
    n_labels : int
        Size of the one-hot label y a conditional model reads with x (AVME's Section 4.1); 0
        when there is none.
    rng : seed or numpy.random.Generator, for ``encoder_data``'s initial weights.
    """

    def __init__(self, pixels, n_gates, *, n_labels=0, rng=None):
        super().__init__()
        self.n_out = pixels
        self.encoder_data = Dense(pixels + n_labels, n_gates, bias=False, rng=rng)

    def sublayers(self):
        return {"encoder_data": self.encoder_data}

    def data_offset(self, data):
        """``data W_data`` (B, 4H) from ``data = [x, y]`` (B, P + labels): the data's share of
        the encoder's gates, the same at every step."""
        return self.encoder_data.forward(data)

    def data_offset_backward(self, g_offset):
        """``dW_data = data^T g_offset``, with ``g_offset`` dL/d offset summed over the steps."""
        self.encoder_data.backward(g_offset)

    def forward(self, x, seen, h):
        """The error image ``x - seen`` (B, P); ``h`` is not read."""
        return x - seen

    def backward(self, g_r):
        """``(-g_r, 0)``: the error image's gradient, and none for h."""
        return -g_r, 0

    def __repr__(self):
        labels = self.encoder_data.n_in - self.n_out
        return f"{type(self).__name__}({self.n_out}, {self.encoder_data.n_out}, n_labels={labels})"


class CanvasRead(PixelRead):
    """AVME's read (Eq. 10): ``r_t = [x, y, seen]``, the canvas as the Bernoulli means so far.

    ``forward(x, seen, h) -> seen (B, P)``; ``[x, y]`` enters the encoder through
    :meth:`data_offset`. Backward: ``dL/dseen = dL/dr``, and dL/dh = 0. The encoder sees
    sigmoid(s_{t-1}) where the paper writes s_{t-1}, so its input stays in [0, 1] however large
    the canvas' logits grow. Parameters (``pixels``, ``n_gates``, ``n_labels``, ``rng``) as for
    :class:`PixelRead`.
    """

    def forward(self, x, seen, h):
        """The canvas ``seen`` (B, P) itself; ``x`` enters through the data offset, ``h`` is not read."""
        return seen

    def backward(self, g_r):
        """``(g_r, 0)``: the canvas' gradient, and none for h."""
        return g_r, 0


class PixelWrite(WritePair):
    """The write without attention (DRAW Section 3.1, Eq. 8; AVME Eq. 13): ``h W + b`` (B, P).

    ``forward(h) -> (B, P)``, ``backward(g) -> dL/dh`` by the Dense layer ``write_pixels``.

    Parameters
    ----------
    n_hidden, n_out : int
        Size H of the decoder's state and P of the canvas.
    rng : seed or numpy.random.Generator, for the initial weights.
    """

    def __init__(self, n_hidden, n_out, *, rng=None):
        super().__init__()
        self.n_out = n_out
        self.write_pixels = Dense(n_hidden, n_out, rng=rng)

    def sublayers(self):
        return {"write_pixels": self.write_pixels}

    def forward(self, h):
        """``h W + b`` (B, P) from the decoder's state ``h`` (B, H)."""
        return self.write_pixels.forward(h)

    def backward(self, g_w):
        """``dL/dh = g_w W^T`` (B, H), adding dL/dW and dL/db into the Dense layer's grads."""
        return self.write_pixels.backward(g_w)

    def __repr__(self):
        return f"PixelWrite({self.write_pixels.n_in}, {self.n_out})"
