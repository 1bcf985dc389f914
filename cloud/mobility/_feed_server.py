"""The feeds over HTTP: a thin stdlib adapter around :class:`FeedService` (this package's I/O)."""

import json
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit

from cloud.mobility._feeds import FeedResponse, FeedService
from cloud.mobility._tokens import DenialLog

logger = logging.getLogger(__name__)

#: A client that sends nothing for this long is dropped.
REQUEST_TIMEOUT_S = 10.0
#: In the MDS error message shape (GBFS defines none; its clients still find an ``error``).
_INTERNAL_ERROR = {
    "error": "internal_error",
    "error_description": "the document could not be built",
    "error_details": ["see the server log"],
}


class FeedServer:
    """Serves *service* on *host*:*port* (0 = any free port) from a background thread.

    *lock* is held while a document is built, so a simulation may update the fleet between
    requests; *now_ms* is the clock (injected: a simulated clock serves simulated time).
    Refused MDS requests are logged as warnings, at most one a minute per reason.
    """

    def __init__(
        self,
        service: FeedService,
        now_ms: Callable[[], int],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lock: AbstractContextManager[object] | None = None,
    ) -> None:
        self.service = service
        guard: AbstractContextManager[object] = lock or threading.Lock()
        denials = DenialLog(logger, "MDS")

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT_S

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                try:
                    with guard:
                        response = service.respond(
                            url.path,
                            dict(parse_qsl(url.query)),
                            now_ms(),
                            accept=self.headers.get("Accept"),
                            authorization=self.headers.get("Authorization"),
                        )
                except Exception:
                    # One bad document must not take the feed down; the reason goes to the log.
                    logger.exception("feed %s failed", url.path)
                    response = FeedResponse(500, "application/json", _INTERNAL_ERROR)
                if response.denied is not None:
                    denials.record(response.denied, self.client_address[0])
                body = json.dumps(response.document, ensure_ascii=False).encode("utf-8")
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in response.headers:
                    self.send_header(name, value)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # access logs would drown the terminal dashboard

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        if self.service.tokens is None:
            logger.warning("MDS endpoints at %s/mds/ are open to anyone: no token file", self.url)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
