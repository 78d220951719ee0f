"""MLflow's scoring server with a guard in front: a body limit, JSON errors and a fast path.

``mlflow models serve`` runs MLflow's generic scoring app. This module serves the same app
(built by MLflow's own ``scoring_server.init`` from the same ``models:/`` URI, same protocol,
same signature enforcement) behind a small ASGI guard that adds what the generic app lacks:

* **a body limit**: a request whose ``Content-Length`` or streamed body exceeds
  ``max_body_bytes`` gets HTTP 413 before the body is buffered (MLflow reads any size);
* **JSON errors everywhere**: an unsupported content type gets HTTP 415 with a JSON
  ``message`` (MLflow answers it in plain text);
* **28x28 images**: ``{"inputs": ...}`` / ``{"instances": ...}`` may hold ``(28, 28)`` or
  ``(N, 28, 28)`` arrays (MLflow's tensor check admits one rank, ``(-1, 784)``);
* **a fast path** for ``inputs`` / ``instances`` JSON: the body is decoded once, validated
  and scaled by :func:`~mnist_mlops.serving.inputs.to_pixel_rows`, and handed to the loaded
  pyfunc's ``predict`` as a ``(N, 784)`` float32 array, where MLflow enforces the signature.
  MLflow's generic path decodes the JSON twice and deep-copies it, which costs more than the
  network itself for one digit.

Everything else (``dataframe_split``, ``dataframe_records``, ``params``, CSV, Parquet, ``/ping``,
``/health``, ``/version``) goes to MLflow's app unchanged, body replayed. The ASGI plumbing
(bounded body read, JSON answers, replay) is in :mod:`.asgi`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from mlflow.exceptions import MlflowException

from mnist_mlops.errors import InputError, RequestRejectedError
from mnist_mlops.serving.asgi import (
    Receive,
    Scope,
    Send,
    check_content_type,
    read_body,
    replay,
    send_json,
)
from mnist_mlops.serving.inputs import to_pixel_rows

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # 1,000 digits of 784 full-precision floats fit
FAST_FIELDS = ("inputs", "instances")
INLINE_ROWS = 64  # larger batches run in a worker thread, so /ping stays responsive


class GuardedScoringApp:
    """An ASGI app: the guard described in the module docstring, then MLflow's scoring app."""

    def __init__(self, model: Any, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        """Build MLflow's scoring app for ``model`` (a loaded ``PyFuncModel``) and guard it."""
        from mlflow.pyfunc import scoring_server

        self.model = model
        self.max_body_bytes = max_body_bytes
        self.scoring_app = scoring_server.init(model)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        if not (
            scope["type"] == "http"
            and scope["path"] == "/invocations"
            and scope["method"] == "POST"
        ):
            await self.scoring_app(scope, receive, send)
            return
        try:
            media_type = check_content_type(scope)
            body = await read_body(scope, receive, self.max_body_bytes)
            answer = await self._fast_path(body) if media_type == "application/json" else None
        except RequestRejectedError as exc:
            payload = {"error_code": exc.error_code, "message": exc.message}
            await send_json(send, exc.status, json.dumps(payload).encode())
            return
        except ConnectionAbortedError:
            return
        if answer is None:
            await self.scoring_app(scope, replay(body), send)
        else:
            await send_json(send, 200, answer)

    async def _fast_path(self, body: bytes) -> bytes | None:
        """Answer an ``inputs``/``instances`` request, or return ``None`` to defer to MLflow."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestRejectedError(
                400, "BAD_REQUEST", f"the body is not valid JSON: {exc}"
            ) from None
        if (
            not isinstance(request, dict)
            or len(request) != 1
            or next(iter(request)) not in FAST_FIELDS
        ):
            return None  # MLflow's own parsing and error messages
        try:
            rows = to_pixel_rows(next(iter(request.values())))
            if len(rows) <= INLINE_ROWS:
                predictions = self.model.predict(rows)
            else:
                predictions = await asyncio.to_thread(self.model.predict, rows)
        except InputError as exc:
            raise RequestRejectedError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
        except MlflowException as exc:
            raise RequestRejectedError(
                exc.get_http_status_code(), exc.error_code, exc.message
            ) from None
        return json.dumps({"predictions": predictions}).encode()


def create_app(model_uri: str, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> GuardedScoringApp:
    """Load ``model_uri`` with MLflow and return the guarded scoring app serving it.

    Args:
        model_uri: Any MLflow model URI, e.g. ``models:/mnist-classifier@champion``.
        max_body_bytes: The largest request body accepted (HTTP 413 above it).

    Returns:
        An ASGI application (run it with uvicorn).
    """
    from mlflow.pyfunc.scoring_server import load_model_with_mlflow_config

    model = load_model_with_mlflow_config(model_uri)
    logger.info("serving %s (body limit %d bytes)", model_uri, max_body_bytes)
    return GuardedScoringApp(model, max_body_bytes)
