"""IDX reading: round trips, gzip detected by content, and each validation failure."""

import gzip
import struct

import numpy as np
import pytest

from minnet.data.idx import read_idx, read_images, read_images_and_labels, read_labels, write_idx
from minnet.errors import MinnetError


def idx_bytes(array, dtype_code=0x08):
    header = bytes([0, 0, dtype_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_bytes(path, contents, compress):
    path.write_bytes(gzip.compress(contents) if compress else contents)
    return path


def assert_one_line_error(path, match, reader, *args):
    with pytest.raises(MinnetError, match=match) as caught:
        reader(*args)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, images, compress):
    path = tmp_path / "images"
    write_idx(path, images, compress=compress)
    np.testing.assert_array_equal(read_images(path), images)
    labels = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / "labels", labels, compress=compress)
    np.testing.assert_array_equal(read_labels(tmp_path / "labels"), labels)


def test_gzip_is_recognised_by_content_not_name(tmp_path, images):
    write_bytes(tmp_path / "raw.gz", idx_bytes(images), compress=False)
    write_bytes(tmp_path / "packed.idx", idx_bytes(images), compress=True)
    np.testing.assert_array_equal(read_images(tmp_path / "raw.gz"), images)
    np.testing.assert_array_equal(read_images(tmp_path / "packed.idx"), images)


def test_write_never_replaces_a_file(tmp_path, images):
    path = write_bytes(tmp_path / "mine", b"precious", compress=False)
    with pytest.raises(FileExistsError):
        write_idx(path, images)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload(tmp_path, images, compress):
    path = write_bytes(tmp_path / "f", idx_bytes(images)[:-100], compress)
    assert_one_line_error(path, "truncated", read_images, path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("size", [2, 10])
def test_truncated_header(tmp_path, images, compress, size):
    path = write_bytes(tmp_path / "f", idx_bytes(images)[:size], compress)
    assert_one_line_error(path, "truncated", read_images, path)


def test_truncated_gzip_stream(tmp_path, images):
    packed = gzip.compress(idx_bytes(images))
    path = write_bytes(tmp_path / "f.gz", packed[: len(packed) // 2], compress=False)
    assert_one_line_error(path, "cannot be read", read_images, path)


@pytest.mark.parametrize("compress", [False, True])
def test_extra_bytes(tmp_path, images, compress):
    path = write_bytes(tmp_path / "f", idx_bytes(images) + b"\0\0", compress)
    assert_one_line_error(path, "unexpected bytes", read_images, path)


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_magic(tmp_path, images, compress):
    path = write_bytes(tmp_path / "f", b"\x01\x02" + idx_bytes(images)[2:], compress)
    assert_one_line_error(path, "not an IDX file", read_images, path)


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_dtype_code(tmp_path, images, compress):
    path = write_bytes(tmp_path / "f", idx_bytes(images, dtype_code=0x0D), compress)
    assert_one_line_error(path, "element type 0x0d", read_images, path)


@pytest.mark.parametrize("compress", [False, True])
def test_wrong_number_of_dimensions(tmp_path, images, compress):
    path = write_bytes(tmp_path / "f", idx_bytes(images), compress)
    assert_one_line_error(path, "3 dimensions, expected 1", read_labels, path)


@pytest.mark.parametrize("compress", [False, True])
def test_images_must_be_28_by_28(tmp_path, compress):
    path = write_bytes(tmp_path / "f", idx_bytes(np.zeros((3, 28, 27))), compress)
    assert_one_line_error(path, "28x27, expected 28x28", read_images, path)


def test_labels_must_be_digits(tmp_path):
    path = write_bytes(tmp_path / "f", idx_bytes(np.array([1, 12, 3])), compress=False)
    assert_one_line_error(path, "label 12", read_labels, path)


@pytest.mark.parametrize("compress", [False, True])
def test_mismatched_counts(tmp_path, images, compress):
    images_path = write_bytes(tmp_path / "images", idx_bytes(images), compress)
    labels_path = write_bytes(tmp_path / "labels", idx_bytes(np.arange(4)), compress)
    with pytest.raises(MinnetError, match="holds 5 images but .* holds 4 labels") as caught:
        read_images_and_labels(images_path, labels_path)
    assert str(images_path) in str(caught.value) and str(labels_path) in str(caught.value)


def test_missing_file(tmp_path):
    path = tmp_path / "absent"
    assert_one_line_error(path, "cannot be read", read_idx, path, 1)
