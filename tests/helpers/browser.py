"""A real headless Chromium (Debian's, driven by Playwright) and pen strokes on the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM_ENV = "MNIST_MLOPS_CHROMIUM"
INSTALL_HINT = (
    "install Debian's Chromium: apt-get install -y chromium (what .ci/run does), or set "
    f"{CHROMIUM_ENV} to a Chromium binary; Playwright's own browser download is not used"
)
# A "4" in three strokes, in fractions of the canvas: down-left, across, then the long down.
FOUR = (
    ((0.42, 0.18), (0.26, 0.58), (0.30, 0.60)),
    ((0.24, 0.60), (0.74, 0.58)),
    ((0.60, 0.22), (0.60, 0.86)),
)
SEVEN_STROKE = ((0.30, 0.22), (0.72, 0.22), (0.45, 0.84))


def chromium_binary() -> str:
    """Return the Chromium to drive, failing the test (never skipping) when there is none."""
    binary = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail(f"no Chromium binary found: {INSTALL_HINT}", pytrace=False)
    return binary


@contextmanager
def browser_page(width: int = 1100, height: int = 860, allowed: tuple[str, ...] = ()) -> Iterator:
    """A new page of a headless Chromium; fails the test on any script error or console error.

    Args:
        width: The viewport's width.
        height: The viewport's height.
        allowed: Parts of console errors that are expected (e.g. a page's own 404 probes).
    """
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary())
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: message.type == "error" and errors.append(message.text),
            )
            yield page
        finally:
            browser.close()
    # The page's own 4xx answers are logged as "Failed to load resource": expected ones only.
    expected = ("the server responded with a status of 400", *allowed)
    unexpected = [e for e in errors if not any(part in e for part in expected)]
    assert unexpected == [], unexpected


def draw(page, strokes, selector: str = "#pad") -> None:
    """Draw ``strokes`` (lists of points in fractions of the canvas) with the mouse."""
    box = page.locator(selector).bounding_box()
    for stroke in strokes:
        points = [
            (box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke
        ]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=12)
        page.mouse.up()
