"""MLflow's scoring app (``scoring_server.init``) behind a guard that answers first, in JSON.

* ``POST /invocations``: 415 for a media type neither MLflow's nor a picture's, or a charset but
  UTF-8; 413/408 for a body too large or too slow (:mod:`.bodies`); 400 for a bad JSON body;
  ``inputs``/``instances`` digits and pictures (:mod:`.image_requests`) are answered here;
* ``POST /predict/image``: pictures, each answer with its ``name`` and the 28x28 ``image``;
* ``GET /model-info`` and the page (:mod:`.page`);
* ``/feedback`` (:mod:`.feedback`): each answer above carries the ``prediction_id`` under which
  a :class:`~mnist_mlops.feedback.recorder.PredictionRecorder` (when given) records it, source
  ``json``, ``picture`` or ``page`` (a picture sent with ``X-Prediction-Source: page``).

Everything else (other JSON fields, ``params``, CSV, Parquet, ``/ping``, ``/health``,
``/version``) goes to MLflow's app, the body replayed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
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
from mnist_mlops.feedback.recorder import PredictionRecorder
from mnist_mlops.serving.http.bodies import (
    CONTENT_TYPES,
    JSON_TYPE,
    check_charset,
    check_content_type,
    error_response,
    read_body,
    replay,
)
from mnist_mlops.serving.http.feedback import FEEDBACK, closing_on_shutdown, feedback_response
from mnist_mlops.serving.http.image_requests import MEDIA_TYPES, png_data_url, read_image_request
from mnist_mlops.serving.http.json_requests import PARAMS_FIELD, check_numbers, decode_json_request
from mnist_mlops.serving.http.metrics import (
    forget_process,
    observe_predictions,
    show_served_model,
)
from mnist_mlops.serving.http.page import is_page_path, page_response
from mnist_mlops.serving.runtime.inputs import to_pixel_rows
from mnist_mlops.serving.runtime.model_info import ServedModel, resolve_model
from mnist_mlops.serving.runtime.predictions import probability_records
from mnist_mlops.serving.runtime.pyfunc import DigitClassifier

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # 1,000 digits of 784 full-precision floats fit
FAST_FIELDS = ("inputs", "instances")
INLINE_ROWS = 64  # larger batches, and JSON bodies over INLINE_BYTES, run in a worker thread
INLINE_BYTES = 1024 * 1024
INVOCATIONS, PREDICT_IMAGE, MODEL_INFO = "/invocations", "/predict/image", "/model-info"
INVOCATION_TYPES = (*CONTENT_TYPES, *MEDIA_TYPES)
SOURCE_HEADER = "x-prediction-source"  # "page": recorded as sent by the draw-a-digit page


def _digit_classifier(model: Any) -> DigitClassifier | None:
    """The loaded model's :class:`DigitClassifier`, or ``None`` for any other model."""
    try:
        unwrapped = model.unwrap_python_model()
    except (AttributeError, MlflowException):  # not a python model (another flavor)
        return None
    return unwrapped if isinstance(unwrapped, DigitClassifier) else None


async def _run(function: Callable[[Any], Any], argument: Any, in_thread: bool) -> Any:
    """Call ``function(argument)``, in a worker thread when asked."""
    return await asyncio.to_thread(function, argument) if in_thread else function(argument)


