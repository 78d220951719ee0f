"""The page's files: all local (works offline, no CDN), and shipped in the wheel."""

import os
import re
import shutil
import subprocess
import sys
import zipfile

from mnist_mlops.serving.http.page import PAGE_FILES, is_page_path, read_page_file
from tests.helpers.workspace import REPO_ROOT

NAMES = [name for name, _ in PAGE_FILES.values()]


def test_the_page_loads_nothing_from_outside_the_server():
    html = read_page_file("index.html").decode()
    linked = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sorted(linked) == ["/static/app.js", "/static/favicon.svg", "/static/style.css"]
    script = read_page_file("app.js").decode()
    paths = sorted(set(re.findall(r'fetch\("([^"]+)"', script)))
    assert paths == ["/feedback", "/model-info", "/predict/image"]
    for name in NAMES:
        urls = re.findall(r"\w+://[^\s\"')]+", read_page_file(name).decode())
        assert set(urls) <= {"http://www.w3.org/2000/svg"}, (name, urls)  # SVG's namespace


def test_only_listed_files_are_page_paths():
    assert all(is_page_path(path) for path in PAGE_FILES)
    assert is_page_path("/static/other.js")  # answered 404 by the page, not by MLflow
    assert not is_page_path("/invocations") and not is_page_path("/index.html")


def test_a_built_wheel_ships_the_page_and_serves_it_when_installed(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, "--no-index", "-q", "-w", str(tmp_path / "dist"), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("mnist_mlops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
        archive.extractall(tmp_path / "installed")
    assert {f"mnist_mlops/serving/http/static/{name}" for name in NAMES} <= shipped
    # The unpacked wheel first on the path: the page is read from there, not from src/.
    check = (
        "import mnist_mlops.serving.http.page as page; print(page.__file__); "
        f"print(sum(len(page.read_page_file(n)) for n in {NAMES!r}))"
    )
    env = os.environ | {"PYTHONPATH": str(tmp_path / "installed")}
    answer = subprocess.run(
        [sys.executable, "-c", check], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert answer.returncode == 0, answer.stderr
    where, size = answer.stdout.split()
    assert where.startswith(str(tmp_path / "installed"))
    assert int(size) == sum(len(read_page_file(name)) for name in NAMES)
