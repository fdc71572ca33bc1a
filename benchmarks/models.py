"""Time of one whole training step of minnet's models, against the same step in PyTorch.

    python benchmarks/models.py [--device cpu|gpu] [--models NAME ...] [--repeats N] [--threads N] [--cpu-time]

Everything is float32, on the CPU or (``--device gpu``) on CuPy against torch on CUDA, with both
synchronised around the timers; on the GPU the peak memory each library's allocator held for
the model's steps is printed too. A step is ``trainer.train_step(images, labels)`` of the model
at its default settings (``minnet.models.build(name, {}, seed=0)``) on a fixed random batch of its
batch size: one D update, on real images and on G's samples (and, for the matching-aware
``cdcgan``, on real images under wrong labels), then ``g_steps`` G updates, each a G forward
pass (the first reuses the D step's samples), a D forward pass, the backward pass through D into
G and an Adam step on G; D's gradient from the G step is discarded. For ``csgm`` (paper 000) a
step is ``visit_steps`` updates on ``pixels`` pixels of each image (all 784 once, by default),
each one forward and one backward pass of its network giving the weights' Adam step and the
per-image codes' SGD step. The torch step is the same networks written with ``torch.nn`` (same
layers, sizes, BatchNorm, LeakyReLU 0.2 and Dropout) and the same passes, losses, Adam settings
and gradient clipping. The parameter counts of the two are printed and must agree.

``abp``'s step (alternating back-propagation, paper 002) is its L = 10 Langevin steps on the
batch's codes Z, each a forward pass of the generator and a backward pass for dL/dZ only
(``torch.autograd.grad`` with respect to Z in torch, which skips the weights' gradients as
minnet's ``input_gradients_only`` does), then one forward and backward pass and an Adam step on
the generator's weights.

``draw`` and ``draw-no-attention`` time one step of DRAW (T = 64 glimpses, batch 100) with and
without attention against the same network in torch (``torch_draw.py``), whose attention
filterbanks are batched matrix products too.

``avme``'s step (paper 001) is one forward pass of K = 12 unrolled encoder/decoder LSTM steps,
the backward pass through time of the negative ELBO and an Adam step; in torch the same networks
with ``nn.LSTMCell`` (whose second bias is held at zero, so the learnable numbers agree).

The table gives the median time of a step, the ratio minnet / torch and the seconds an epoch of
60,000 images would take at that speed (``60000 // batch`` steps, as ``minnet train`` takes).
Without torch only minnet is timed.

Threads and clocks: :func:`harness.add_timing_arguments`.
"""

import argparse
import os
import sys

import minnet  # noqa: F401  # isort: skip  # before NumPy: sets OpenBLAS's thread timeout
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import add_timing_arguments, set_up_cpu, time_ms, torch_device, torch_synchronize  # noqa: E402

from minnet import backend  # noqa: E402
from minnet.data import NUM_CLASSES, Dataset  # noqa: E402
from minnet.models import build  # noqa: E402
from minnet.models.csgm_field import COORD_SCALE  # noqa: E402
from minnet.models.experiments_with_gans import D_SLOPE, conv_padding, feature_sides  # noqa: E402
from minnet.speed import memory

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:
    torch = None

MODELS = ("cdcgan", "gan", "gan-conv", "abp", "csgm", "draw", "draw-no-attention", "avme")
VARIANTS = {"draw-no-attention": ("draw", {"attention": False})}  # name -> (model, settings)
EPOCH_IMAGES = 60_000  # the MNIST training set
SIDE = 28


# -- the torch networks: (G, D) for a minnet model's config --------------------------------


def torch_cdcgan(config):
    """G: [z, one-hot y] -> Dense -> BN -> ReLU -> 2c x 7x7 -> Deconv -> BN -> ReLU -> Deconv -> tanh.

    D: [image, 10 label maps] -> Conv -> LeakyReLU -> Conv -> BN -> LeakyReLU -> Dense 1 logit.
    """
    c = config.channels
    G = nn.Sequential(
        nn.Linear(config.z_dim + NUM_CLASSES, 2 * c * 7 * 7),
        nn.BatchNorm1d(2 * c * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (2 * c, 7, 7)),
        nn.ConvTranspose2d(2 * c, c, 4, 2, 1),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.ConvTranspose2d(c, 1, 4, 2, 1),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Conv2d(1 + NUM_CLASSES, c, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c, 2 * c, 4, 2, 1),
        nn.BatchNorm2d(2 * c),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(2 * c * 7 * 7, 1),
    )
    return G, D


