"""minnet's DRAW (models/draw.py) written in torch, for benchmarks/models.py.

The same layers, sizes, initial window biases, unrolled pass (Eqs. 3-8), attention (Eqs. 19-29,
filters as a softmax over the pixels), loss (Bernoulli cross-entropy of c_T plus every step's
KL, averaged over the batch), Adam and gradient clipping. torch's LSTMCell has a second bias
(bias_hh) that minnet's cell does not: it is held at zero and not trained, so the learnable
numbers are minnet's.
"""

import torch
from torch import nn
from torch.nn import functional as F

from minnet.layers.attention import initial_window, stride_scale

SIDE = 28
PIXELS = SIDE * SIDE


class TorchDRAW(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = config
        self.config = c
        read_size = 2 * c.read_n**2 if c.attention else 2 * PIXELS
        self.encoder = nn.LSTMCell(read_size + c.dec_size, c.enc_size)
        self.posterior = nn.Linear(c.enc_size, 2 * c.z_size)
        self.decoder = nn.LSTMCell(c.z_size, c.dec_size)
        for cell in (self.encoder, self.decoder):
            nn.init.zeros_(cell.bias_hh)
            cell.bias_hh.requires_grad_(False)
        if c.attention:
            self.read_window = nn.Linear(c.dec_size, 5)
            self.write_window = nn.Linear(c.dec_size, 5)
            self.write_patch = nn.Linear(c.dec_size, c.write_n**2)
            for layer, n in ((self.read_window, c.read_n), (self.write_window, c.write_n)):
                nn.init.zeros_(layer.weight)
                with torch.no_grad():
                    layer.bias.copy_(torch.tensor(initial_window(n, SIDE, SIDE)))
        else:
            self.write_pixels = nn.Linear(c.dec_size, PIXELS)

    def filterbank(self, p, n):
        """(F_X, F_Y, gamma) from the 5 window parameters (Eqs. 19-26)."""
        g_x = (SIDE + 1) / 2 * (p[:, 0] + 1)
        g_y = (SIDE + 1) / 2 * (p[:, 1] + 1)
        sigma2 = p[:, 2].exp()
        delta = stride_scale(n, SIDE, SIDE) * p[:, 3].exp()
        offsets = torch.arange(1, n + 1, dtype=p.dtype, device=p.device) - n / 2 - 0.5
        pixels = torch.arange(1, SIDE + 1, dtype=p.dtype, device=p.device)

        def bank(centre):
            mu = centre[:, None] + offsets * delta[:, None]
            return torch.softmax(-((pixels - mu[:, :, None]) ** 2) / (2 * sigma2[:, None, None]), dim=2)

        return bank(g_x), bank(g_y), p[:, 4].exp()

    def read(self, x, x_hat, h_dec):
        if not self.config.attention:
            return torch.cat([x, x_hat], 1)
        f_x, f_y, gamma = self.filterbank(self.read_window(h_dec), self.config.read_n)
        images = torch.stack([x, x_hat], 1).reshape(len(x), 2, SIDE, SIDE)
        glimpse = f_y[:, None] @ images @ f_x[:, None].transpose(2, 3)
        return (glimpse * gamma[:, None, None, None]).reshape(len(x), -1)

    def write(self, h_dec):
        if not self.config.attention:
            return self.write_pixels(h_dec)
        n = self.config.write_n
        patch = self.write_patch(h_dec).reshape(len(h_dec), n, n)
        f_x, f_y, gamma = self.filterbank(self.write_window(h_dec), n)
        return (f_y.transpose(1, 2) @ patch @ f_x / gamma[:, None, None]).reshape(len(h_dec), PIXELS)

    def loss(self, x):
        c = self.config
        canvas = torch.zeros_like(x)
        h_dec = torch.zeros(len(x), c.dec_size, device=x.device)
        enc_state = dec_state = None
        kl = 0
        for _ in range(c.steps):
            r = self.read(x, x - torch.sigmoid(canvas), h_dec)
            enc_state = self.encoder(torch.cat([r, h_dec], 1), enc_state)
            z, step_kl = gaussian_latent(self.posterior, enc_state[0])
            kl = kl + step_kl
            dec_state = self.decoder(z, dec_state)
            h_dec = dec_state[0]
            canvas = canvas + self.write(h_dec)
        reconstruction = F.binary_cross_entropy_with_logits(canvas, x, reduction="none").sum(1)
        return (reconstruction + kl).mean()


def gaussian_latent(layer, h):
    """minnet's GaussianLatent in torch: z = mu + sigma eps from ``layer(h) = [mu, log sigma]``,
    and KL(N(mu, sigma^2) || N(0, I)) per image."""
    mu, log_sigma = layer(h).chunk(2, 1)
    sigma = log_sigma.exp()
    z = mu + sigma * torch.randn_like(mu)
    return z, 0.5 * (mu * mu + sigma * sigma - 1 - 2 * log_sigma).sum(1)


def torch_draw(config):
    return (TorchDRAW(config),)


def torch_draw_step(trainer, net, images, labels, device):
    """minnet's DRAW.train_step in torch: the loss of T unrolled steps, clipping, one Adam step."""
    config = trainer.config
    net = net.to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    adam = torch.optim.Adam(params, lr=config.lr)
    x = torch.from_numpy(images.reshape(len(images), -1)).to(device)

    def step():
        loss = net.loss(x)
        adam.zero_grad()
        loss.backward()
        if config.clip_norm:
            nn.utils.clip_grad_norm_(params, config.clip_norm)
        adam.step()
        return loss.item()

    return step
