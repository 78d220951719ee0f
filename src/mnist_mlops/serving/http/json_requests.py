"""JSON bodies of MLflow's scoring protocol, checked (HTTP 400 naming the problem) before use."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mnist_mlops.errors import RequestRejectedError

# MLflow's scoring_server.SUPPORTED_FORMATS and SERVING_PARAMS_KEY (a test compares them).
INPUT_FIELDS = ("inputs", "instances", "dataframe_split", "dataframe_records")
PARAMS_FIELD = "params"
FIELDS_HINT = (
    f"a request holds exactly one of the input fields {', '.join(INPUT_FIELDS)}, and "
    f"optionally {PARAMS_FIELD} (an object)"
)
_SHOWN = 40  # characters of a field name shown in a message


class ScoringRequest(BaseModel):
    """The fields of MLflow's scoring request (its values are checked downstream)."""

    model_config = ConfigDict(extra="forbid")
    inputs: Any = None
    instances: Any = None
    dataframe_split: Any = None
    dataframe_records: Any = None
    params: dict[str, Any] | None = None


def _rejected(message: str) -> RequestRejectedError:
    return RequestRejectedError(400, "BAD_REQUEST", message)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: an object, refusing a key given twice."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _rejected(f"the key {key[:_SHOWN]!r} appears twice in one JSON object")
            seen.add(key)
    return obj


def _no_constant(name: str) -> float:
    """``parse_constant``: refuse ``NaN``, ``Infinity`` and ``-Infinity``."""
    raise _rejected(f"the body holds {name}; numbers must be finite")


def _kind(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


def check_fields(request: object) -> dict[str, Any]:
    """Return a decoded body that is an object of MLflow's fields (:class:`ScoringRequest`).

    Raises:
        RequestRejectedError: 400: not an object, unknown fields, not exactly one input
            field, or ``params`` not an object.
    """
    if not isinstance(request, dict):
        raise _rejected(f"the body is a JSON {_kind(request)}; {FIELDS_HINT}")
    try:
        ScoringRequest.model_validate(request)
    except ValidationError as exc:
        errors = exc.errors()
        unknown = [
            repr(str(e["loc"][0])[:_SHOWN]) for e in errors if e["type"] == "extra_forbidden"
        ]
        if not unknown:
            raise _rejected(
                f"{PARAMS_FIELD} is a JSON {_kind(request[PARAMS_FIELD])}; {FIELDS_HINT}"
            ) from None
        names = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise _rejected(f"unknown field{'s' * (len(unknown) > 1)} {names}; {FIELDS_HINT}") from None
    given = [key for key in request if key in INPUT_FIELDS]
    if len(given) != 1:
        found = f"the input fields {', '.join(given)}" if given else "no input field"
        raise _rejected(f"the request has {found}; {FIELDS_HINT}")
    return request


def decode_json_request(body: bytes) -> dict[str, Any]:
    """Decode a request body into an object of exactly one input field (and ``params``).

    Raises:
        RequestRejectedError: 400: not UTF-8, too deeply nested (the parser's
            ``RecursionError``), invalid JSON, ``NaN``/``Infinity``, an integer of more
            digits than Python parses, a key twice in one object, or :func:`check_fields`.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _rejected(
            f"the body is not valid JSON: it is not UTF-8 (byte 0x{body[exc.start]:02x} at "
            f"position {exc.start}: {exc.reason})"
        ) from None
    try:
        request = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise _rejected(
            "the body nests arrays and objects too deeply for the JSON parser (about 1,000 "
            'levels); {"inputs": [[[pixels]]]} needs 4'
        ) from None
    except json.JSONDecodeError as exc:
        raise _rejected(f"the body is not valid JSON: {exc}") from None
    except ValueError:  # int(): more than sys.get_int_max_str_digits() digits
        raise _rejected(
            f"the body holds an integer of more than {sys.get_int_max_str_digits()} digits; "
            "numbers must fit a 64-bit float"
        ) from None
    return check_fields(request)


def check_numbers(value: object) -> None:
    """Refuse (HTTP 400) a number of a decoded JSON ``value`` beyond a 64-bit float (``1e400``)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif (isinstance(item, float) and not math.isfinite(item)) or (
            isinstance(item, int) and abs(item) > sys.float_info.max
        ):
            raise _rejected(
                "the body holds a number beyond the range of a 64-bit float (about ±1.8e308); "
                "numbers must be finite"
            )
