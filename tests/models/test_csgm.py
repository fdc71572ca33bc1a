"""Paper 000's CSGM: the code gradients, d's target, renders at two sizes, training, checkpoints."""

import itertools

import numpy as np
import pytest

from minnet import backend, gradcheck
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.layers.base import evaluating, input_gradients_only
from minnet.models import build, restore
from minnet.models.csgm_field import (
    CODE_SIZE,
    CODES,
    COORD_SCALE,
    build_network,
    inputs,
    pixel_centre,
    pixel_centres,
    refine_codes,
    render,
)
from minnet.models.csgm_metrics import within_digit_std
from minnet.training.checkpoint import save_checkpoint
from minnet.training.runner import checkpoint_path, load_run, train

SMALL = {"batch_size": 32, "pixels": 16, "visit_steps": 2, "d_ramp": 4, "refine_steps": 2, "eval_samples": 0}


@pytest.fixture(scope="module")
def data():
    return load_mnist("train_full", limit=256)


def _trained(data, steps=8, **overrides):
    """A csgm trainer after ``steps`` steps over ``data`` (as many passes as that takes)."""
    trainer = build("csgm", {**SMALL, **overrides}, seed=0)
    trainer.prepare(data)
    passes = (
        data.batches(trainer.config.batch_size, np.random.default_rng(p), with_indices=True) for p in range(steps)
    )
    for (x, y, rows), _ in zip(itertools.chain.from_iterable(passes), range(steps)):
        trainer.train_step(x, y, rows)
    return trainer


def _net64(seed=0):
    return build_network(np.random.default_rng(seed)).astype(np.float64)


def _code_problem(rng, n=3, pixels=5):
    labels = backend.to_device(rng.integers(0, 10, n))
    codes = backend.to_device(rng.standard_normal((n, CODE_SIZE)))
    coords = backend.to_device(rng.uniform(-COORD_SCALE, COORD_SCALE, (n, pixels, 2)))
    return labels, codes, coords


def test_input_gradient_of_the_codes_matches_central_differences(device, rng):
    """dE/dL read from the L-columns of dE/dX (summed over an image's pixels) is the true one."""
    net = _net64()
    labels, codes, coords = _code_problem(rng)
    before = {k: backend.to_numpy(v).copy() for k, v in net.named_grads().items()}

    def backward(gys):
        with input_gradients_only(net):
            net.forward(inputs(labels, codes, coords))
            gx = net.backward(gys[0])
        return {"codes": gx[:, CODES].reshape(len(codes), -1, CODE_SIZE).sum(axis=1)}

    gradcheck.check(
        lambda: net.forward(inputs(labels, codes, coords)), backward, {"codes": codes}, rtol=1e-4, atol=1e-8
    )
    for name, grad in net.named_grads().items():  # the weights' gradients were left alone
        np.testing.assert_array_equal(backend.to_numpy(grad), before[name])


def test_refinement_steps_down_the_gradient_of_d_target_one(device, rng):
    """Algorithm 2: one step moves L by -lr dE/dL, E = sum over the 28x28 centres of (d - 1)^2."""
    net = _net64()
    labels, codes, _ = _code_problem(rng, n=1)
    centres = backend.to_device(pixel_centres(28))

    def energy():
        with evaluating(net):
            d = net.forward(inputs(labels, codes, centres))[:, 0]
        return float(((d - 1) ** 2).sum())

    expected = codes - 0.01 * backend.to_device(gradcheck.numerical_gradient(energy, codes))
    refined = refine_codes(net, labels, codes, steps=1, lr=0.01)
    np.testing.assert_allclose(backend.to_numpy(refined), backend.to_numpy(expected), rtol=1e-5, atol=1e-9)