class GuardedScoringApp:
    """An ASGI app: the guard described in the module docstring, then MLflow's scoring app."""

    def __init__(
        self,
        model: Any,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        served: ServedModel | None = None,
        read_timeout_s: float = SERVE_READ_TIMEOUT_S,
        recorder: PredictionRecorder | None = None,
    ) -> None:
        """Guard MLflow's scoring app for ``model`` (a ``PyFuncModel``); ``served`` names it."""
        from mlflow.pyfunc import scoring_server

        self.model = model
        self.max_body_bytes = max_body_bytes
        self.served = served
        self.read_timeout_s = read_timeout_s
        self.scoring_app = scoring_server.init(model)
        self.classifier = _digit_classifier(model)
        if served is not None:
            show_served_model(served.as_dict())
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        method, path = scope.get("method", ""), scope.get("path", "")
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                receive = closing_on_shutdown(receive, self._shut_down)
            await self.scoring_app(scope, receive, send)
        elif method == "POST" and path in (INVOCATIONS, PREDICT_IMAGE):
            await self._post(scope, receive, send)
        elif method in ("GET", "HEAD") and path == MODEL_INFO:
            info = json.dumps(self.model_info()).encode()
            await Response(info, 200, media_type=JSON_TYPE)(scope, receive, send)
        elif path == FEEDBACK:
            await feedback_response(self.recorder, scope, receive, send)
        elif method in ("GET", "HEAD") and is_page_path(path):
            await page_response(path)(scope, receive, send)
        else:
            await self.scoring_app(scope, receive, send)

    def _shut_down(self) -> None:
        """Write the recorder's queue; take this process's served model out of ``/metrics``."""
        if self.recorder is not None:
            self.recorder.close()
        forget_process()

    def ready(self) -> bool:
        """Whether a model is loaded (``GET /ready`` answers 200)."""
        return self.model is not None

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
            started = time.perf_counter()  # the recorded latency: body read to answer
            if media_type in MEDIA_TYPES:
                content_type = request.headers.get("content-type", "")
                page = request.headers.get(SOURCE_HEADER, "").lower() == "page"
                source = "page" if page else "picture"
                answer = await self._pictures(
                    media_type, content_type, body, with_images, source, started
                )
            elif media_type == JSON_TYPE:
                answer = await self._fast_path(body, started)
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
        """The JSON records MLflow would write for the model's answer to validated ``rows``."""
        if self.classifier is not None:
            return probability_records(self.classifier.probabilities(rows))
        from mlflow.pyfunc.scoring_server import predictions_to_json

        written = io.StringIO()
        predictions_to_json(self.model.predict(rows), written)
        return json.loads(written.getvalue())["predictions"]

    async def _predict(self, rows: Any, source: str, started: float) -> list[dict[str, Any]]:
        """Return the model's records for ``rows``, rejecting bad input with HTTP 400.

        The recorder, if any, records them as from ``source``, asked at ``started``
        (``perf_counter``).
        """
        try:
            rows = to_pixel_rows(rows)
            predictions = await _run(self._records, rows, len(rows) > INLINE_ROWS)
        except InputError as exc:
            raise RequestRejectedError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
        except MlflowException as exc:
            raise RequestRejectedError(
                exc.get_http_status_code(), exc.error_code, exc.message
            ) from None
        observe_predictions(predictions)
        if self.recorder is not None:
            latency_ms = 1000 * (time.perf_counter() - started)
            served = self.served
            model = (served.name, served.version, served.alias) if served else (None, None, None)
            self.recorder.record(rows, predictions, source, latency_ms, model)
        return predictions

    async def _fast_path(self, body: bytes, started: float) -> bytes | None:
        """Answer a checked ``inputs``/``instances`` request; ``None``: MLflow's app answers."""
        in_thread = len(body) > INLINE_BYTES
        request = await _run(decode_json_request, body, in_thread)
        field = next(iter(request))
        if field not in FAST_FIELDS or PARAMS_FIELD in request:
            await _run(check_numbers, request, in_thread)
            return None  # MLflow's own parsing and error messages
        predictions = await self._predict(request[field], "json", started)
        return json.dumps({"predictions": predictions}).encode()

    async def _pictures(
        self,
        media_type: str,
        content_type: str,
        body: bytes,
        with_images: bool,
        source: str,
        started: float,
    ) -> bytes:
        """Answer a request of pictures; ``with_images`` adds each name and 28x28 image."""
        names, digits = await asyncio.to_thread(read_image_request, media_type, content_type, body)
        # Scaled here: to_pixel_rows would read a faint digit of 0s and 1s as scaled already.
        rows = digits.reshape(len(digits), -1).astype(np.float32) / np.float32(MAX_PIXEL)
        predictions = await self._predict(rows, source, started)
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
    recorder: PredictionRecorder | None = None,
) -> GuardedScoringApp:
    """Load ``model`` (a URI, an alias pinned now, or a resolved model) and guard its app.

    ``max_body_bytes`` and ``read_timeout_s`` bound a request body (413, 408); ``recorder``
    records the answers.

    Raises:
        MlflowException: Unknown model, version or alias.
    """
    from mlflow.pyfunc.scoring_server import load_model_with_mlflow_config

    served = resolve_model(model) if isinstance(model, str) else model
    loaded = load_model_with_mlflow_config(served.load_uri)
    logger.info("serving %s (%s, body limit %d bytes)", served.uri, served.load_uri, max_body_bytes)
    return GuardedScoringApp(loaded, max_body_bytes, served, read_timeout_s, recorder)
