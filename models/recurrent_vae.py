"""The recurrent variational core that AVME (paper 001) and its baseline DRAW (Gregor et al.
2015) share: an encoder LSTM reads the image and the canvas, a Gaussian posterior gives z_t, a
decoder LSTM writes onto the canvas, unrolled for T steps.

With the read and the write a pair of layers (:mod:`minnet.layers.canvas`, whose docstring
holds their contract, and :mod:`minnet.layers.attention`), step t is, for an image x (B, P)::

    seen_t  = sigmoid(c_{t-1})                     the canvas so far, as pixel intensities
    r_t     = read(x, seen_t, h^dec_{t-1})         DRAW Eqs. 3-4; AVME reads [x, y, seen_t]
    h^enc_t = LSTM^enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])          DRAW Eq. 5, AVME Eq. 10
    z_t     = mu_t + sigma_t noise_t,  [mu_t, log sigma_t] = W h^enc_t + b   DRAW 6, AVME 11
    h^dec_t = LSTM^dec(h^dec_{t-1}, [z_t, y])                    DRAW Eq. 7, AVME Eq. 12
    c_t     = c_{t-1} + write(h^dec_t)                           DRAW Eq. 8, AVME Eq. 13

from c_0 = 0 and zero LSTM states; y, the one-hot label of a conditional model (AVME's Section
4.1), is left out when there is none. The image's likelihood is Bernoulli(sigmoid(c_T)); the
latent loss sum_t KL(q(z_t | h^enc_t) || N(0, I)) (:class:`~minnet.models.variational.GaussianLatent`).

The two models differ where their papers do: what the read sees (DRAW the error image x -
seen_t, with or without attention; AVME the canvas seen_t itself), the write (DRAW's attention
patch, or one number per pixel), and T (DRAW's 64 glimpses, AVME's K = 12 iterations).
"""

from minnet.backend import xp_of
from minnet.layers.activations import sigmoid
from minnet.layers.base import Layer, evaluating


