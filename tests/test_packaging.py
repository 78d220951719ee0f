"""pyproject.toml, requirements.in and requirements.lock declare the same dependencies."""

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.workspace import REPO_ROOT

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
DECLARED = [Requirement(line) for line in PROJECT["dependencies"]] + [
    Requirement(line) for group in PROJECT["optional-dependencies"].values() for line in group
]
LISTED = [
    Requirement(line)
    for line in (
        raw.split("#")[0].strip()
        for raw in (REPO_ROOT / "requirements.in").read_text().splitlines()
    )
    if line
]
LOCKED = {
    canonicalize_name(name): version
    for name, version in re.findall(
        r"^([A-Za-z0-9._-]+)==(\S+)", (REPO_ROOT / "requirements.lock").read_text(), re.M
    )
}


def test_requirements_in_lists_the_distributions_pyproject_declares():
    names = sorted({canonicalize_name(r.name) for r in LISTED})
    assert names == sorted({canonicalize_name(r.name) for r in DECLARED})


@pytest.mark.parametrize("requirement", DECLARED + LISTED, ids=str)
def test_the_locked_version_satisfies_every_declared_range(requirement):
    locked = LOCKED.get(canonicalize_name(requirement.name))
    assert locked is not None, f"{requirement.name} is not in requirements.lock"
    assert requirement.specifier.contains(locked, prereleases=True), (requirement, locked)
