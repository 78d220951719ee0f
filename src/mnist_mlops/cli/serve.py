"""``mnist-mlops serve``: MLflow's scoring app for a model (an alias pinned at start), guarded.

Served predictions are recorded as ``params.yaml``'s ``feedback`` section says; SIGHUP loads
the version the alias names then (:mod:`~mnist_mlops.serving.http.reload`; with ``--workers``
> 1, uvicorn's supervisor replaces each worker, which resolves the alias again).
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from mnist_mlops.cli.arguments import int_at_least, seconds
from mnist_mlops.config.constants import (
    DEFAULT_MODEL_URI,
    METRICS_FOLDER_ENV,
    SERVE_DRAIN_TIMEOUT_S,
    SERVE_MAX_CONCURRENCY,
    SERVE_READ_TIMEOUT_S,
)
from mnist_mlops.config.params import FeedbackConfig, load_params
from mnist_mlops.errors import ModelLoadError
from mnist_mlops.tracking.setup import tracking_uri_for

logger = logging.getLogger(__name__)

MODEL_ENV = "MNIST_MLOPS_SERVE_MODEL"  # the ServedModel, as JSON
OPTIONS_ENV = "MNIST_MLOPS_SERVE_OPTIONS"  # the app's options, as JSON
MEBIBYTE = 1024 * 1024
WORKER_START_TIMEOUT_S = 120  # seconds a worker replaced on SIGHUP may take to start


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``serve`` sub-command."""
    parser = subparsers.add_parser(
        "serve",
        help="serve a registered model over REST (MLflow's scoring server, guarded)",
        description="Serve MLflow's scoring protocol (/invocations, /ping, /health, /version) "
        "for a model URI, with a request body limit, JSON errors, 28x28 inputs, PNG/JPEG "
        "pictures (/invocations, /predict/image), a draw-a-digit page (/) and a fast path.",
    )
    parser.add_argument(
        "--model", "-m", default=DEFAULT_MODEL_URI, help=f"model URI ({DEFAULT_MODEL_URI})"
    )
    parser.add_argument("--host", "-H", default="127.0.0.1", help="bind address (127.0.0.1)")
    parser.add_argument("--port", "-p", type=int_at_least(1), default=5001, help="port (5001)")
    parser.add_argument("--workers", "-w", type=int_at_least(1), default=1, help="processes (1)")
    parser.add_argument(
        "--max-body-mb",
        type=int_at_least(1),
        default=20,
        help="largest request body in MiB; larger ones get HTTP 413 (20)",
    )
    parser.add_argument(
        "--read-timeout-s",
        type=seconds,
        default=SERVE_READ_TIMEOUT_S,
        help="seconds a request head, then its body, may take to arrive; slower ones get "
        f"HTTP 408 and the connection closes ({SERVE_READ_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int_at_least(1),
        default=SERVE_MAX_CONCURRENCY,
        help="requests served at once, per worker; one more gets HTTP 503 (idle connections "
        "count for nothing; one that sends no request is closed after 5 s) "
        f"({SERVE_MAX_CONCURRENCY})",
    )
    parser.add_argument(
        "--allowed-hosts",
        type=_names,
        default=[],
        help="more Host names to answer, comma-separated (*.example.com patterns; * for any); "
        "loopback names and --host are always answered, others get HTTP 400",
    )
    parser.add_argument(
        "--allowed-origins",
        type=_names,
        default=[],
        help="origins whose browser pages may call the server (CORS), comma-separated; "
        "default: none, and no CORS headers",
    )
    parser.set_defaults(func=run)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _app(served: Any, options: dict[str, Any]) -> tuple[Any, Any]:
    """The guarded app for ``served``, and it behind :func:`.limits.protected` (served)."""
    from mnist_mlops.feedback.recorder import PredictionRecorder
    from mnist_mlops.serving.http.app import create_app
    from mnist_mlops.serving.http.limits import allowed_host_names, protected
    from mnist_mlops.serving.http.metrics import count_records

    store, retention = options["record_store"], options["retention"]
    recorder = PredictionRecorder(store, retention, count_records) if store else None
    app = create_app(served, options["max_body"], options["read_timeout_s"], recorder)
    hosts = allowed_host_names(options["host"], options["allowed_hosts"])
    return app, protected(
        app, hosts, options["allowed_origins"], options["max_concurrency"], ready=app.ready
    )


