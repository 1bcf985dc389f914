"""Time series in InfluxDB through influxdb-client: the production store.

Writes go through the client's v2 write API (``/api/v2/write``, line protocol, ms precision,
synchronous, so a returned write is stored). Queries use InfluxQL on ``/query``, which InfluxDB 2
serves for every bucket through its v1 compatibility API (the bucket ``db/rp`` is database ``db``,
retention policy ``rp``) and InfluxDB 1.x natively; Grafana reads the same way.
"""

import heapq
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from cloud._line_protocol import from_series, to_lines
from cloud._model import ReadingQuery, StoredReading
from messages import TransportError
from messages.models import MAX_TS_MS, MIN_TS_MS

logger = logging.getLogger(__name__)

#: Timeout of one HTTP request to InfluxDB.
TIMEOUT_MS = 30_000
#: Rows per InfluxQL page.
PAGE_ROWS = 10_000
MEASUREMENTS = ("telemetry", "vitals", "position")


class InfluxTimeSeries:
    """Readings in one InfluxDB bucket."""

    def __init__(self, http_url: str, *, org: str, bucket: str, token: str, url: str) -> None:
        self.url = url
        self.org = org
        self.bucket = bucket
        self._database, _, self._retention = bucket.partition("/")
        self._token = token
        self._client = InfluxDBClient(url=http_url, token=token, org=org, timeout=TIMEOUT_MS)
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, readings: Sequence[StoredReading]) -> int:
        if not readings:
            return 0
        try:
            self._writer.write(
                bucket=self.bucket,
                org=self.org,
                record="\n".join(to_lines(readings)),
                write_precision=WritePrecision.MS,  # type: ignore[arg-type]
            )
        except ApiException as exc:
            if _partial_write(exc):
                # The rest of the batch is stored; retrying cannot store the refused points
                # (e.g. older than the bucket's retention) and would block the collector.
                logger.warning("InfluxDB dropped part of a write", extra={"reason": _reason(exc)})
                return len(readings)
            msg = f"writing {len(readings)} readings to {self.url} failed: {_reason(exc)}"
            raise TransportError(msg) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            msg = f"writing {len(readings)} readings to {self.url} failed: {_reason(exc)}"
            raise TransportError(msg) from exc
        return len(readings)

    def query(self, query: ReadingQuery) -> Iterator[StoredReading]:
        streams = [self._measurement(kind, query) for kind in MEASUREMENTS]
        return heapq.merge(*streams, key=_order)

    def _measurement(self, kind: str, query: ReadingQuery) -> Iterator[StoredReading]:
        since = MIN_TS_MS if query.since is None else query.since
        until = MAX_TS_MS if query.until is None else query.until
        columns = "*" if query.quantity is None else f'{_ident(query.quantity)}, "seq", *::tag'
        device = "" if query.device is None else f' AND "device" = {_literal(query.device)}'
        limit = PAGE_ROWS
        while since < until:
            statement = (
                f"SELECT {columns} FROM {_ident(kind)} WHERE time >= {since}ms"
                f" AND time < {until}ms{device} ORDER BY time ASC LIMIT {limit}"
            )
            header, rows = self._select(statement)
            if len(rows) < limit:
                yield from sorted(from_series(kind, header, rows, query.quantity), key=_order)
                return
            last = int(rows[-1][0])
            if int(rows[0][0]) == last:
                limit *= 2  # a whole page at one instant: read a bigger one
                continue
            page = [row for row in rows if int(row[0]) < last]
            yield from sorted(from_series(kind, header, page, query.quantity), key=_order)
            since = last

    def _select(self, statement: str) -> tuple[list[str], list[list[Any]]]:
        params = [("db", self._database), ("q", statement), ("epoch", "ms")]
        if self._retention:
            params.append(("rp", self._retention))
        try:
            response = self._client.api_client.call_api(  # type: ignore[no-untyped-call]
                "/query",
                "POST",
                query_params=params,
                header_params={
                    "Accept": "application/json",
                    "Authorization": f"Token {self._token}",
                },
                _preload_content=False,
                _return_http_data_only=True,
            )
            try:
                body = json.loads(response.data)
            finally:
                response.release_conn()
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            msg = f"querying {self.url} failed: {_reason(exc)}"
            raise TransportError(msg) from exc
        if "error" in body:
            msg = f"querying {self.url} failed: {body['error']}"
            raise TransportError(msg)
        result = body.get("results", [{}])[0]
        if "error" in result:
            msg = f"querying {self.url} failed: {result['error']}"
            raise TransportError(msg)
        series = result.get("series") or []
        if not series:
            return ["time"], []
        return list(series[0]["columns"]), list(series[0]["values"])

    def close(self) -> None:
        self._writer.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


def _partial_write(exc: ApiException) -> bool:
    body = str(exc.body or "")
    return exc.status in {400, 422} and ("partial write" in body or "retention" in body)


def _order(reading: StoredReading) -> tuple[int, str, str, str, str, str]:
    return (
        reading.ts,
        reading.site,
        reading.gateway,
        reading.device,
        reading.quantity,
        reading.phase or "",
    )


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return f"HTTP {exc.status}: {(exc.body or exc.reason or '')!s}".strip()[:300]
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
