"""load_mnist and Dataset: the sample fallback, splits, binarization, batches, bad arguments."""

import warnings

import numpy as np
import pytest

from minnet.data import SPLITS, load_mnist
from minnet.data.sample import SAMPLE_PATH
from minnet.errors import MinnetError, MinnetWarning
from tests.data.helpers import FULL_SET_DIR, needs_full_set

SAMPLE_SIZES = {"train": 29_000, "validation": 1_000, "test": 1_000, "train_full": 30_000}
FULL_SIZES = {"train": 50_000, "validation": 10_000, "test": 10_000, "train_full": 60_000}


def load_quietly(split, **options):
    """load_mnist with the sample-fallback warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MinnetWarning)
        return load_mnist(split, **options)


def test_offline_falls_back_to_the_sample_with_one_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train = load_mnist("train")
    ours = [warning for warning in caught if issubclass(warning.category, MinnetWarning)]
    assert len(ours) == 1
    message = str(ours[0].message)
    assert "\n" not in message
    assert "minnet data fetch" in message and "MINNET_DATA_DIR" in message
    assert "could not be downloaded" in message and "30,000 digits bundled" in message
    assert len(message) < 200 and "http" not in message  # one short line, no mirror errors
    assert (train.source, train.location) == ("sample", str(SAMPLE_PATH))


@pytest.mark.parametrize("split", SPLITS)
def test_sample_splits(split):
    dataset = load_quietly(split)
    assert len(dataset) == SAMPLE_SIZES[split]
    assert dataset.images.shape == (SAMPLE_SIZES[split], 28, 28)
    assert dataset.images.dtype == np.float32 and dataset.labels.dtype == np.int64
    assert dataset.images.min() >= 0 and dataset.images.max() <= 1
    assert dataset.split == split


def test_validation_is_the_end_of_train_full():
    train_full = load_quietly("train_full")
    train, validation = load_quietly("train"), load_quietly("validation")
    np.testing.assert_array_equal(
        np.concatenate([train.labels, validation.labels]), train_full.labels
    )
    np.testing.assert_array_equal(validation.images, train_full.images[-1_000:])


@needs_full_set
@pytest.mark.parametrize("split", SPLITS)
def test_full_set_splits(split):
    dataset = load_mnist(split, data_dir=FULL_SET_DIR)
    assert len(dataset) == FULL_SIZES[split] == len(dataset.images)
    assert (dataset.source, dataset.location) == ("full", FULL_SET_DIR)
    assert dataset.images.dtype == np.float32 and dataset.images.max() == 1.0


def test_limit_keeps_the_first_digits_mixed():
    first = load_quietly("train", limit=100)
    assert len(first) == 100
    np.testing.assert_array_equal(first.labels, load_quietly("train").labels[:100])
    assert len(np.unique(first.labels)) == 10
    assert len(load_quietly("validation", limit=10_000)) == 1_000


def test_static_binarization_is_fixed_and_consistent_across_splits():
    one, two = (
        load_quietly("train_full", binarize="static"),
        load_quietly("train_full", binarize="static"),
    )
    np.testing.assert_array_equal(one.images, two.images)
    assert set(np.unique(one.images)) == {0.0, 1.0}
    validation = load_quietly("validation", binarize="static", limit=50)
    start = SAMPLE_SIZES["train"]
    np.testing.assert_array_equal(validation.images, one.images[start : start + 50])
    other_seed = load_quietly("train_full", binarize="static", seed=1)
    assert not np.array_equal(other_seed.images, one.images)


def test_binarization_follows_pixel_intensity():
    grey = load_quietly("train_full").images
    binary = load_quietly("train_full", binarize="static").images
    assert np.all(binary[grey == 0] == 0) and np.all(binary[grey == 1] == 1)
    middle = (grey > 0.4) & (grey < 0.6)
    assert abs(binary[middle].mean() - grey[middle].mean()) < 0.03


def test_dynamic_binarization_differs_from_static_and_between_epochs():
    static = load_quietly("test", binarize="static")
    dynamic = load_quietly("test", binarize="dynamic")
    np.testing.assert_array_equal(dynamic.images, load_quietly("test").images)  # kept grey
    rng = np.random.default_rng(0)
    first = next(dynamic.batches(1_000, rng, shuffle=False))[0]
    second = next(dynamic.batches(1_000, rng, shuffle=False))[0]
    assert set(np.unique(first)) == {0.0, 1.0}
    assert not np.array_equal(first, static.images)
    assert not np.array_equal(first, second)


def test_batches_shapes_dtypes_and_coverage():
    dataset = load_quietly("test", limit=250)
    batches = list(dataset.batches(64, np.random.default_rng(0)))
    assert len(batches) == 3
    for images, labels in batches:
        assert images.shape == (64, 28, 28) and images.dtype == np.float32
        assert labels.shape == (64,) and labels.dtype == np.int64
    kept = list(dataset.batches(64, np.random.default_rng(0), shuffle=False, drop_last=False))
    assert [len(labels) for _, labels in kept] == [64, 64, 64, 58]
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in kept]), dataset.labels)
    shuffled = np.concatenate([labels for _, labels in batches])
    assert not np.array_equal(shuffled, dataset.labels[:192])


def test_same_rng_seed_same_batches():
    dataset = load_quietly("test", binarize="dynamic", limit=100)
    one = list(dataset.batches(10, np.random.default_rng(5)))
    two = list(dataset.batches(10, 5))
    for (images_a, labels_a), (images_b, labels_b) in zip(one, two, strict=True):
        np.testing.assert_array_equal(images_a, images_b)
        np.testing.assert_array_equal(labels_a, labels_b)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"split": "training"}, "unknown split 'training'"),
        ({"split": "train", "binarize": "always"}, "unknown binarization 'always'"),
        ({"split": "train", "limit": 0}, "limit must be a positive integer"),
        ({"split": "train", "limit": 2.5}, "limit must be a positive integer"),
    ],
)
def test_bad_arguments(options, match):
    with pytest.raises(MinnetError, match=match):
        load_quietly(**options)


@pytest.mark.parametrize(("batch_size", "match"), [(0, "positive integer"), (101, "larger than")])
def test_bad_batch_size(batch_size, match):
    dataset = load_quietly("test", limit=100)
    with pytest.raises(MinnetError, match=match):
        dataset.batches(batch_size, np.random.default_rng(0))


def test_reads_a_folder_given_as_data_dir(fake_mnist):
    test = load_mnist("test", data_dir=fake_mnist.directory)
    np.testing.assert_array_equal(
        test.images, fake_mnist.arrays["test", "images"] / np.float32(255)
    )
    assert len(load_mnist("train", data_dir=fake_mnist.directory)) == 6
    assert len(load_mnist("validation", data_dir=fake_mnist.directory)) == 4


def test_digits_keep_those_digits_in_order_before_the_limit():
    everything = load_quietly("train")
    chosen = load_quietly("train", digits=[4, 0], limit=300)
    wanted = np.isin(everything.labels, [0, 4])
    np.testing.assert_array_equal(chosen.labels, everything.labels[wanted][:300])
    np.testing.assert_array_equal(chosen.images, everything.images[wanted][:300])
    static = load_quietly("train", digits=[7], binarize="static")
    all_static = load_quietly("train", binarize="static")
    np.testing.assert_array_equal(static.images, all_static.images[everything.labels == 7])


@pytest.mark.parametrize("digits", [[], [10], [-1], [2, 2], [1.5]])
def test_bad_digits_are_refused(digits):
    with pytest.raises(MinnetError, match="digit"):
        load_quietly("train", digits=digits)
