"""MLflow's scoring app behind a guard: limits, JSON errors, pictures, the page, a fast path.

:class:`GuardedScoringApp` serves the same app as ``mlflow models serve`` (MLflow's
``scoring_server.init`` for the same model) and answers first, in JSON:

* ``POST /invocations``: a media type other than MLflow's or a picture's, or a charset other
  than UTF-8, gets 415; a body over ``max_body_bytes`` 413, one slower than ``read_timeout_s``
  408 (:mod:`.bodies`); JSON bodies are checked by :mod:`.json_requests` (400); ``inputs`` /
  ``instances`` of ``(N, 784)``, ``(28, 28)`` or ``(N, 28, 28)`` digits are answered here
  (the records MLflow writes); PNG/JPEG bodies and uploads by :mod:`.image_requests`;
* ``POST /predict/image``: pictures, answered with each file's ``name`` and the 28x28
  ``image`` the model saw;
* ``GET /model-info`` (:mod:`~mnist_mlops.serving.runtime.model_info`) and the page
  (:mod:`.page`).

Everything else (``dataframe_split``, ``dataframe_records``, ``params``, CSV, Parquet,
``/ping``, ``/health``, ``/version``) goes to MLflow's app, body replayed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from mlflow.exceptions import MlflowException
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mnist_mlops.config.constants import MAX_PIXEL, SERVE_READ_TIMEOUT_S
from mnist_mlops.errors import InputError, RequestRejectedError
from mnist_mlops.serving.http.bodies import (
    CONTENT_TYPES,
    JSON_TYPE,
    check_charset,
    check_content_type,
    error_response,
    read_body,
    replay,
)
from mnist_mlops.serving.http.image_requests import MEDIA_TYPES, png_data_url, read_image_request
from mnist_mlops.serving.http.json_requests import PARAMS_FIELD, check_numbers, decode_json_request
from mnist_mlops.serving.http.page import is_page_path, page_response
from mnist_mlops.serving.runtime.inputs import to_pixel_rows
from mnist_mlops.serving.runtime.model_info import ServedModel, resolve_model
from mnist_mlops.serving.runtime.predictions import probability_records
from mnist_mlops.serving.runtime.pyfunc import DigitClassifier

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # 1,000 digits of 784 full-precision floats fit
FAST_FIELDS = ("inputs", "instances")
INLINE_ROWS = 64  # larger batches run in a worker thread, so /ping stays responsive
INLINE_BYTES = 1024 * 1024  # ... and larger JSON bodies are decoded in one
INVOCATIONS, PREDICT_IMAGE, MODEL_INFO = "/invocations", "/predict/image", "/model-info"
INVOCATION_TYPES = (*CONTENT_TYPES, *MEDIA_TYPES)


def _digit_classifier(model: Any) -> DigitClassifier | None:
    """The loaded model's :class:`DigitClassifier`, or ``None`` for any other model."""
    try:
        unwrapped = model.unwrap_python_model()
    except (AttributeError, MlflowException):  # not a python model (another flavor)
        return None
    return unwrapped if isinstance(unwrapped, DigitClassifier) else None


async def _run(function: Callable[[Any], Any], argument: Any, in_thread: bool) -> Any:
    """Call ``function(argument)``, in a worker thread when asked (a large body)."""
    return await asyncio.to_thread(function, argument) if in_thread else function(argument)