def torch_gan(config):
    """G: z -> Dense 150 -> ReLU -> Dense 300 -> ReLU -> Dense 784 -> tanh; D the reverse, 2 logits.

    With ``stable``: LeakyReLU, BN after G's hidden layers, dropout 0.3 after D's.
    """
    act = (lambda: nn.LeakyReLU(0.2)) if config.stable else nn.ReLU
    sizes = [config.z_dim, *config.hidden, SIDE * SIDE]
    g_layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        g_layers += [nn.Linear(n_in, n_out), *([nn.BatchNorm1d(n_out)] if config.stable else []), act()]
    g_layers += [nn.Linear(sizes[-2], sizes[-1]), nn.Tanh(), nn.Unflatten(1, (1, SIDE, SIDE))]
    d_layers = [nn.Flatten()]
    for n_in, n_out in zip(sizes[:0:-1], sizes[-2:0:-1]):  # 784 -> 300 -> 150
        d_layers += [nn.Linear(n_in, n_out), act(), *([nn.Dropout(0.3)] if config.stable else [])]
    d_layers.append(nn.Linear(sizes[1], 2))  # [generated, real]
    return nn.Sequential(*g_layers), nn.Sequential(*d_layers)


def torch_gan_conv(config):
    """D: L x [Conv -> LeakyReLU -> Dropout] -> Dense 1; G: Dense -> ReLU -> L transposed convs -> tanh."""
    sides = feature_sides(config, pooling=False)
    c, k, stride, pad = config.channels, config.filter_size, config.stride, conv_padding(config)

    def dropout(p):
        return [nn.Dropout(p)] if p > 0 else []

    d_layers = []
    for c_in in [1] + [c] * (config.layers - 1):
        d_layers += [nn.Conv2d(c_in, c, k, stride, pad), nn.LeakyReLU(D_SLOPE), *dropout(config.dropout)]
    D = nn.Sequential(*d_layers, nn.Flatten(), nn.Linear(c * sides[-1] ** 2, 1))

    g_layers = [nn.Linear(config.z_dim, c * sides[-1] ** 2), nn.ReLU(), *dropout(config.g_dropout)]
    g_layers.append(nn.Unflatten(1, (c, sides[-1], sides[-1])))
    for layer in range(config.layers, 0, -1):
        output_padding = (sides[layer - 1] + 2 * pad - k) % stride
        g_layers.append(nn.ConvTranspose2d(c, c if layer > 1 else 1, k, stride, pad, output_padding))
        if layer > 1:
            g_layers += [nn.ReLU(), *dropout(config.g_dropout)]
    return nn.Sequential(*g_layers, nn.Tanh()), D


def torch_abp(config):
    """(G,): Z -> Dense h -> ReLU -> Dense -> ReLU -> c1 x 7x7 -> Deconv -> ReLU -> Deconv -> tanh."""
    c1, c2 = config.channels
    G = nn.Sequential(
        nn.Linear(config.z_dim, config.hidden),
        nn.ReLU(),
        nn.Linear(config.hidden, c1 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(c2, 1, 4, 2, 1),
        nn.Tanh(),
    )
    return (G,)


def torch_csgm(config):
    """CSGM's one network (paper 000): 32 -> 300 -> 150 -> 100 -> 50 -> 2, each Linear followed by
    LeakyReLU(0.01); returned as a 1-tuple (there is no G/D pair)."""
    sizes = (NUM_CLASSES + 20 + 2, 300, 150, 100, 50, 2)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.01)]
    return (nn.Sequential(*layers),)


class TorchAVME(nn.Module if torch is not None else object):
    """minnet's AVMENetwork: encoder LSTM on [x, sigmoid(s), h^D, y], Dense to (mu, log sigma),
    decoder LSTM on [z, y], write Dense to 784. torch's second LSTM bias (bias_hh) is held at
    zero and not trained, so the learnable numbers are minnet's."""

    def __init__(self, config, n_labels):
        super().__init__()
        hidden, pixels = config.hidden, SIDE * SIDE
        self.encoder = nn.LSTMCell(2 * pixels + hidden + n_labels, hidden)
        self.latent = nn.Linear(hidden, 2 * config.z_dim)
        self.decoder = nn.LSTMCell(config.z_dim + n_labels, hidden)
        self.write = nn.Linear(hidden, pixels)
        for cell in (self.encoder, self.decoder):
            nn.init.zeros_(cell.bias_hh)
            cell.bias_hh.requires_grad_(False)


