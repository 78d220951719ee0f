import numpy as np

from mnist_mlops.serving.inputs import MAX_ROWS
from mnist_mlops.serving.predict import PREDICT_BATCH, predict_in_batches


class Recorder:
    """A stand-in classifier: records each call's row count, answers each row's first pixel."""

    def __init__(self):
        self.calls = []

    def predict(self, rows):
        self.calls.append(len(rows))
        return [{"digit": int(row[0]), "probabilities": [0.1] * 10} for row in rows]


def test_rows_are_predicted_in_order_in_batches_the_classifier_accepts():
    rows = np.arange(2500, dtype=np.float32)[:, None] * np.ones((1, 784), dtype=np.float32)
    model = Recorder()
    records = predict_in_batches(model, rows)
    assert PREDICT_BATCH == MAX_ROWS and model.calls == [1000, 1000, 500]
    assert [r["digit"] for r in records] == list(range(2500))
    small = Recorder()
    assert len(predict_in_batches(small, rows[:7], batch=3)) == 7 and small.calls == [3, 3, 1]
    assert predict_in_batches(Recorder(), rows[:0]) == []