class GuardedScoringApp:
    """An ASGI app: the guard described in the module docstring, then MLflow's scoring app."""

    def __init__(
        self,
        model: Any,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        served: ServedModel | None = None,
        read_timeout_s: float = SERVE_READ_TIMEOUT_S,
    ) -> None:
        """Guard MLflow's scoring app for ``model`` (a ``PyFuncModel``); ``served`` names it."""
        from mlflow.pyfunc import scoring_server

        self.model = model
        self.max_body_bytes = max_body_bytes
        self.served = served
        self.read_timeout_s = read_timeout_s
        self.scoring_app = scoring_server.init(model)
        self.classifier = _digit_classifier(model)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        method, path = scope.get("method", ""), scope.get("path", "")
        if scope["type"] != "http":
            await self.scoring_app(scope, receive, send)
        elif method == "POST" and path in (INVOCATIONS, PREDICT_IMAGE):
            await self._post(scope, receive, send)
        elif method in ("GET", "HEAD") and path == MODEL_INFO:
            info = json.dumps(self.model_info()).encode()
            await Response(info, 200, media_type=JSON_TYPE)(scope, receive, send)
        elif method in ("GET", "HEAD") and is_page_path(path):
            await page_response(path)(scope, receive, send)
        else:
            await self.scoring_app(scope, receive, send)

    def model_info(self) -> dict[str, Any]:
        """Return what ``/model-info`` answers: the served model and the run that logged it."""
        served = self.served.as_dict() if self.served else dict.fromkeys(ServedModel.FIELDS)
        return {**served, "run_id": getattr(self.model.metadata, "run_id", None)}

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``POST /invocations`` or ``/predict/image``, or hand it to MLflow's app."""
        request = Request(scope, receive)
        with_images = scope["path"] == PREDICT_IMAGE
        answer: bytes | None = None
        try:
            allowed = MEDIA_TYPES if with_images else INVOCATION_TYPES
            media_type = check_content_type(request, allowed)
            if media_type in CONTENT_TYPES:
                check_charset(request)
            body = await read_body(request, self.max_body_bytes, self.read_timeout_s)
            if media_type in MEDIA_TYPES:
                content_type = request.headers.get("content-type", "")
                answer = await self._pictures(media_type, content_type, body, with_images)
            elif media_type == JSON_TYPE:
                answer = await self._fast_path(body)
        except RequestRejectedError as exc:
            await error_response(exc)(scope, receive, send)
            return
        except ConnectionAbortedError:
            return
        if answer is None:
            # MLflow's app compares the media type case-sensitively and answers unknown
            # parameters in plain text: it gets the checked, bare type.
            MutableHeaders(scope=scope)["content-type"] = media_type
            await self.scoring_app(scope, replay(body), send)
        else:
            await Response(answer, 200, media_type=JSON_TYPE)(scope, receive, send)

    def _records(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """The JSON records MLflow would write for the model's answer to validated ``rows``.

        A :class:`~mnist_mlops.serving.runtime.pyfunc.DigitClassifier` answers through its network
        directly (the same probabilities as its ``predict``, without the DataFrame); any
        other model through MLflow's ``predict``.
        """
        if self.classifier is not None:
            return probability_records(self.classifier.probabilities(rows))
        from mlflow.pyfunc.scoring_server import predictions_to_json

        written = io.StringIO()
        predictions_to_json(self.model.predict(rows), written)
        return json.loads(written.getvalue())["predictions"]

    async def _predict(self, rows: Any) -> list[dict[str, Any]]:
        """Return the model's records for ``rows``, rejecting bad input with HTTP 400."""
        try:
            rows = to_pixel_rows(rows)
            if len(rows) <= INLINE_ROWS:
                predictions = self._records(rows)
            else:
                predictions = await asyncio.to_thread(self._records, rows)
        except InputError as exc:
            raise RequestRejectedError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
        except MlflowException as exc:
            raise RequestRejectedError(
                exc.get_http_status_code(), exc.error_code, exc.message
            ) from None
        return predictions

    async def _fast_path(self, body: bytes) -> bytes | None:
        """Answer an ``inputs``/``instances`` request, or return ``None`` to defer to MLflow.

        Either way the body is checked first (:func:`decode_json_request`): MLflow's app only
        gets requests of its own fields, with finite numbers.
        """
        in_thread = len(body) > INLINE_BYTES
        request = await _run(decode_json_request, body, in_thread)
        field = next(iter(request))
        if field not in FAST_FIELDS or PARAMS_FIELD in request:
            await _run(check_numbers, request, in_thread)
            return None  # MLflow's own parsing and error messages
        predictions = await self._predict(request[field])
        return json.dumps({"predictions": predictions}).encode()

    async def _pictures(
        self, media_type: str, content_type: str, body: bytes, with_images: bool
    ) -> bytes:
        """Answer a request of pictures; ``with_images`` adds each name and 28x28 image."""
        names, digits = await asyncio.to_thread(read_image_request, media_type, content_type, body)
        # Scaled here: to_pixel_rows would take a faint digit whose pixels are all 0 or 1 as
        # already scaled to [0, 1].
        rows = digits.reshape(len(digits), -1).astype(np.float32) / np.float32(MAX_PIXEL)
        predictions = await self._predict(rows)
        if with_images:
            predictions = [
                {**record, "name": name, "image": png_data_url(digit)}
                for record, name, digit in zip(predictions, names, digits, strict=True)
            ]
        return json.dumps({"predictions": predictions}).encode()


def create_app(
    model: str | ServedModel,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    read_timeout_s: float = SERVE_READ_TIMEOUT_S,
) -> GuardedScoringApp:
    """Load a model with MLflow and return the guarded scoring app serving it.

    Args:
        model: Any MLflow model URI, e.g. ``models:/mnist-classifier@champion`` (an alias is
            resolved to its version now), or a model already resolved by
            :func:`~mnist_mlops.serving.runtime.model_info.resolve_model`.
        max_body_bytes: The largest request body accepted (HTTP 413 above it).
        read_timeout_s: The time a request body may take to arrive (HTTP 408 after it).

    Returns:
        An ASGI application (run it with uvicorn).

    Raises:
        MlflowException: Unknown model, version or alias.
    """
    from mlflow.pyfunc.scoring_server import load_model_with_mlflow_config

    served = resolve_model(model) if isinstance(model, str) else model
    loaded = load_model_with_mlflow_config(served.load_uri)
    logger.info("serving %s (%s, body limit %d bytes)", served.uri, served.load_uri, max_body_bytes)
    return GuardedScoringApp(loaded, max_body_bytes, served, read_timeout_s)
