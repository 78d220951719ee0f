"""``/feedback``: labels for recorded predictions, and the recorder's counts.

* ``POST /feedback`` with ``{"prediction_id": "<id>", "label": <0-9>}``, or several at once as
  ``{"feedback": [{...}, ...]}`` (all stored, or none): 200 ``{"stored": N, "feedback": [...]}``;
  400 a malformed body, 404 an unknown id, 409 an id labelled already (or twice), 415 not
  JSON, 422 a label outside 0-9, 503 recording off or the store not writable;
* ``GET /feedback``: whether this worker records, and its counts (recorded, dropped by reason,
  queued).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from mnist_mlops.errors import FeedbackError, RequestRejectedError
from mnist_mlops.feedback.recorder import PredictionRecorder
from mnist_mlops.serving.http.bodies import JSON_TYPE, check_content_type, error_response, read_body

FEEDBACK = "/feedback"
MAX_BODY_BYTES = 1024 * 1024
MAX_ITEMS = 1000
FORMS = (
    'allowed: {"prediction_id": "<the id of a prediction\'s answer>", "label": <0-9>}, or '
    f'{{"feedback": [such objects, 1-{MAX_ITEMS}]}}'
)
CODES = {
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    422: "INVALID_PARAMETER_VALUE",
}
RECORDING_OFF = (
    "this server does not record predictions (feedback.record: false in params.yaml), so "
    "none can be labelled"
)


class Feedback(BaseModel):
    """One label: the prediction's id (from its answer) and the digit it shows."""

    model_config = ConfigDict(extra="forbid")
    prediction_id: str = Field(min_length=1, max_length=64)
    label: StrictInt


class FeedbackBatch(BaseModel):
    """Several labels, stored together or not at all."""

    model_config = ConfigDict(extra="forbid")
    feedback: list[Feedback] = Field(min_length=1, max_length=MAX_ITEMS)


def _rejected(message: str) -> RequestRejectedError:
    return RequestRejectedError(400, "BAD_REQUEST", message)


def parse_feedback(body: bytes) -> list[Feedback]:
    """The labels of a ``POST /feedback`` body.

    Raises:
        RequestRejectedError: 400: not JSON, not one of the two forms (naming the field).
    """
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _rejected(f"the body is not valid JSON ({exc}); {FORMS}") from None
    form = FeedbackBatch if isinstance(request, dict) and "feedback" in request else Feedback
    try:
        parsed = form.model_validate(request)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "the body"
        raise _rejected(f"{where}: {error['msg']}; {FORMS}") from None
    return parsed.feedback if isinstance(parsed, FeedbackBatch) else [parsed]


async def feedback_response(
    recorder: PredictionRecorder | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer ``GET`` or ``POST /feedback`` (see the module docstring)."""
    if scope["method"] in ("GET", "HEAD"):
        stats = recorder.stats() if recorder else {}
        await JSONResponse({"recording": recorder is not None, **stats})(scope, receive, send)
        return
    try:
        if scope["method"] != "POST":
            raise RequestRejectedError(405, "BAD_REQUEST", "allowed methods: GET, POST")
        request = Request(scope, receive)
        check_content_type(request, (JSON_TYPE,))
        items = parse_feedback(await read_body(request, MAX_BODY_BYTES))
        if recorder is None:
            raise RequestRejectedError(503, "FEEDBACK_DISABLED", RECORDING_OFF)
        pairs = [(item.prediction_id, item.label) for item in items]
        await asyncio.to_thread(recorder.add_feedback, pairs)
    except RequestRejectedError as exc:
        await error_response(exc)(scope, receive, send)
        return
    except ConnectionAbortedError:
        return
    except FeedbackError as exc:
        hint = "" if exc.status != 404 else "; ids come with each prediction's answer"
        rejected = RequestRejectedError(exc.status, CODES[exc.status], exc.message + hint)
        await error_response(rejected)(scope, receive, send)
        return
    except sa.exc.SQLAlchemyError as exc:
        message = f"the prediction store cannot be written now ({_first_line(exc)}); retry later"
        await error_response(RequestRejectedError(503, "TEMPORARILY_UNAVAILABLE", message))(
            scope, receive, send
        )
        return
    stored: list[dict[str, Any]] = [item.model_dump() for item in items]
    await JSONResponse({"stored": len(stored), "feedback": stored})(scope, receive, send)


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def closing_on_shutdown(receive: Receive, close: Callable[[], None]) -> Receive:
    """A lifespan ``receive`` that calls ``close`` (in a thread) when the server shuts down."""

    async def wrapped() -> Any:
        message = await receive()
        if message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(close)
        return message

    return wrapped
