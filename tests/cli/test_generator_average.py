"""cdcgan samples from the moving average of G's weights; a resumed run continues it exactly."""

from minnet.models import restore
from tests.cli.test_train_sample import FAST, _assert_same_run, _train

SMALL = ["--channels", 8, "--g-average", 0.9, *FAST]


def test_resume_after_an_epoch_continues_the_average_exactly(minnet_cli, tmp_path):
    _train(minnet_cli, "cdcgan", "--epochs", 2, "--out", "whole", *SMALL)
    _train(minnet_cli, "cdcgan", "--epochs", 1, "--out", "split", *SMALL)
    _train(minnet_cli, "cdcgan", "--epochs", 2, "--out", "split", "--resume")
    _assert_same_run(tmp_path / "whole/checkpoint.npz", tmp_path / "split/checkpoint.npz")
    trainer = restore(tmp_path / "split")[0]
    assert trainer.G_average.updates == 8  # 4 steps in each epoch
    assert any(name.startswith("G_average/") for name in trainer.state())
