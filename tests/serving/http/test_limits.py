import pytest

from mnist_mlops.serving.http.limits import LOOPBACK_NAMES, allowed_host_names


@pytest.mark.parametrize(
    ("host", "own"),
    [
        ("127.0.0.1", []),
        ("0.0.0.0", []),
        ("::", []),
        ("::1", []),
        ("10.0.0.7", ["10.0.0.7"]),
        ("fd00::7", ["[fd00::7]"]),
        ("digits.lan", ["digits.lan"]),
    ],
)
def test_the_loopback_names_and_the_bound_host_are_answered(host, own):
    assert allowed_host_names(host) == [*LOOPBACK_NAMES, *own]


def test_more_names_can_be_allowed():
    assert allowed_host_names("0.0.0.0", ["*.example.org", "localhost"]) == [
        *LOOPBACK_NAMES,
        "*.example.org",
    ]