def test_training_moves_each_code_by_its_pixels_gradient(data):
    """Eq. 3.4: L_i <- L_i - code_lr * sum over its pixels of d[(g - y)^2 + (d - m_i)^2]/dL_i,
    at the weights before the step; checked in float64 against central differences."""
    trainer = _trained(data, steps=2, visit_steps=1, code_max_step=1e9)  # no step shortened
    x, y, rows = next(data.batches(32, np.random.default_rng(7), with_indices=True))
    codes_before = trainer.per_example["codes"][rows].astype(np.float64)
    visits = trainer.per_example["visits"][rows]
    net = build_network(np.random.default_rng(0)).astype(np.float64)
    net.load_state_dict(trainer.net.state_dict())
    state = trainer.rng.bit_generator.state
    pick_rows, pick_cols = np.divmod(trainer.pixel_order(32), 28)  # the pixels the step will pick
    trainer.rng.bit_generator.state = state
    coords = np.stack([pixel_centre(pick_cols), pixel_centre(pick_rows)], axis=-1)
    pixels = x[np.arange(32)[:, None], pick_rows, pick_cols].reshape(-1)
    d_target = np.repeat(trainer.d_targets(visits), SMALL["pixels"])

    def error(codes):
        with evaluating(net):
            out = net.forward(inputs(y, codes, coords))
        return float(((out[:, 1] - pixels) ** 2).sum() + ((out[:, 0] - d_target) ** 2).sum())

    checked = codes_before[:3].copy()  # the codes of the batch's first 3 images
    gradient = gradcheck.numerical_gradient(lambda: error(np.concatenate([checked, codes_before[3:]])), checked)
    trainer.train_step(x, y, rows)
    moved = (codes_before - trainer.per_example["codes"][rows])[:3] / trainer.config.code_lr
    np.testing.assert_allclose(moved, gradient, rtol=2e-2, atol=2e-3 * np.abs(gradient).max())


@pytest.mark.parametrize("visit_steps, pixels", [(49, 16), (3, 400)])
def test_a_visit_shows_every_pixel_once_before_any_twice(visit_steps, pixels):
    """Algorithm 1's pass over an image's pixels: 49 x 16 = 784 draws are each pixel once; 3 x
    400 = 1,200 are every pixel once, then 416 distinct ones; images get different orders."""
    trainer = build("csgm", {**SMALL, "visit_steps": visit_steps, "pixels": pixels}, seed=0)
    order = trainer.pixel_order(5)
    assert order.shape == (5, visit_steps * pixels)
    for image in order:
        np.testing.assert_array_equal(np.sort(image[:784]), np.arange(784))
        assert len(set(image[784:])) == len(image[784:])
    assert not np.array_equal(order[0], order[1])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_weights_gradient_is_clipped_unless_clip_norm_is_zero(optimizer):
    assert build("csgm", {**SMALL, "optimizer": optimizer}, seed=0).optimizers["net"].clip_norm == 1.0
    assert build("csgm", {**SMALL, "optimizer": optimizer, "clip_norm": 0}, seed=0).optimizers["net"].clip_norm is None


def test_a_code_step_is_shortened_to_code_max_step(device):
    trainer = build("csgm", {**SMALL, "code_lr": 2.0, "code_max_step": 1.0}, seed=0)
    gradients = np.zeros((3, CODE_SIZE))
    gradients[0, 0], gradients[1, :2], gradients[2, 5] = 0.25, [3.0, 4.0], -7.0  # steps of norm 0.5, 10, 14
    steps = backend.to_numpy(trainer.code_steps(backend.to_device(gradients)))
    np.testing.assert_allclose(steps[0], 2.0 * gradients[0])  # short steps are kept
    np.testing.assert_allclose(steps[1, :2], [0.6, 0.8])  # long ones keep their direction, norm 1
    np.testing.assert_allclose(np.linalg.norm(steps, axis=1), [0.5, 1.0, 1.0])


def test_d_target_rises_linearly_with_the_visits(data):
    trainer = _trained(data, steps=0)
    np.testing.assert_allclose(trainer.d_targets(np.array([0, 1, 2, 4, 9])), [0, 0.25, 0.5, 1, 1])
    x, y, rows = next(data.batches(32, np.random.default_rng(0), with_indices=True))
    trainer.train_step(x, y, rows)
    visits = backend.to_numpy(trainer.per_example["visits"])
    assert set(visits[rows]) == {SMALL["visit_steps"]} and visits.sum() == 32 * SMALL["visit_steps"]


