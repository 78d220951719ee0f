"""JSON request bodies of MLflow's scoring protocol, checked before anything reads them.

:func:`decode_json_request` decodes a body once and refuses, with HTTP 400 naming the problem
(:class:`~mnist_mlops.errors.RequestRejectedError`):

* a body that is not UTF-8 (the protocol's only encoding; ``json.loads`` of bytes would
  guess UTF-16 or UTF-32);
* arrays and objects nested deeper than :data:`MAX_JSON_DEPTH`, counted on the bytes before
  parsing (:mod:`.json_depth`; 100,000 ``[`` made ``json.loads`` raise ``RecursionError``:
  HTTP 500);
* invalid JSON, ``NaN`` / ``Infinity``, an integer of more than Python's 4,300 digits;
* the same key twice in one object (``json.loads`` would keep the last one silently);
* anything but an object with exactly one of MLflow's input fields and, optionally,
  ``params`` (an object): MLflow ignores other fields without a word.

:func:`check_numbers` refuses numbers that no 64-bit float holds (``1e400`` decodes to
``inf``), for requests handed to MLflow's app; the guard's own path checks its digits with
:func:`~mnist_mlops.serving.runtime.inputs.to_pixel_rows`.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from mnist_mlops.config.constants import MAX_JSON_DEPTH
from mnist_mlops.errors import RequestRejectedError
from mnist_mlops.serving.http.json_depth import nesting_depth

# MLflow's scoring_server.SUPPORTED_FORMATS and SERVING_PARAMS_KEY (a test compares them).
INPUT_FIELDS = ("inputs", "instances", "dataframe_split", "dataframe_records")
PARAMS_FIELD = "params"
FIELDS_HINT = (
    f"a request holds exactly one of the input fields {', '.join(INPUT_FIELDS)}, and "
    f"optionally {PARAMS_FIELD} (an object)"
)
_SHOWN = 40  # characters of a field name shown in a message


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
    """Return ``request`` if it is an object of MLflow's fields, else refuse it (HTTP 400).

    Args:
        request: A decoded JSON body.

    Returns:
        The request, unchanged.

    Raises:
        RequestRejectedError: Not an object; unknown fields; no or several input fields;
            ``params`` that is not an object.
    """
    if not isinstance(request, dict):
        raise _rejected(f"the body is a JSON {_kind(request)}; {FIELDS_HINT}")
    unknown = [repr(key[:_SHOWN]) for key in request if key not in (*INPUT_FIELDS, PARAMS_FIELD)]
    if unknown:
        names = ", ".join(unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise _rejected(f"unknown field{'s' * (len(unknown) > 1)} {names}; {FIELDS_HINT}")
    given = [key for key in request if key in INPUT_FIELDS]
    if len(given) != 1:
        found = f"the input fields {', '.join(given)}" if given else "no input field"
        raise _rejected(f"the request has {found}; {FIELDS_HINT}")
    if PARAMS_FIELD in request and not isinstance(request[PARAMS_FIELD], dict):
        raise _rejected(f"{PARAMS_FIELD} is a JSON {_kind(request[PARAMS_FIELD])}; {FIELDS_HINT}")
    return request


def decode_json_request(body: bytes) -> dict[str, Any]:
    """Decode and check a JSON request body of MLflow's scoring protocol.

    Args:
        body: The raw request body (already size-limited).

    Returns:
        The request object: exactly one input field, optionally ``params``.

    Raises:
        RequestRejectedError: 400 naming the problem (see the module docstring).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _rejected(
            f"the body is not valid JSON: it is not UTF-8 (byte 0x{body[exc.start]:02x} at "
            f"position {exc.start}: {exc.reason})"
        ) from None
    depth = nesting_depth(body)
    too_deep = _rejected(
        f"the body nests arrays and objects {depth} levels deep; at most {MAX_JSON_DEPTH} are "
        'allowed ({"inputs": [[[pixels]]]} needs 4)'
    )
    if depth > MAX_JSON_DEPTH:
        raise too_deep
    try:
        request = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:  # not reached while MAX_JSON_DEPTH is far below the stack's depth
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise _rejected(f"the body is not valid JSON: {exc}") from None
    except ValueError:  # int(): more than sys.get_int_max_str_digits() digits
        raise _rejected(
            f"the body holds an integer of more than {sys.get_int_max_str_digits()} digits; "
            "numbers must fit a 64-bit float"
        ) from None
    return check_fields(request)


def check_numbers(value: object) -> None:
    """Refuse (HTTP 400) any number in ``value`` that a 64-bit float cannot hold.

    Args:
        value: A decoded JSON value (``1e400`` was decoded to ``inf``; integers are exact).

    Raises:
        RequestRejectedError: A number beyond about ±1.8e308.
    """
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
