"""JSON request bodies checked before anything reads them: nesting, keys, numbers, fields."""

import json

import pytest
from hypothesis import strategies as st
from mlflow.pyfunc import scoring_server

from mnist_mlops.errors import RequestRejectedError
from mnist_mlops.serving.http.json_requests import (
    INPUT_FIELDS,
    PARAMS_FIELD,
    check_numbers,
    decode_json_request,
)

ROW = [0] * 784
# Brackets, quotes and backslashes inside strings must not count as structure.
tricky_text = st.text(alphabet='[]{}"\\\\ax\\n', max_size=6)
values = st.recursive(
    st.none() | st.integers() | st.floats(allow_nan=False) | tricky_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=3)
    ),
    max_leaves=40,
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "nests arrays and objects too deeply"),
        (b'{"inputs": ' * 5000 + b"0" + b"}" * 5000, "nests arrays and objects too deeply"),
        (b"\xff\xfe{}", "not UTF-8 (byte 0xff at position 0"),
        (b'{"inputs": "caf\xe9"}', "not UTF-8 (byte 0xe9 at position 15"),
        ('{"inputs": [1]}'.encode("utf-16"), "not UTF-8"),
        (b'{"inputs": [[0]], "inputs": [[1]]}', "the key 'inputs' appears twice"),
        (b'{"dataframe_split": {"data": [[0]], "data": [[1]]}}', "the key 'data' appears twice"),
        (b'{"inputs": [NaN]}', "holds NaN; numbers must be finite"),
        (b'{"inputs": [-Infinity]}', "holds -Infinity"),
        (b'{"inputs": [' + b"9" * 5000 + b"]}", "more than 4300 digits"),
        (b'{"inputs": [1, 2', "not valid JSON: Expecting"),
        (b"", "not valid JSON"),
        (b"[1]", "the body is a JSON array; a request holds exactly one of the input fields"),
        (b"null", "the body is a JSON null"),
        (b"{}", "the request has no input field"),
        (b'{"pixels": [1]}', "unknown field 'pixels'"),
        (b'{"inputs": [1], "pixels": [1], "x": 1}', "unknown fields 'pixels', 'x'"),
        (b'{"inputs": [1], "messages": []}', "unknown field 'messages'"),
        (b'{"inputs": [1], "instances": [1]}', "the input fields inputs, instances"),
        (b'{"inputs": [1], "params": [1]}', "params is a JSON array"),
    ],
)
def test_bad_bodies_are_refused_naming_the_problem(body, message):
    with pytest.raises(RequestRejectedError) as refused:
        decode_json_request(body)
    assert refused.value.status == 400 and refused.value.error_code == "BAD_REQUEST"
    assert message in refused.value.message


def test_requests_of_mlflows_fields_are_decoded_once_unchanged():
    for request in (
        {"inputs": [ROW]},
        {"instances": [ROW], "params": {}},
        {"dataframe_split": {"columns": ["a"], "data": [[1]]}},
        {"dataframe_records": [{"a": 1}]},
    ):
        assert decode_json_request(json.dumps(request).encode()) == request


def test_the_fields_are_mlflows_own():
    assert set(INPUT_FIELDS) == scoring_server.SUPPORTED_FORMATS
    assert PARAMS_FIELD == scoring_server.SERVING_PARAMS_KEY


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"1" + b"0" * 400])
def test_numbers_no_float_holds_are_refused(number):
    body = b'{"dataframe_split": {"data": [[0, ' + number + b"]]}}"
    with pytest.raises(RequestRejectedError) as refused:
        check_numbers(decode_json_request(body))
    assert refused.value.status == 400 and "64-bit float" in refused.value.message
    check_numbers(decode_json_request(b'{"dataframe_split": {"data": [[1e308, 1e-400, 7]]}}'))
