import io
import json

import numpy as np
from mlflow.pyfunc import scoring_server

from mnist_mlops.serving.runtime.predictions import (
    DIGIT_COLUMN,
    PROBABILITY_COLUMNS,
    digit_frame,
    probabilities_of,
    probability_records,
)


def test_the_frame_holds_the_digit_and_ten_probability_columns():
    probabilities = np.random.default_rng(0).dirichlet(np.ones(10), size=2500).astype(np.float32)
    frame = digit_frame(probabilities)
    assert list(frame.columns) == [DIGIT_COLUMN, *PROBABILITY_COLUMNS]
    assert PROBABILITY_COLUMNS[0] == "probability_0" and len(PROBABILITY_COLUMNS) == 10
    assert frame[DIGIT_COLUMN].tolist() == probabilities.argmax(1).tolist()
    np.testing.assert_array_equal(probabilities_of(frame), probabilities)
    assert frame[DIGIT_COLUMN].dtype == np.int64 and frame["probability_3"].dtype == np.float32
    assert len(digit_frame(np.empty((0, 10), np.float32))) == 0


def test_records_are_the_json_mlflow_writes_for_the_frame():
    probabilities = np.array([[0.1] * 9 + [0.1], [0.0] * 3 + [1.0] + [0.0] * 6], np.float32)
    records = probability_records(probabilities)
    assert records[1] == {
        DIGIT_COLUMN: 3,
        **dict.fromkeys(PROBABILITY_COLUMNS, 0.0),
        "probability_3": 1.0,
    }
    assert type(records[0][DIGIT_COLUMN]) is int and type(records[0]["probability_9"]) is float
    written = io.StringIO()
    scoring_server.predictions_to_json(digit_frame(probabilities), written)
    assert json.loads(written.getvalue()) == {"predictions": records}
