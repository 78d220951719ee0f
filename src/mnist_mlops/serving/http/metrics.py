"""The server's Prometheus metrics (prometheus_client) and their text exposition.

Every metric is named ``mnist_mlops_*``:

* ``requests_total{route, method, status}`` and ``request_duration_seconds{route}`` (histogram):
  every HTTP request; ``route`` is one of :data:`ROUTES` or ``other`` (bounded labels);
* ``predictions_total{digit}`` and ``prediction_confidence`` (histogram of the top probability):
  every digit answered, whatever the route;
* ``model_info{name, version, alias, uri}``: 1 for the model served (a gauge: ``Info`` does not
  work in multiprocess mode);
* ``records_written_total`` and ``records_dropped_total{reason}``: the prediction recorder's
  (issue 32) count of records stored and of those lost (``reason``: ``full``, ``locked``,
  ``read_only``, ``error``, ...), incremented by the recorder.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``mnist-mlops serve --workers`` > 1 sets it), each worker
writes its values there and :func:`exposition` sums every worker's (prometheus_client's
multiprocess mode); the process and Python collectors are then left out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from mnist_mlops.config.constants import METRICS_FOLDER_ENV

ROUTES = frozenset(
    {
        "/",
        "/invocations",
        "/predict/image",
        "/model-info",
        "/ping",
        "/health",
        "/version",
        "/ready",
        "/metrics",
        "/feedback",
    }
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)
EXPOSITION_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter("mnist_mlops_requests", "HTTP requests answered", ("route", "method", "status"))
REQUEST_DURATION = Histogram(
    "mnist_mlops_request_duration_seconds",
    "Time from a request's start to its answer's end",
    ("route",),
    buckets=LATENCY_BUCKETS_S,
)
PREDICTIONS = Counter("mnist_mlops_predictions", "Digits answered, by predicted digit", ("digit",))
CONFIDENCE = Histogram(
    "mnist_mlops_prediction_confidence",
    "The top probability of each digit answered",
    buckets=CONFIDENCE_BUCKETS,
)
MODEL_INFO = Gauge(
    "mnist_mlops_model_info",
    "1 for the model served (registry name, version, alias, URI)",
    ("name", "version", "alias", "uri"),
    multiprocess_mode="livemax",  # a replaced worker's model leaves with it (forget_process)
)
RECORDS_WRITTEN = Counter("mnist_mlops_records_written", "Served predictions recorded")
RECORDS_DROPPED = Counter(
    "mnist_mlops_records_dropped", "Served predictions not recorded, by reason", ("reason",)
)


def count_records(outcome: str, count: int) -> None:
    """Count ``count`` records: ``recorded``, or not recorded for the reason ``outcome``."""
    if outcome == "recorded":
        RECORDS_WRITTEN.inc(count)
    else:
        RECORDS_DROPPED.labels(outcome).inc(count)


def route_of(path: str) -> str:
    """Return the ``route`` label of a request path: the path if known, else ``other``."""
    if path in ROUTES:
        return path
    return "/" if path.startswith("/static/") else "other"


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration (methods outside :data:`METHODS`: other)."""
    REQUESTS.labels(route, method if method in METHODS else "other", str(status)).inc()
    REQUEST_DURATION.labels(route).observe(seconds)


def observe_predictions(records: Iterable[Mapping[str, Any]]) -> None:
    """Count answered digits and their confidence (``records``: :func:`probability_records`)."""
    for record in records:
        digit = record["digit"]
        PREDICTIONS.labels(str(digit)).inc()
        CONFIDENCE.observe(record[f"probability_{digit}"])


def show_served_model(served: Mapping[str, Any], previous: Mapping[str, Any] | None = None):
    """Set ``model_info`` to 1 for ``served`` (``ServedModel.as_dict()``), 0 for ``previous``."""
    if previous is not None:
        MODEL_INFO.labels(*_model_labels(previous)).set(0)
    MODEL_INFO.labels(*_model_labels(served)).set(1)


def _model_labels(served: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(served.get(key) or "") for key in ("name", "version", "alias", "uri"))


def forget_process() -> None:
    """At a worker's shutdown: drop its live gauges (the model it served) from the folder."""
    if os.environ.get(METRICS_FOLDER_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


def exposition() -> bytes:
    """Return every metric in Prometheus' text format (all workers' in multiprocess mode)."""
    if os.environ.get(METRICS_FOLDER_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