def torch_avme(config):
    return (TorchAVME(config, 0),)


def torch_avme_step(trainer, net, images, labels, device):
    """minnet's AVME.train_step in torch: the negative ELBO of K unrolled steps, one Adam step."""
    config = trainer.config
    net = net.to(device)
    adam = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=config.lr)
    x = torch.from_numpy(images.reshape(len(images), -1)).to(device)

    def step():
        canvas = torch.zeros_like(x)
        h_decoder = torch.zeros(len(x), config.hidden, device=device)
        encoder_state = decoder_state = None
        kl = 0
        for _ in range(config.steps):
            encoder_state = net.encoder(torch.cat([x, torch.sigmoid(canvas), h_decoder], 1), encoder_state)
            z, step_kl = gaussian_latent(net.latent, encoder_state[0])
            kl = kl + step_kl
            decoder_state = net.decoder(z, decoder_state)
            h_decoder = decoder_state[0]
            canvas = canvas + net.write(h_decoder)
        reconstruction = F.binary_cross_entropy_with_logits(canvas, x, reduction="none").sum(1)
        loss = (reconstruction + kl).mean()
        adam.zero_grad()
        loss.backward()
        adam.step()
        return loss.item()

    return step


TORCH_BUILDERS = {
    "cdcgan": torch_cdcgan,
    "gan": torch_gan,
    "gan-conv": torch_gan_conv,
    "abp": torch_abp,
    "csgm": torch_csgm,
    "avme": torch_avme,
}
if torch is not None:
    from torch_draw import gaussian_latent, torch_draw, torch_draw_step  # noqa: E402

    TORCH_BUILDERS.update({"draw": torch_draw, "draw-no-attention": torch_draw})


# -- the steps -----------------------------------------------------------------------------


def batch_for(config):
    """A fixed random batch: images float32 (B, 28, 28) in [0, 1] and int64 labels."""
    rng = np.random.default_rng(0)
    images = rng.random((config.batch_size, SIDE, SIDE), dtype=np.float32)
    return images, rng.integers(0, NUM_CLASSES, size=config.batch_size)


def minnet_step(trainer, images, labels):
    """One ``train_step`` on the fixed batch, as images 0..B-1 of a training set of B images."""
    trainer.prepare(Dataset(images, labels, split="benchmark", source="random", location="-"))
    indices = np.arange(len(images))

    def step():
        trainer.train_step(images, labels, indices)

    return step


def torch_csgm_step(trainer, net, images, labels, device):
    """CSGM's train_step (minnet.models.csgm) in torch: ``visit_steps`` times, the next ``pixels``
    pixels of each image in a random order of its 784, squared errors of g and d, one backward
    pass giving the weights' gradients (clipped at ``clip_norm``, then an Adam step) and the
    codes' (an SGD step of the per-pixel sum on each code, at most ``code_max_step`` long)."""
    config = trainer.config
    net = net.to(device)
    adam = torch.optim.Adam(net.parameters(), lr=config.lr)
    images, labels = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)
    codes = torch.randn(len(images), 20, device=device)
    visits = torch.zeros(len(images), device=device)
    onehot = F.one_hot(labels, NUM_CLASSES).float()
    n, p = len(images), config.pixels

    def step():
        rounds = -(-config.visit_steps * p // SIDE**2)  # each image's pixels in random order, as pixel_order
        order = torch.cat([torch.argsort(torch.rand(n, SIDE**2, device=device), dim=1) for _ in range(rounds)], 1)
        for visit_step in range(config.visit_steps):
            flat = order[:, visit_step * p : (visit_step + 1) * p]
            rows, cols = flat // SIDE, flat % SIDE
            coords = COORD_SCALE * torch.stack([2 * (cols + 0.5) / SIDE - 1, 2 * (rows + 0.5) / SIDE - 1], dim=-1)
            pixels = images[torch.arange(n, device=device)[:, None], rows, cols].reshape(-1)
            code = codes.clone().requires_grad_(True)
            x = torch.cat([onehot[:, None].expand(n, p, -1), code[:, None].expand(n, p, -1), coords], dim=-1)
            out = net(x.reshape(n * p, -1))
            d_target = torch.clamp(visits / config.d_ramp, max=1).repeat_interleave(p)
            loss = F.mse_loss(out[:, 1], pixels) + F.mse_loss(out[:, 0], d_target)
            loss.backward()
            if config.clip_norm:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
            adam.step()
            adam.zero_grad()
            with torch.no_grad():
                steps = config.code_lr * n * p * code.grad
                norms = steps.norm(dim=1, keepdim=True).clamp(min=1e-30)
                codes.sub_(steps * torch.clamp(config.code_max_step / norms, max=1.0))
                visits.add_(1)
        return loss.item()

    return step


def torch_loss(logits, real_target):
    """minnet's discriminator_loss: BCE of one logit, or softmax CE against [1 - t, t] of two."""
    if logits.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, real_target))
    targets = torch.tensor([1 - real_target, real_target], device=logits.device).expand(len(logits), 2)
    return F.cross_entropy(logits, targets)


