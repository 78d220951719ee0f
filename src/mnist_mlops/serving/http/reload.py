"""SIGHUP: serve the version the model's alias names now, without a restart.

With ``--workers`` > 1, uvicorn's supervisor handles SIGHUP itself (each worker replaced by a
new one, which resolves the alias again: ``cli/serve.py``). uvicorn's one-process server
leaves SIGHUP alone (its default action ends the process), hence :func:`reload_on_hangup`.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from mnist_mlops.serving.http.app import GuardedScoringApp, create_app
from mnist_mlops.serving.http.metrics import show_served_model

logger = logging.getLogger(__name__)


def reload_model(app: GuardedScoringApp) -> None:
    """Load the model ``app``'s URI names now (an alias resolved again) and serve it.

    Requests in progress finish with the model they started with.

    Raises:
        MlflowException: The URI names no model now (the old one stays served).
    """
    assert app.served is not None
    search_path = list(sys.path)  # loading puts the model's code_paths first
    try:
        fresh: GuardedScoringApp = create_app(
            app.served.uri, app.max_body_bytes, app.read_timeout_s
        )
    finally:
        sys.path[:] = search_path
    app.model, app.scoring_app, app.classifier = fresh.model, fresh.scoring_app, fresh.classifier
    previous, app.served = app.served, fresh.served
    if fresh.served is not None:
        show_served_model(fresh.served.as_dict(), previous.as_dict())
    logger.warning("reloaded: serving %s", fresh.served)


def reload_on_hangup(app: GuardedScoringApp) -> None:
    """Make SIGHUP run :func:`reload_model` on ``app`` in a thread (one at a time)."""
    running = threading.Lock()

    def reload() -> None:
        if not running.acquire(blocking=False):
            return
        try:
            reload_model(app)
        except Exception as exc:  # a failed reload keeps the served model
            logger.error("reload failed, still serving %s: %s", app.served, exc)
        finally:
            running.release()

    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=reload).start())