@pytest.mark.parametrize("sampler", ["gaussian", "paper"])
def test_one_seed_renders_the_same_digit_at_28_and_84_pixels(device, data, sampler):
    """84 = 3 x 28: pixel 3j+1 of the 84-pixel render has the centre of pixel j at 28."""
    trainer = _trained(data)
    labels = np.arange(10)
    small = trainer.sample(10, labels, np.random.default_rng(3), size=28, sampler=sampler)
    large = trainer.sample(10, labels, np.random.default_rng(3), size=84, sampler=sampler)
    assert small.shape == (10, 28, 28) and large.shape == (10, 84, 84)
    assert small.std() > 0.01  # the renders show something, so agreeing means something
    np.testing.assert_allclose(large[:, 1::3, 1::3], small, atol=1e-5)


def test_a_few_steps_lower_the_pixel_error_on_256_images(device, data):
    """The error of the rendered training images (each with its own code) falls with training."""

    def error(trainer):
        labels = backend.to_device(data.labels)
        renders = backend.to_numpy(render(trainer.net, labels, trainer.per_example["codes"], 28))
        return float(np.mean((renders - data.images) ** 2))

    start = _trained(data, steps=0)
    trained = _trained(data, steps=24, pixels=64, visit_steps=4)
    assert error(trained) < 0.95 * error(start)  # measured: 0.108 -> 0.068


def test_within_digit_std():
    images = np.zeros((4, 2, 2))
    images[1] = 1.0  # digit 0: renders 0 and 1 differ by 1 at every pixel (std 0.5); digit 1: equal
    assert within_digit_std(images, np.array([0, 0, 1, 1])) == pytest.approx(0.25)


QUICK_FIGURES = {**SMALL, "refine_steps": 0}  # the per-epoch Algorithm 2 grid without refinement: fast


def _run(directory, data, epochs, trainer=None, position=None):
    trainer = trainer or build("csgm", QUICK_FIGURES, seed=0)
    if position is None:
        trainer.prepare(data)
    meta = {"model": "csgm", "config": QUICK_FIGURES, "seed": 0}
    directory.mkdir(exist_ok=True)
    train(trainer, data, str(directory), meta, epochs=epochs, position=position, say=lambda *_: None)
    return trainer


def test_checkpoint_holds_every_code_and_resume_is_exact(tmp_path):
    data = load_mnist("train_full", limit=64)
    straight = _run(tmp_path / "straight", data, epochs=2)
    _run(tmp_path / "halves", data, epochs=1)
    arrays, _, position = load_run(checkpoint_path(str(tmp_path / "halves")))
    assert arrays["per_example/codes"].shape == (64, CODE_SIZE)
    resumed = build("csgm", QUICK_FIGURES, seed=99)
    resumed.load_state(arrays)
    np.testing.assert_array_equal(backend.to_numpy(resumed.per_example["codes"]), arrays["per_example/codes"])
    _run(tmp_path / "halves", data, epochs=2, trainer=resumed, position=position)
    for name in ("codes", "visits", "labels"):
        np.testing.assert_array_equal(
            backend.to_numpy(resumed.per_example[name]), backend.to_numpy(straight.per_example[name])
        )
    for name, value in straight.net.state_dict().items():
        np.testing.assert_array_equal(resumed.net.state_dict()[name], value)
    for folder in ("samples", "samples-paper", "render-300px"):
        assert (tmp_path / "halves" / folder / "epoch-002.png").is_file()


def test_a_checkpoint_from_before_the_coordinate_change_is_refused(tmp_path):
    """A run saved before ``model_format`` 2 put the image on [-4, 4] would render nonsense:
    restore says so instead of loading it."""
    trainer = build("csgm", QUICK_FIGURES, seed=0)
    save_checkpoint(tmp_path / "old.npz", trainer.state(), {"model": "csgm", "config": QUICK_FIGURES, "seed": 0})
    with pytest.raises(MinnetError, match=r"format 1, .* reads format 2 .*\[-4, 4\].*train it again"):
        restore(tmp_path / "old.npz")