def torch_step(trainer, G, D, images, labels, device):
    """The step of minnet's GANTrainer.train_step, written in torch for the networks G and D."""
    config = trainer.config
    G, D = G.to(device), D.to(device)
    conditional, matching_aware = trainer.conditional, trainer.matching_aware()
    adam = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    optimizers = {G: torch.optim.Adam(G.parameters(), **adam), D: torch.optim.Adam(D.parameters(), **adam)}
    images, labels = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)

    def update(net):
        if config.clip_norm > 0:
            nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        optimizers[net].step()
        optimizers[net].zero_grad()

    def label_maps(y):
        return F.one_hot(y, NUM_CLASSES).float()[:, :, None, None].expand(-1, -1, SIDE, SIDE).contiguous()

    def discriminate(x, maps):
        return D(x if maps is None else torch.cat([x, maps], dim=1))

    def generator_loss(logits):
        if config.g_loss == "minimax":
            return -torch_loss(logits, 0.0)
        return torch_loss(logits, 1.0)

    def step():
        batch = len(images)
        real = images[:, None] * 2 - 1
        if config.z_dist == "uniform":
            z = torch.rand(batch, config.z_dim, device=device) * 2 - 1
        else:
            z = torch.randn(batch, config.z_dim, device=device)
        maps = None
        if conditional:
            z = torch.cat([z, F.one_hot(labels, NUM_CLASSES).float()], dim=1)
            maps = label_maps(labels)
        fake = G(z)

        # D step: G's samples enter detached, so that nothing flows back into G.
        loss_real = torch_loss(discriminate(real, maps), trainer.config.real_label)
        loss_fake = torch_loss(discriminate(fake.detach(), maps), 0.0)
        if matching_aware:
            wrong = (labels + torch.randint(1, NUM_CLASSES, labels.shape, device=device)) % NUM_CLASSES
            loss_fake = (loss_fake + torch_loss(discriminate(real, label_maps(wrong)), 0.0)) / 2
        d_loss = loss_real + loss_fake
        d_loss.backward()
        update(D)

        # G steps: through the updated D, on the same z; D's gradients are thrown away.
        for g_step in range(config.g_steps):
            g_loss = generator_loss(discriminate(fake if g_step == 0 else G(z), maps))
            g_loss.backward()
            optimizers[D].zero_grad()
            update(G)
        return d_loss.item(), g_loss.item()

    return step


def torch_abp_step(trainer, G, images, labels, device):
    """The step of minnet's ABP.train_step in torch: L Langevin steps on Z, then a step on W."""
    config = trainer.config
    G = G.to(device)
    optimizer = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    y = torch.from_numpy(images).to(device)[:, None] * 2 - 1
    codes = torch.randn(len(images), config.z_dim, device=device)
    sigma, delta = config.sigma, config.delta

    def step():
        nonlocal codes
        z = codes
        for _ in range(config.langevin_steps):
            z = z.detach().requires_grad_(True)
            error = ((y - G(z)) ** 2).sum() / (2 * sigma**2)
            (error_gradient,) = torch.autograd.grad(error, z)  # -(Y - f) df/dZ / sigma^2
            with torch.no_grad():
                z = z + (delta**2 / 2) * (-error_gradient - z) + delta * torch.randn_like(z)
        codes = z.detach()
        loss = ((y - G(codes)) ** 2).sum() / (2 * sigma**2 * len(y))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    return step