class RecurrentVAE(Layer):
    """The encoder, posterior, decoder and read/write pair, unrolled by hand for ``steps`` steps.

    ``canvas, kl, log_ratio = net.forward(x, noise, y=None)``: ``x`` (B, P) binary images,
    ``noise`` (T, B, L) the posterior's noise of every step (held fixed by gradient checks),
    ``y`` (B, n_labels) one-hot labels or None; ``canvas`` (B, P) the logits c_T, ``kl`` and
    ``log_ratio`` (B,) summed over the steps (see :class:`~minnet.models.variational.LatentSample`).
    With a list ``trace``, each step appends ``(c_t, read window, write window)``, the windows
    as the pair's ``window`` gives them (None without attention), for figures.

    ``net.backward(g_canvas, g_kl)`` with ``g_canvas = dL/dc_T`` (B, P) and ``g_kl = dL/dkl`` (a
    number or (B,)) back-propagates through time and adds every parameter's gradient into
    ``grads``; x and y are data and get none. Going back from step t: h^dec_t gets the write's
    gradient, and what step t+1 sent back (through its decoder, its encoder's input and its
    read); h^enc_t gets the posterior's and step t+1's; c_{t-1} gets c_t's gradient directly
    (Eq. 8) and the read's through seen_t = sigmoid(c_{t-1}), ``dL/dseen seen (1 - seen)``. The
    carries start at zero after the last step, and every step adds into them.

    ``net.generate(z, y=None, trace=None)`` runs the decoder alone on given codes ``z`` (T, B, L),
    z_t ~ N(0, I) (DRAW Section 2.3, AVME Eqs. 19-21), and returns c_T; ``trace`` as above.

    Parameters
    ----------
    read, write : a read/write pair (:mod:`minnet.layers.canvas`).
    encoder : LSTMCell on ``[r_t, h^dec_{t-1}]`` (n_in = read.n_out + H_dec).
    posterior : GaussianLatent on h^enc_t.
    decoder : LSTMCell on ``[z_t, y]``.
    steps : int
        T.

    The layers are built by the model in the order their initial weights are drawn; their
    names (the pair's included, see :meth:`sublayers`) are the checkpoints' keys.
    """

    def __init__(self, read, encoder, posterior, decoder, write, steps):
        super().__init__()
        self.read, self.encoder, self.posterior, self.decoder, self.write = read, encoder, posterior, decoder, write
        self.steps = steps

    def sublayers(self):
        """The cells and the posterior, then the read's and the write's layers under their own names."""
        own = {"encoder": self.encoder, "posterior": self.posterior, "decoder": self.decoder}
        return {**own, **self.read.sublayers(), **self.write.sublayers()}

    def forward(self, x, noise, y=None, trace=None):
        xp = xp_of(x)
        labels = [] if y is None else [y]
        canvas = xp.zeros_like(x)  # c_0
        h_dec = xp.zeros((len(x), self.decoder.n_hidden), dtype=x.dtype)
        enc_state = dec_state = None  # zeros
        kl = log_ratio = 0
        data_offset = self.read.data_offset(xp.concatenate([x, *labels], axis=1))  # once per batch
        for t in range(self.steps):
            seen = sigmoid(canvas)
            h_read = h_dec
            r = self.read.forward(x, seen, h_dec)  # DRAW Eqs. 3-4
            encoder_in = xp.concatenate((r, h_dec), axis=1)
            enc_state = self.encoder.forward(encoder_in, enc_state, offset=data_offset)  # DRAW 5, AVME 10
            latent = self.posterior.forward(enc_state[0], noise[t])  # DRAW 6, AVME 11
            dec_state = self.decoder.forward(xp.concatenate([latent.z, *labels], axis=1), dec_state)  # 7, 12
            h_dec = dec_state[0]
            canvas = canvas + self.write.forward(h_dec)  # DRAW 8, AVME 13
            kl = kl + latent.kl  # sum_t KL, DRAW Eq. 11
            log_ratio = log_ratio + latent.log_ratio
            if self.training:
                self.push(seen)
            if trace is not None:
                trace.append((canvas, self.read.window(h_read), self.write.window(h_dec)))
        return canvas, kl, log_ratio

    def backward(self, g_canvas, g_kl):
        xp = xp_of(g_canvas)
        batch, dtype = len(g_canvas), g_canvas.dtype
        g_h_dec, g_c_dec = (xp.zeros((batch, self.decoder.n_hidden), dtype) for _ in range(2))  # from step t+1
        g_h_enc, g_c_enc = (xp.zeros((batch, self.encoder.n_hidden), dtype) for _ in range(2))
        g_data_offset = 0
        for _ in range(self.steps):
            (seen,) = self.pop()
            g_h = self.write.backward(g_canvas) + g_h_dec  # c_t = c_{t-1} + write(h^dec_t)
            g_decoder_in, (g_h_dec, g_c_dec) = self.decoder.backward(g_h, g_c_dec)
            g_h = self.posterior.backward(g_decoder_in[:, : self.posterior.n_latent], g_kl) + g_h_enc
            g_encoder_in, (g_h_enc, g_c_enc) = self.encoder.backward(g_h, g_c_enc)
            g_data_offset = g_data_offset + self.encoder.gate_grad
            g_seen, g_h_read = self.read.backward(g_encoder_in[:, : self.read.n_out])
            g_h_dec = g_h_dec + g_encoder_in[:, self.read.n_out :] + g_h_read  # h^dec_{t-1} feeds the encoder, the read
            g_canvas = g_canvas + g_seen * seen * (1 - seen)  # c_{t-1} reaches c_t and seen_t
        self.read.data_offset_backward(g_data_offset)  # the data's rows of the encoder: data^T sum_t da_t

    def generate(self, z, y=None, trace=None):
        xp = xp_of(z)
        labels = [] if y is None else [y]
        canvas = xp.zeros((z.shape[1], self.write.n_out), dtype=z.dtype)
        dec_state = None
        with evaluating(self):
            for z_t in z:
                dec_state = self.decoder.forward(xp.concatenate([z_t, *labels], axis=1), dec_state)
                canvas = canvas + self.write.forward(dec_state[0])
                if trace is not None:
                    trace.append((canvas, None, self.write.window(dec_state[0])))
        return canvas

    def __repr__(self):
        return (
            f"{type(self).__name__}(read={self.read!r}, encoder={self.encoder!r}, posterior={self.posterior!r}, "
            f"decoder={self.decoder!r}, write={self.write!r}, steps={self.steps})"
        )
