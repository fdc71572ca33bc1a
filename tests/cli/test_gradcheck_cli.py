"""minnet gradcheck: a table per gradient, exit 0 when all agree, non-zero naming a wrong one."""

import pytest

from minnet.gradcheck_cases import CASES
from minnet.layers.conv import Conv2d
from tests.cli.conftest import assert_user_error


@pytest.mark.parametrize("name", list(CASES))
def test_every_layer_and_loss_passes(minnet_cli, name):
    result = minnet_cli("gradcheck", name)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("with central differences")
    assert "WRONG" not in result.output


def test_prints_errors_per_input_and_parameter(minnet_cli):
    result = minnet_cli("gradcheck", "Conv2d", "--shape", "2,3,7,7", "--kernel", 3, "--stride", 2, "--padding", 1)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Conv2d(3, 3, k=3, stride=2, pad=1) at input (2, 3, 7, 7), float64"
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["input"], ["W"], ["b"])}
    assert rows["input"][1] == "294" and rows["W"][1] == "81" and rows["b"][1] == "3"  # elements
    assert all(row[-1] == "ok" and float(row[2]) < 1e-6 and float(row[3]) < 1e-4 for row in rows.values())


def test_float32_runs_with_looser_tolerances(minnet_cli):
    result = minnet_cli("gradcheck", "LSTMCell", "--dtype", "float32")
    assert result.exit_code == 0, result.output
    assert "float32" in result.output.splitlines()[0]


def test_a_broken_backward_exits_non_zero_naming_the_parameter(minnet_cli, monkeypatch):
    """A Conv2d whose weight gradient is off by a factor of two (as a sign slip or a missing
    factor would make it): the input and bias gradients still pass, W does not."""
    correct_backward = Conv2d.backward

    def broken_backward(self, gy):
        gx = correct_backward(self, gy)
        self.grads["W"] *= 2
        return gx

    monkeypatch.setattr(Conv2d, "backward", broken_backward)
    result = minnet_cli("gradcheck", "Conv2d")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    verdicts = {row[0]: row[-1] for row in rows if row[:1] in (["input"], ["W"], ["b"])}
    assert verdicts == {"input": "ok", "W": "WRONG", "b": "ok"}
    assert result.stderr.strip().splitlines()[-1] == "gradient check failed for: W"


def test_unknown_name_and_bad_options_are_one_line(minnet_cli):
    assert_user_error(minnet_cli("gradcheck", "Conv3d"), "no gradient check named 'Conv3d'; did you mean Conv2d")
    assert_user_error(minnet_cli("gradcheck", "zzz"), "no gradient check named 'zzz'; choose one of:", "gaussian_kl")
    assert_user_error(minnet_cli("gradcheck", "Conv2d", "--shape", "2,3"), "--shape needs 4 sizes")
    assert_user_error(
        minnet_cli("gradcheck", "Conv2d", "--shape", "2,3,2,2", "--kernel", 5, "--padding", 0),
        "Conv2d(3, 3, k=5, stride=1, pad=0) expects input of shape (B, 3, H, W) with H and W at least 5",
    )


@pytest.mark.parametrize(
    "spelled, name",
    [
        ("dense", "Dense"),
        ("relu", "ReLU"),
        ("conv2d", "Conv2d"),
        ("batchnorm", "BatchNorm"),
        ("SOFTMAX_CROSS_ENTROPY", ""),
    ],
)
def test_names_match_whatever_their_case(minnet_cli, spelled, name):
    result = minnet_cli("gradcheck", spelled)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(name or "losses.softmax_cross_entropy")


def test_a_close_misspelling_is_suggested(minnet_cli):
    assert_user_error(minnet_cli("gradcheck", "batchnrom"), "did you mean BatchNorm?")
    assert_user_error(minnet_cli("gradcheck", "LSTMcel"), "did you mean LSTMCell")


@pytest.mark.parametrize(
    "args, message",
    [
        (["Dense", "--kernel", 3], "Dense does not take --kernel: it has no window"),
        (["relu", "--stride", 2, "--padding", 1], "ReLU does not take --stride, --padding: it has no window"),
        (["Read", "--stride", 2], "Read does not take --stride: it takes only --kernel"),
    ],
)
def test_an_option_the_case_does_not_take_is_an_error(minnet_cli, args, message):
    assert_user_error(minnet_cli("gradcheck", *args), message)


def test_options_the_case_takes_still_work(minnet_cli):
    for args in (["MaxPool2d", "--kernel", 3, "--stride", 1], ["Filterbank", "--kernel", 2]):
        result = minnet_cli("gradcheck", *args)
        assert result.exit_code == 0, result.output


def test_the_summary_reads_right_for_one_and_for_several(minnet_cli):
    one = minnet_cli("gradcheck", "ReLU")  # the input alone
    assert one.output.splitlines()[-1] == "the 1 gradient agrees with central differences"
    three = minnet_cli("gradcheck", "Dense")  # input, W and b
    assert three.output.splitlines()[-1] == "all 3 gradients agree with central differences"