TORCH_STEPS = {
    "abp": torch_abp_step,
    "csgm": torch_csgm_step,
    "avme": torch_avme_step,
}  # models whose step is not the GAN step
if torch is not None:
    TORCH_STEPS.update({"draw": torch_draw_step, "draw-no-attention": torch_draw_step})


def gpu_peak_mib(run, torch_module=None):
    """Run ``run()`` and return the peak GPU memory its library's allocator held, in MiB.

    For minnet that is CuPy's memory pool (freed to the driver first, so the figure is this
    model's); for torch (``torch_module`` given) ``torch.cuda.max_memory_allocated``.
    """
    if torch_module is not None:
        torch_module.cuda.empty_cache()
        torch_module.cuda.reset_peak_memory_stats()
        run()
        return torch_module.cuda.max_memory_allocated() / 2**20
    pool = backend.xp().get_default_memory_pool()
    pool.free_all_blocks()
    run()
    return pool.total_bytes() / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", choices=MODELS, default=list(MODELS), help="models to time (default all)"
    )
    add_timing_arguments(parser, repeats=10, unit="model")
    args = parser.parse_args(argv)

    backend.use(args.device)
    on_gpu = args.device == "gpu"
    against = torch_device(torch, args.device)
    torch_sync = torch_synchronize(torch, against)
    print(f"minnet on {args.device}, torch on {against or '-'}")
    clock = set_up_cpu(args, torch, "training steps")
    if not on_gpu:
        kept = memory.keep_freed_memory()  # as minnet train does; torch's CPU tensors come from malloc too
        print(f"freed memory kept for reuse (minnet.speed.memory): {'yes' if kept else 'no (not glibc)'}")
    if torch is not None:
        torch.manual_seed(0)
    if against is None:
        print("torch: not compared (" + ("not installed" if torch is None else "no CUDA") + ")")

    # Build everything first, so that a model whose torch copy differs fails before any timing.
    models = {}
    for name in args.models:
        trainer = build(*VARIANTS.get(name, (name, {})), seed=0)
        nets = TORCH_BUILDERS[name](trainer.config) if against is not None else None
        count = trainer.num_parameters()
        line = f"{name}: {count:,} parameters in minnet"
        if nets is not None:
            torch_count = sum(p.numel() for net in nets for p in net.parameters() if p.requires_grad)
            assert torch_count == count, f"{name}: torch has {torch_count:,} parameters, minnet {count:,}"
            line += f", {torch_count:,} in torch"
        print(line)
        models[name] = trainer, nets
    print()

    header = f"{'model':<17} {'batch':>5} {'minnet ms':>10}"
    if against is not None:
        header += f" {'torch ms':>9} {'ratio':>6}"
    header += f" {'minnet s/epoch':>15}"
    if against is not None:
        header += f" {'torch s/epoch':>14}"
    if on_gpu:
        header += f" {'minnet MiB':>11}" + (f" {'torch MiB':>10}" if against is not None else "")
    print(header)
    print("-" * len(header))
    for name, (trainer, nets) in models.items():
        images, labels = batch_for(trainer.config)
        steps = EPOCH_IMAGES // trainer.config.batch_size
        step = minnet_step(trainer, images, labels)
        ms = time_ms(step, args.repeats, synchronize=backend.synchronize, clock=clock)
        row = f"{name:<17} {trainer.config.batch_size:>5} {ms:10.1f}"
        if against is not None:
            t_step = TORCH_STEPS.get(name, torch_step)(trainer, *nets, images, labels, against)
            torch_ms = time_ms(t_step, args.repeats, synchronize=torch_sync, clock=clock)
            row += f" {torch_ms:9.1f} {ms / torch_ms:6.2f}"
        row += f" {ms * steps / 1e3:15.1f}"
        if against is not None:
            row += f" {torch_ms * steps / 1e3:14.1f}"
        if on_gpu:
            row += f" {gpu_peak_mib(step):11.0f}"
            if against is not None:
                row += f" {gpu_peak_mib(t_step, torch):10.0f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
