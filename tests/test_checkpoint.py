import os

import numpy as np
import pytest

from minnet.errors import MinnetError
from minnet.training.checkpoint import load_checkpoint, save_checkpoint
from minnet.training.runner import load_run


def test_round_trip(tmp_path):
    path = tmp_path / "run.npz"
    arrays = {"G.0.W": np.arange(6, dtype=np.float32).reshape(2, 3), "steps": np.asarray(4)}
    save_checkpoint(path, arrays, {"model": "gan", "lr": 1e-4, "nested": {"a": [1, 2]}})
    loaded, config = load_checkpoint(path)
    assert config == {"model": "gan", "lr": 1e-4, "nested": {"a": [1, 2]}}
    np.testing.assert_array_equal(loaded["G.0.W"], arrays["G.0.W"])
    assert loaded["G.0.W"].dtype == np.float32
    assert os.listdir(tmp_path) == ["run.npz"]  # no temporary file left behind


def test_overwrite_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    save_checkpoint(path, {"x": np.ones(3)}, {"v": 1})

    def broken_savez(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"x": np.zeros(3)}, {"v": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)[1] == {"v": 1}
    assert os.listdir(tmp_path) == ["run.npz"]


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 100, os.urandom(4096), b"PK\x03\x04 truncated zip"],
    ids=["empty", "zeros", "random", "truncated-zip"],
)
def test_garbage_raises_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(MinnetError, match="bad.npz"):
        load_checkpoint(path)


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    save_checkpoint(path, {"x": np.ones(1000)}, {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MinnetError, match="run.npz"):
        load_checkpoint(path)


def test_foreign_npz_and_pickles_are_refused(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.ones(2))
    with pytest.raises(MinnetError, match="not a minnet checkpoint"):
        load_checkpoint(foreign)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, __format__=np.asarray("minnet-checkpoint-1"), obj=np.asarray([{"a": 1}], dtype=object))
    with pytest.raises(MinnetError, match="pickled.npz"):
        load_checkpoint(pickled)


def test_missing_file(tmp_path):
    with pytest.raises(MinnetError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.npz")


def test_unwritable_directory(tmp_path):
    with pytest.raises(MinnetError, match="cannot write"):
        save_checkpoint(tmp_path / "missing-dir" / "x.npz", {}, {})


def test_settings_that_are_not_a_json_object_are_refused(tmp_path):
    path = tmp_path / "odd.npz"
    save_checkpoint(path, {"w": np.zeros(2)}, [1, 2])
    with pytest.raises(MinnetError, match="not a JSON object"):
        load_checkpoint(path)


def test_a_run_checkpoint_with_a_foreign_position_is_refused(tmp_path):
    path = tmp_path / "run.npz"
    save_checkpoint(path, {"w": np.zeros(2)}, {"model": "gan", "position": {"epoch": 1, "lap": 3}})
    with pytest.raises(MinnetError, match="position"):
        load_run(path)
