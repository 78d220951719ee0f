"""Hypothesis strategies for requests a scoring server may be sent, well formed or not.

:data:`requests` draws ``(path, body, content_type)``: JSON values of random shapes under
MLflow's fields and others, rows of pixels of right and wrong sizes, deep nesting, huge
numbers, duplicate keys, byte-level mutations of all of these, random bytes, and random
content types (``None``: no header); and well-formed requests of every field under every
listed content type (so that the ones the guard hands on reach MLflow's app).
:func:`check_answer` is what every answer must satisfy.
"""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

FIELDS = ("inputs", "instances", "dataframe_split", "dataframe_records", "params")
OTHER_KEYS = ("pixels", "columns", "data", "index", "messages", "prompt", "")
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json; format=pandas-split",
    "APPLICATION/JSON",
    "text/csv",
    "application/vnd.apache.parquet",
    "image/png",
    "image/jpeg",
    "multipart/form-data; boundary=x",
    "multipart/form-data",
    "text/plain",
    "",
    None,
)

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes NaN / Infinity
    | st.text(max_size=8)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(FIELDS + OTHER_KEYS) | st.text(max_size=6), children, max_size=4
        )
    ),
    max_leaves=16,
)
pixel = st.integers(-2, 300) | st.floats(-1, 300) | st.sampled_from([0.0, 1.0, 255])
pixel_rows = st.builds(
    lambda rows, width, value: [[value] * width for _ in range(rows)],
    st.integers(0, 3),
    st.sampled_from([0, 1, 28, 783, 784, 785]),
    pixel | leaves,
)
images = st.builds(lambda value: [[value] * 28] * 28, pixel)
frames = st.fixed_dictionaries(
    {}, optional={"data": pixel_rows | json_values, "columns": json_values, "index": json_values}
)
well_formed = st.one_of(
    st.builds(
        lambda f, rows: {f: rows}, st.sampled_from(["inputs", "instances"]), pixel_rows | images
    ),
    st.builds(lambda rows: {"dataframe_split": {"data": rows}}, pixel_rows),
    st.builds(
        lambda rows: {"dataframe_records": [dict(enumerate(row)) for row in rows]}, pixel_rows
    ),
).flatmap(
    lambda request: st.sampled_from(
        [request, {**request, "params": {}}, {**request, "params": {"p": 1}}]
    )
)
request_objects = well_formed | st.dictionaries(
    st.sampled_from(FIELDS + OTHER_KEYS),
    pixel_rows | images | frames | json_values,
    min_size=0,
    max_size=3,
)


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def _nested(depth: int, opener: bytes, balanced: bool) -> bytes:
    """``depth`` arrays (or ``{"inputs": `` objects) around a 0, closed or not."""
    inner, closer = (b"[", b"]") if opener == b"[" else (b'{"inputs": ', b"}")
    return inner * depth + b"0" + (closer * depth if balanced else b"")


HUGE_NUMBERS = (b"1e400", b"-1e400", b"9" * 5000, b"1" + b"0" * 400, b"1e-400", b"1E+309")
special_bodies = st.one_of(
    st.builds(_nested, st.integers(1, 100_000), st.sampled_from([b"[", b"{"]), st.booleans()),
    st.builds(
        lambda number, where: where.replace(b"X", number),
        st.sampled_from(HUGE_NUMBERS),
        st.sampled_from(
            [
                b'{"inputs": [[X' + b", 0" * 783 + b"]]}",
                b'{"inputs": X}',
                b'{"dataframe_split": {"data": [[X]]}}',
                b'{"dataframe_records": [{"a": X}]}',
                b'{"inputs": [[0]], "params": {"p": X}}',
            ]
        ),
    ),
    st.builds(
        lambda key, first, second: (
            b"{"
            + _dumps(key)
            + b": "
            + _dumps(first)
            + b", "
            + _dumps(key)
            + b": "
            + _dumps(second)
            + b"}"
        ),
        st.sampled_from(FIELDS) | st.text(max_size=3),
        pixel_rows,
        json_values,
    ),
    st.sampled_from(
        [
            b"\xef\xbb\xbf" + _dumps({"inputs": [[0] * 784]}),  # a UTF-8 BOM
            _dumps({"inputs": [[0] * 784]}).decode().encode("utf-16"),
            b'{"inputs": "\xff\xfe"}',
            b'{"inputs": "\\ud800"}',
            b"",
            b"null",
        ]
    ),
)
json_bodies = (request_objects | json_values).map(_dumps)


def _mutate(body: bytes, position: int, insert: bytes, cut: bool) -> bytes:
    at = position % (len(body) + 1)
    return body[:at] if cut else body[:at] + insert + body[at + len(insert) :]


mutated_bodies = st.builds(
    _mutate,
    json_bodies | special_bodies,
    st.integers(0, 10**6),
    st.binary(min_size=1, max_size=4),
    st.booleans(),
)
bodies = st.one_of(json_bodies, special_bodies, mutated_bodies, st.binary(max_size=64))
header_text = st.text(string.ascii_letters + string.digits + "/;=-+. ", max_size=30).map(str.strip)
JSON = st.just("application/json")
content_types = st.one_of(JSON, JSON, st.sampled_from(CONTENT_TYPES), header_text)
paths = st.sampled_from(["/invocations", "/invocations", "/invocations", "/predict/image"])
requests = st.one_of(
    st.tuples(paths, bodies, content_types),  # anything
    st.tuples(st.just("/invocations"), well_formed.map(_dumps), st.sampled_from(CONTENT_TYPES)),
)


def headers_for(content_type: str | None) -> dict[str, str]:
    """The request headers for a drawn content type (``None``: no Content-Type at all)."""
    return {} if content_type is None else {"Content-Type": content_type}


def check_answer(status: int, content_type: str, body: bytes) -> None:
    """No 5xx; a 4xx is JSON with a ``message``; a 2xx is JSON with ``predictions``."""
    assert status < 500, (status, body[:300])
    assert content_type.split(";")[0] == "application/json", (status, content_type, body[:300])
    answer = json.loads(body)
    if status >= 400:
        assert isinstance(answer.get("message"), str) and answer["message"], answer
    else:
        assert status == 200 and isinstance(answer["predictions"], list), answer
