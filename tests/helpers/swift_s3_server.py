"""A real S3-compatible object store on 127.0.0.1: OpenStack Swift with its s3api middleware.

Usage (under Debian's interpreter, the one ``apt-get install python3-swift`` serves)::

    /usr/bin/python3 tests/helpers/swift_s3_server.py FOLDER

It writes ``FOLDER/etc`` (``swift.conf``, one-device rings, a paste config per server) and keeps
the data under ``FOLDER/srv/d1``. The proxy (s3api + tempauth, user ``test:tester``, key
``testing``, region us-east-1) and the account, container and object servers all run in this
one process as eventlet green threads, each on a free port the kernel picks. Once they listen,
the only line on stdout is ``READY http://127.0.0.1:PORT`` (the proxy); Swift's log goes to
stderr. SIGTERM or SIGINT stops it (exit status 0).

It imports nothing from the project (the project's interpreter cannot import swift, and
Debian's has none of the project's packages).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import eventlet
import eventlet.wsgi
from swift.common import utils
from swift.common.http_protocol import SwiftHttpProtocol
from swift.common.ring import RingBuilder
from swift.common.storage_policy import reload_storage_policies
from swift.common.wsgi import loadapp

HOST = "127.0.0.1"
BACKENDS = ("account", "container", "object")
SWIFT_CONF = """[swift-hash]
swift_hash_path_suffix = s3test
swift_hash_path_prefix = s3test

[storage-policy:0]
name = Policy-0
default = yes
"""
COMMON_CONF = """[DEFAULT]
swift_dir = {etc}
devices = {srv}
mount_check = false
workers = 0
bind_ip = 127.0.0.1
bind_port = {port}
log_name = {name}
"""
BACKEND_CONF = """
[pipeline:main]
pipeline = {name}

[app:{name}]
use = egg:swift#{kind}
"""
PROXY_CONF = """
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api
    tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:cache]
paste.filter_factory = __main__:cache_filter_factory

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
allow_multipart_uploads = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
"""
PLAIN_FILTERS = {"proxy-logging": "proxy_logging"}  # section name: Swift's entry point
PLAIN_FILTERS |= {name: name for name in ("catch_errors", "gatekeeper", "healthcheck")}
PLAIN_FILTERS |= {name: name for name in ("listing_formats", "copy", "slo", "dlo")}
PROXY_CONF += "".join(f"\n[filter:{k}]\nuse = egg:swift#{v}\n" for k, v in PLAIN_FILTERS.items())


class DictCache:
    """In-process stand-in for Swift's ``MemcacheRing`` (``env['swift.cache']``).

    Values are stored as memcached would hold them (JSON text when serialised, bytes
    otherwise), so callers never share mutable objects with the cache.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, bytes | str]] = {}

    @staticmethod
    def _expiry(ttl: float) -> float:
        """memcached's rule: a TTL over 30 days is an absolute time, 0 means never."""
        if not ttl:
            return float("inf")
        return ttl if ttl > 30 * 86400 else time.time() + ttl

    def set(self, key: str, value: Any, serialize: bool = True, time: float = 0, **_: Any) -> None:
        stored = json.dumps(value) if serialize else str(value).encode()
        self._items[key] = (self._expiry(time), stored)

    def get(self, key: str, raise_on_error: bool = False) -> Any:
        expiry, stored = self._items.get(key, (0.0, b""))
        if expiry < time.time():
            self._items.pop(key, None)
            return None
        return json.loads(stored) if isinstance(stored, str) else stored

    def incr(self, key: str, delta: int = 1, time: float = 0) -> int:
        value = max(0, int(self.get(key) or 0) + int(delta))
        self.set(key, value, serialize=False, time=time)
        return value

    def decr(self, key: str, delta: int = 1, time: float = 0) -> int:
        return self.incr(key, -delta, time)

    def delete(self, key: str, server_key: str | None = None) -> None:
        self._items.pop(key, None)

    def get_multi(self, keys: list[str], server_key: str) -> list[Any]:
        return [self.get(key) for key in keys]

    def set_multi(self, mapping: dict[str, Any], server_key: str, **options: Any) -> None:
        for key, value in mapping.items():
            self.set(key, value, **options)


