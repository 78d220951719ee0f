import pytest

from mnist_mlops.cli.main import main
from mnist_mlops.cli.serve import _is_loopback


def test_an_unknown_model_fails_before_binding_with_a_clear_message(capsys):
    code = main(["--params", "no-such.yaml", "serve", "-m", "models:/no-such-model@champion"])
    assert code == 1
    assert "cannot load model models:/no-such-model@champion" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        ["--port", "0"],
        ["--max-body-mb", "big"],
        ["--read-timeout-s", "0"],
        ["--read-timeout-s", "nan"],
        ["--read-timeout-s", "soon"],
        ["--max-concurrency", "0"],
    ],
)
def test_bad_options_are_refused_by_name(arguments, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["serve", *arguments])
    assert stop.value.code == 2
    assert arguments[0] in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False)],
)
def test_loopback_hosts_are_told_apart(host, loopback):
    assert _is_loopback(host) is loopback
