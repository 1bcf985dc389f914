"""A real InfluxDB 1.x started by a test, behind a small InfluxDB 2 compatibility layer.

Debian ships InfluxDB 1.6, which has no ``/api/v2`` and does not support influxdb-client's 1.x
compatibility mode (that needs 1.8). ``InfluxDB`` starts ``influxd`` in a temp directory on free
ports with a generated config, creates the database, and puts ``V2Compat`` in front of it: an HTTP
server that translates the one v2 endpoint the collector uses,

    POST /api/v2/write?org=O&bucket=DB[/RP]&precision=P  →  POST /write?db=DB[&rp=RP]&precision=P

and passes ``/query`` (InfluxQL, which InfluxDB 2 also serves), ``/ping`` and ``/health``
through unchanged. The store under test is the production adapter, pointed at the layer.
"""

import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.ports import free_port, wait_port

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"
DATABASE = "hinode"


def influxd_available() -> bool:
    return Path(INFLUXD).exists()


class V2Compat:
    """Translates ``/api/v2/write`` to 1.x ``/write``; passes everything else through."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.writes = 0
        handler = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        compat = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                parts = urllib.parse.urlsplit(self.path)
                path, query = parts.path, urllib.parse.parse_qs(parts.query)
                if path == "/api/v2/write":
                    database, _, retention = query.get("bucket", [""])[0].partition("/")
                    translated = {"db": database, "precision": query.get("precision", ["ns"])[0]}
                    if retention:
                        translated["rp"] = retention
                    path = "/write"
                    target = f"{path}?{urllib.parse.urlencode(translated)}"
                    compat.writes += 1
                elif path == "/health":
                    target = "/ping"
                else:
                    target = self.path
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() in {"content-type", "content-encoding", "accept"}
                }
                upstream = http.client.HTTPConnection("127.0.0.1", compat.upstream_port, timeout=60)
                try:
                    upstream.request(self.command, target, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                finally:
                    upstream.close()
                if parts.path == "/health" and response.status == 204:
                    response_status, payload = 200, b'{"status":"pass"}'
                else:
                    response_status = response.status
                self.send_response(response_status)
                content_type = response.getheader("Content-Type")
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

        return Handler


class InfluxDB:
    """One ``influxd`` process plus its compatibility layer; ``url`` is the store URL."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.http_port = free_port()
        self.rpc_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self.compat: V2Compat | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "influxdb.conf"
        self.log_path = workdir / "influxd.log"

    @property
    def url(self) -> str:
        assert self.compat is not None
        return f"influx://127.0.0.1:{self.compat.port}?org=hinode&bucket={DATABASE}&token=test"

    def write_config(self) -> None:
        self.config_path.write_text(
            "\n".join(
                [
                    "reporting-disabled = true",
                    f'bind-address = "127.0.0.1:{self.rpc_port}"',
                    "[meta]",
                    f'  dir = "{self.workdir}/meta"',
                    "[data]",
                    f'  dir = "{self.workdir}/data"',
                    f'  wal-dir = "{self.workdir}/wal"',
                    "  query-log-enabled = false",
                    "[http]",
                    f'  bind-address = "127.0.0.1:{self.http_port}"',
                    "  log-enabled = false",
                    "[monitor]",
                    "  store-enabled = false",
                    "[continuous_queries]",
                    "  enabled = false",
                    "[subscriber]",
                    "  enabled = false",
                    "",
                ]
            )
        )

    def start(self) -> None:
        self.write_config()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [INFLUXD, "-config", str(self.config_path)],
                stdout=log,
                stderr=log,
                env={**os.environ, "INFLUXDB_DATA_QUERY_LOG_ENABLED": "false"},
            )
        try:
            wait_port(self.http_port, timeout=30)
            self._wait_ping()
        except (TimeoutError, OSError):
            self.stop()
            msg = f"influxd did not start: {self.log_path.read_text()[-2000:]}"
            raise RuntimeError(msg) from None
        self.execute(f"CREATE DATABASE {DATABASE}")
        self.compat = V2Compat(self.http_port)
        self.compat.start()

    def _wait_ping(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2)
            try:
                connection.request("GET", "/ping")
                if connection.getresponse().status == 204:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        raise TimeoutError

    def execute(self, statement: str) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        body = urllib.parse.urlencode({"q": statement})
        try:
            connection.request(
                "POST",
                "/query",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status != 200:
            msg = f"influxd refused {statement!r}: {payload!r}"
            raise RuntimeError(msg)
        return payload

    def stop(self) -> None:
        if self.compat is not None:
            self.compat.stop()
            self.compat = None
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None