def cache_filter_factory(global_conf: dict, **local_conf: str) -> Any:
    """Paste filter factory: give every request the one process-wide :class:`DictCache`."""
    cache = DictCache()

    def cache_filter(app: Any) -> Any:
        def with_cache(env: dict, start_response: Any) -> Any:
            env["swift.cache"] = cache
            return app(env, start_response)

        return with_cache

    return cache_filter


class StderrHandler(logging.StreamHandler):
    """Stands in for Swift's syslog handler (there is no syslog here): records go to stderr."""

    def __init__(self, **_syslog_options: Any) -> None:
        super().__init__(sys.stderr)


def check_xattrs(folder: Path) -> None:
    """Exit with a clear message where ``folder`` lacks user xattrs (Swift's object metadata)."""
    try:
        os.setxattr(folder, "user.swift.probe", b"1")
    except OSError as error:
        sys.exit(
            f"{folder}: no user extended attributes ({error}); Swift's object server needs them"
        )


def write_rings(etc: Path, ports: dict[str, int]) -> None:
    """Save a one-replica ring with the single device ``d1`` for each backend server."""
    for kind, port in ports.items():
        builder = RingBuilder(4, 1, 1)
        device = {"id": 0, "region": 1, "zone": 1, "ip": HOST, "port": port, "device": "d1"}
        builder.add_dev(device | {"weight": 1.0, "meta": ""})
        builder.rebalance()
        builder.get_ring().save(str(etc / f"{kind}.ring.gz"))


def write_conf(etc: Path, srv: Path, name: str, port: int) -> Path:
    """Write the paste config of server ``name`` (``proxy`` or a backend) on ``port``."""
    path = etc / f"{name}-server.conf"
    common = COMMON_CONF.format(etc=etc, srv=srv, port=port, name=f"{name}-server")
    body = PROXY_CONF if name == "proxy" else BACKEND_CONF.format(name=f"{name}-server", kind=name)
    path.write_text(common + body)
    return path


def start_servers(folder: Path) -> tuple[int, list[Any]]:
    """Configure Swift under ``folder``, start its four servers; return the proxy's port and
    the green threads serving."""
    etc, srv = folder / "etc", folder / "srv"
    etc.mkdir(parents=True, exist_ok=True)
    (srv / "d1").mkdir(parents=True, exist_ok=True)
    check_xattrs(srv / "d1")
    (etc / "swift.conf").write_text(SWIFT_CONF)
    utils.set_swift_dir(str(etc))
    reload_storage_policies()
    sockets = {name: eventlet.listen((HOST, 0)) for name in ("proxy", *BACKENDS)}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
    write_rings(etc, {kind: ports[kind] for kind in BACKENDS})
    threads = []
    for name, sock in sockets.items():
        app = loadapp(str(write_conf(etc, srv, name, ports[name])))
        options = {"protocol": SwiftHttpProtocol, "capitalize_response_headers": False}
        threads.append(
            eventlet.spawn(eventlet.wsgi.server, sock, app, utils.NullLogger(), **options)
        )
    return ports["proxy"], threads


def main(argv: list[str]) -> int:
    """Serve until SIGTERM or SIGINT; ``argv`` is ``[FOLDER]``."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    eventlet.monkey_patch(all=False, socket=True, select=True, thread=True)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    utils.ThreadSafeSysLogHandler = StderrHandler  # what swift.common.utils.get_logger builds
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: stopping.append(signum))
    port, threads = start_servers(Path(argv[0]).resolve())
    print(f"READY http://{HOST}:{port}", flush=True)
    while not stopping:
        eventlet.sleep(0.1)
    for thread in threads:
        thread.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
