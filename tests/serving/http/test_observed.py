"""``Observed`` in process: ``/ready`` follows the app's readiness; labels stay bounded."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import REGISTRY
from starlette.responses import PlainTextResponse

from mnist_mlops.serving.http.limits import protected
from mnist_mlops.serving.http.metrics import route_of
from mnist_mlops.serving.http.observed import Observed


async def teapot(scope, receive, send):
    await PlainTextResponse("tea", 418)(scope, receive, send)


def get(app, path, method="GET"):
    async def call():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path)

    return asyncio.run(call())


def count(**labels) -> float:
    return REGISTRY.get_sample_value("mnist_mlops_requests_total", labels) or 0.0


def test_ready_answers_503_until_the_app_is_ready_then_200():
    loaded = False
    app = Observed(teapot, lambda: loaded)
    waiting = get(app, "/ready")
    assert waiting.status_code == 503 and waiting.headers["retry-after"] == "1"
    assert "not loaded" in waiting.json()["message"]
    loaded = True
    assert get(app, "/ready").json() == {"status": "ready"}
    assert get(app, "/anything").status_code == 418  # everything else goes to the app


def test_metrics_and_ready_are_answered_when_every_slot_is_taken():
    async def slow(scope, receive, send):
        await asyncio.sleep(0.5)
        await teapot(scope, receive, send)

    app = protected(slow, ["127.0.0.1"], max_concurrency=1)

    async def both():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            busy = asyncio.create_task(client.get("/invocations"))
            await asyncio.sleep(0.1)
            answers = [await client.get(path) for path in ("/metrics", "/ready", "/version")]
            return [*answers, await busy]

    metrics, ready, refused, served = asyncio.run(both())
    assert metrics.status_code == 200 and "mnist_mlops_requests_total" in metrics.text
    assert ready.status_code == 200 and refused.status_code == 503 and served.status_code == 418


def test_unknown_paths_and_methods_share_one_label_each():
    app = Observed(teapot, lambda: True)
    before = count(route="other", method="other", status="418")
    for path in ("/a", "/b/c", "/%2e%2e/etc"):
        get(app, path, method="BREW")
    assert count(route="other", method="other", status="418") - before == 3
    assert route_of("/static/page.js") == "/" and route_of("/invocations") == "/invocations"
