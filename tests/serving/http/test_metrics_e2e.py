"""A real ``mnist-mlops serve`` process: ``/metrics``, ``/ready`` and draining on SIGTERM.

The metrics are read the way Prometheus reads them (prometheus_client's text parser); with
``--workers 2`` every scrape sums both workers' counts, whichever worker answers it.
"""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx
import numpy as np
import pytest
from pipelines.prefect_server import free_port
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.digits import picture_bytes
from tests.helpers.servers import (
    NAME,
    guarded_command,
    register_champion,
    running_server_process,
)

pytestmark = pytest.mark.slow


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """``GET /metrics`` parsed: ``{(sample name, sorted labels): value}``."""
    answer = httpx.get(f"{url}/metrics", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples, metric: str, **labels) -> float:
    """The sum of the samples ``metric`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, key), v in samples.items() if n == metric and wanted <= set(key))


@pytest.fixture
def served(tiny_splits, tmp_path):
    version = register_champion(tiny_splits["train"])

    def start(*options: str):
        port = free_port()
        command = guarded_command(port, *options)
        return running_server_process(command, port, tmp_path / f"server-{port}.log")

    return version, start


def test_metrics_count_requests_digits_and_confidence_and_name_the_model(served, tiny_splits):
    version, start = served
    x = tiny_splits["test"].x[:6]
    with start() as (url, _):
        assert httpx.get(f"{url}/ready").status_code == 200
        assert httpx.get(f"{url}/ping").status_code == 200
        before = scrape(url)
        answers = [httpx.post(f"{url}/invocations", json={"inputs": [row.tolist()]}) for row in x]
        picture = picture_bytes(np.rint(x[0].reshape(28, 28) * 255))
        pictured = httpx.post(
            f"{url}/predict/image", content=picture, headers={"content-type": "image/png"}
        )
        bad = httpx.post(f"{url}/invocations", json={"inputs": [[0.5] * 3]})
        after = scrape(url)

    assert [a.status_code for a in answers] == [200] * 6 and pictured.status_code == 200
    assert bad.status_code == 400
    records = [a.json()["predictions"][0] for a in answers] + pictured.json()["predictions"]

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "mnist_mlops_requests_total"
    assert grew(requests, route="/invocations", method="POST", status="200") == 6
    assert grew(requests, route="/invocations", status="400") == 1
    assert grew(requests, route="/predict/image", status="200") == 1
    assert grew(requests, route="/metrics", status="200") == 1  # the first scrape
    assert grew("mnist_mlops_request_duration_seconds_count", route="/invocations") == 7
    for digit in range(10):
        expected = sum(record["digit"] == digit for record in records)
        assert grew("mnist_mlops_predictions_total", digit=str(digit)) == expected
    confidences = [record[f"probability_{record['digit']}"] for record in records]
    assert grew("mnist_mlops_prediction_confidence_count") == len(records)
    assert grew("mnist_mlops_prediction_confidence_sum") == pytest.approx(sum(confidences))
    assert grew("mnist_mlops_prediction_confidence_bucket", le="1.0") == len(records)
    info = value(after, "mnist_mlops_model_info", name=NAME, version=version, alias="champion")
    assert info == 1
    assert value(after, "process_resident_memory_bytes") > 0  # one process: its own metrics


def test_two_workers_each_scrape_counts_both_workers_requests(
    served, tiny_splits, tmp_path, monkeypatch
):
    version, start = served
    row = tiny_splits["test"].x[0].tolist()
    scratch = tmp_path / "server-tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # where the server makes its metrics folder
    with start("-w", "2") as (url, _):
        folders = list(scratch.glob("mnist-mlops-metrics-*"))
        assert len(folders) == 1 and len(list(folders[0].glob("counter_*.db"))) >= 2
        baseline = value(scrape(url), "mnist_mlops_requests_total", route="/invocations")
        for _ in range(20):  # a new connection each: the workers take turns accepting them
            answer = httpx.post(f"{url}/invocations", json={"inputs": [row]})
            assert answer.status_code == 200
        # Each scrape is answered by one worker or the other (new connections too): without
        # the shared folder each would show only its own worker's share of the 20.
        scrapes = [scrape(url) for _ in range(6)]
    counts = [value(s, "mnist_mlops_requests_total", route="/invocations") for s in scrapes]
    assert counts == [baseline + 20] * 6
    assert all(value(s, "mnist_mlops_predictions_total") == 20 for s in scrapes)
    assert all(value(s, "mnist_mlops_model_info", version=version) == 1 for s in scrapes)
    assert value(scrapes[0], "process_resident_memory_bytes") == 0  # per-process ones left out
    assert not folders[0].exists()  # removed when the server stopped


def test_sigterm_lets_a_request_in_progress_finish_then_the_server_exits(served, tiny_splits):
    _, start = served
    body = json.dumps({"inputs": [tiny_splits["test"].x[0].tolist()]}).encode()
    head = (
        b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with start() as (url, process):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(head + body[:100])  # the request is in progress
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            with pytest.raises(OSError):  # no new connections once draining
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            assert process.poll() is None  # still serving the request in progress
            connection.sendall(body[100:])
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        exit_code = process.wait(timeout=30)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b'"predictions"' in answer  # (and then the server closed the connection)
    assert exit_code == -signal.SIGTERM  # uvicorn re-raises the signal once it has drained


def test_sigterm_without_requests_in_progress_exits_at_once(served):
    _, start = served
    with start() as (_, process):
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert process.wait(timeout=30) == -signal.SIGTERM
    assert time.monotonic() - started < 10  # (a hang would reach the 30 s drain bound)