def app_from_environment():
    """Uvicorn factory for ``--workers`` > 1: each worker loads the model itself.

    A worker serves the version the model's alias names when it starts (at start, or when
    SIGHUP makes uvicorn replace the workers).
    """
    from mnist_mlops.serving.runtime.model_info import ServedModel, resolve_model

    served = resolve_model(ServedModel.from_json(os.environ[MODEL_ENV]).uri)
    return _app(served, json.loads(os.environ[OPTIONS_ENV]))[1]


def _feedback_config(params_path: str) -> tuple[FeedbackConfig, str]:
    """The ``feedback`` section of ``params_path`` (defaults if it is missing), and its store."""
    path = Path(params_path)
    config = load_params(path).feedback if path.is_file() else FeedbackConfig()
    return config, config.resolved_store(path.resolve().parent)


def shared_metrics_folder() -> tempfile.TemporaryDirectory | None:
    """Point prometheus_client's multiprocess mode at a new folder, unless one is set already.

    Must run before ``prometheus_client`` is imported: the worker processes inherit the
    variable and each writes its metrics there; ``/metrics`` sums them all.
    """
    if os.environ.get(METRICS_FOLDER_ENV):
        return None
    folder = tempfile.TemporaryDirectory(prefix="mnist-mlops-metrics-")
    os.environ[METRICS_FOLDER_ENV] = folder.name
    return folder


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    """Load the model, then serve until interrupted.

    Raises:
        ModelLoadError: The model cannot be loaded (before the server starts).
    """
    import mlflow
    import uvicorn
    from mlflow.exceptions import MlflowException

    from mnist_mlops.serving.http.protocol import GuardedH11Protocol
    from mnist_mlops.serving.http.reload import reload_on_hangup
    from mnist_mlops.serving.runtime.model_info import resolve_model

    uri = tracking_uri_for(args.params)
    mlflow.set_tracking_uri(uri)
    os.environ["MLFLOW_TRACKING_URI"] = uri  # for worker processes
    feedback, store = _feedback_config(args.params)
    options = {
        "record_store": store if feedback.record else None,
        "retention": feedback.retention,
        "max_body": args.max_body_mb * MEBIBYTE,
        "read_timeout_s": args.read_timeout_s,
        "host": args.host,
        "allowed_hosts": args.allowed_hosts,
        "allowed_origins": args.allowed_origins,
        "max_concurrency": args.max_concurrency,
    }
    metrics_folder = shared_metrics_folder() if args.workers > 1 else None
    # Loading puts the model's own copy of this package (its code_paths) first on sys.path;
    # worker processes inherit sys.path and must import the installed package, as this one did.
    search_path = list(sys.path)
    app: Any
    try:
        served = resolve_model(args.model)
        # With --workers > 1 this process only checks the model: the workers record.
        guarded, app = _app(
            served, options if args.workers == 1 else {**options, "record_store": None}
        )
    except (MlflowException, OSError) as exc:
        raise ModelLoadError(f"cannot load model {args.model}: {exc}") from None
    finally:
        sys.path[:] = search_path
    if not _is_loopback(args.host):
        logger.warning(
            "binding to %s exposes the model to the network without TLS or authentication; "
            "keep 127.0.0.1 behind a reverse proxy instead (docs/serving.md); "
            "requests naming a Host other than localhost, %s or --allowed-hosts get HTTP 400",
            args.host,
            args.host,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    logger.info("draw a digit: http://%s:%d/ (REST: /invocations)", shown, args.port)
    if store and feedback.record:
        logger.info("recording served predictions in %s (POST /feedback labels them)", store)
    logger.info("kill -HUP %d loads the version %s names then", os.getpid(), args.model)
    if args.workers > 1:
        os.environ[MODEL_ENV], os.environ[OPTIONS_ENV] = served.to_json(), json.dumps(options)
        app = "mnist_mlops.cli.serve:app_from_environment"
    else:
        reload_on_hangup(guarded)
    # uvicorn calls the protocol "class" with its own arguments; a partial adds ours (and
    # pickles for the worker processes).
    protocol: Any = functools.partial(GuardedH11Protocol, read_timeout_s=args.read_timeout_s)
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            workers=args.workers,
            factory=args.workers > 1,
            log_level="warning",
            http=protocol,
            ws="none",  # no WebSocket endpoints: an Upgrade header is ignored
            # SIGTERM/SIGINT: stop accepting, finish the requests in progress (this long at most)
            timeout_graceful_shutdown=SERVE_DRAIN_TIMEOUT_S,
            timeout_worker_healthcheck=WORKER_START_TIMEOUT_S,  # a new worker loads a model
        )
    finally:
        if metrics_folder is not None:
            metrics_folder.cleanup()
    return 0
