"""The booking API over HTTP (FastAPI) for riders' apps and the call centre.

Book, follow and cancel a ride; see the shuttles. The handlers are async and call the service
loop directly: they run on the same event loop as the loop's rounds and MQTT callbacks, so they
need no lock. Times go out as ISO 8601 in Japan time (``+09:00``).

With a :class:`TokenStore`, every endpoint but ``GET /health`` wants ``Authorization: Bearer``
with one of its tokens (the call centre's, an app back end's); a refusal is a 401.
"""

import logging
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cloud.mobility._dispatch import Alternative, Refusal
from cloud.mobility._gbfs import JST
from cloud.mobility._routes import RideRequest
from cloud.mobility._service import CancellationError, RideStatus
from cloud.mobility._service_config import Ident, Position
from cloud.mobility._service_loop import ShuttleServiceLoop
from cloud.mobility._tokens import DenialLog, Denied, TokenStore
from messages import Clock

logger = logging.getLogger(__name__)

Passengers = Annotated[int, Field(ge=1, le=100)]
RideMinutes = Annotated[float, Field(gt=0, le=600)]


class RideBooking(BaseModel):
    """``POST /rides``: without an id the service gives the ride one."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: Ident | None = None
    pickup: Position
    dropoff: Position
    passengers: Passengers = 1
    earliest_pickup: AwareDatetime
    latest_dropoff: AwareDatetime
    max_ride_minutes: RideMinutes | None = None

    @model_validator(mode="after")
    def _window(self) -> "RideBooking":
        if self.latest_dropoff <= self.earliest_pickup:
            msg = "latest_dropoff must be after earliest_pickup"
            raise ValueError(msg)
        return self

    def request(self, request_id: str) -> RideRequest:
        return RideRequest(
            request_id,
            self.pickup,
            self.dropoff,
            self.passengers,
            self.earliest_pickup.timestamp(),
            self.latest_dropoff.timestamp(),
            None if self.max_ride_minutes is None else self.max_ride_minutes * 60,
        )


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, JST).isoformat(timespec="seconds")


def alternative_document(alternative: Alternative | None) -> dict[str, Any] | None:
    """A refused ride's offer, with the keys ``hinode mobility dispatch`` gives it."""
    if alternative is None:
        return None
    return {
        "earliest_pickup": _iso(alternative.earliest_pickup),
        "latest_dropoff": _iso(alternative.latest_dropoff),
        "shuttle": alternative.shuttle,
        "pickup_eta": _iso(alternative.pickup_eta),
        "dropoff_eta": _iso(alternative.dropoff_eta),
    }


def status_document(status: RideStatus) -> dict[str, Any]:
    return {
        "request": status.request,
        "state": status.state,
        "shuttle": status.shuttle,
        "promised_pickup": _iso(status.promised_pickup),
        "promised_dropoff": _iso(status.promised_dropoff),
        "pickup_eta": _iso(status.pickup_eta),
        "dropoff_eta": _iso(status.dropoff_eta),
        "picked_up_at": _iso(status.picked_up_at),
        "dropped_off_at": _iso(status.dropped_off_at),
    }


def _field(location: tuple[Any, ...]) -> str:
    # ("body", "pickup", 0) → pickup.0; a model-level check names its first field.
    path = [str(part) for part in location if part != "body"]
    return ".".join(path) or "body"


class _DeniedError(Exception):
    def __init__(self, denied: Denied) -> None:
        super().__init__(denied.reason)
        self.denied = denied


def _guard(tokens: TokenStore | None) -> list[DependsParam]:
    """The dependencies that let only *tokens*' holders in (none without a store)."""
    if tokens is None:
        return []
    bearer = HTTPBearer(auto_error=False, description="A token from the booking API's token file.")
    denials = DenialLog(logger, "booking API")

    async def authorized(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        verdict = tokens.check(None if credentials is None else credentials.credentials)
        if isinstance(verdict, Denied):
            denials.record(verdict, request.client.host if request.client else None)
            raise _DeniedError(verdict)
        return verdict

    return [Depends(authorized)]


def create_booking_app(
    loop: ShuttleServiceLoop, clock: Clock, tokens: TokenStore | None = None
) -> FastAPI:
    """The ASGI application booking rides on *loop*; *clock* says when a request came.

    With *tokens*, only their holders may use it (``GET /health`` stays open to monitoring).
    """
    app = FastAPI(
        title="Hinode shuttle booking",
        summary="Book, follow and cancel shuttle rides; see where the shuttles are.",
        version="1",
    )
    guard = _guard(tokens)

    @app.exception_handler(_DeniedError)
    async def denied(_: Request, error: _DeniedError) -> JSONResponse:
        return JSONResponse(
            {"error": error.denied.reason},
            status_code=error.denied.status,
            headers={"WWW-Authenticate": error.denied.challenge},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field(tuple(problem["loc"])), "problem": problem["msg"]}
            for problem in error.errors()
        ]
        first = problems[0] if problems else {"field": "body", "problem": "invalid"}
        return JSONResponse(
            {"error": f"{first['field']}: {first['problem']}", "problems": problems},
            status_code=422,
        )

    @app.post("/rides", status_code=201, dependencies=guard)
    async def book(booking: RideBooking) -> Any:
        request_id = booking.id or f"ride-{secrets.token_hex(6)}"
        if loop.service.booked(request_id):
            return JSONResponse(
                {"request": request_id, "reason": "a ride with this id was booked already"},
                status_code=409,
            )
        outcome = loop.request(booking.request(request_id), clock.now())
        if isinstance(outcome, Refusal):
            return JSONResponse(
                {
                    "request": request_id,
                    "reason": outcome.reason,
                    "alternative": alternative_document(outcome.alternative),
                },
                status_code=409,
            )
        return {
            "request": request_id,
            "shuttle": outcome.shuttle,
            "pickup_eta": _iso(outcome.pickup_eta),
            "dropoff_eta": _iso(outcome.dropoff_eta),
        }

    @app.get("/rides/{request_id}", dependencies=guard)
    async def ride_status(request_id: str) -> Any:
        status = loop.service.status(request_id, clock.now())
        if status is None:
            return JSONResponse({"error": f"no ride {request_id!r}"}, status_code=404)
        return status_document(status)

    @app.delete("/rides/{request_id}", status_code=204, dependencies=guard)
    async def cancel(request_id: str) -> Response:
        try:
            loop.cancel(request_id, clock.now())
        except CancellationError as error:
            code = 404 if error.state == "unknown" else 409
            return JSONResponse(
                {"request": request_id, "state": error.state, "reason": str(error)},
                status_code=code,
            )
        return Response(status_code=204)

    @app.get("/shuttles", dependencies=guard)
    async def shuttles() -> Any:
        now = clock.now()
        gateways = {shuttle.id: shuttle.gateway for shuttle in loop.config.shuttles}
        documents = []
        for shuttle_id in sorted(loop.service.routes):
            route = loop.service.route_at(shuttle_id, now)
            documents.append(
                {
                    "id": shuttle_id,
                    "gateway": gateways[shuttle_id],
                    "position": list(route.shuttle.position),
                    "capacity": route.shuttle.capacity,
                    "load": route.shuttle.load,
                    "stops": [
                        {
                            "request": stop.request,
                            "action": stop.action,
                            "position": list(stop.position),
                            "eta": _iso(eta),
                        }
                        for stop, eta in zip(route.stops, route.timing.service, strict=True)
                    ],
                }
            )
        return {"at": _iso(now), "shuttles": documents}

    @app.get("/health")
    async def health() -> Any:
        return {
            "status": "ok",
            "site": loop.config.site,
            "shuttles": len(loop.service.routes),
            "positions_received": loop.positions_received,
            "commands_sent": loop.commands_sent,
            "commands_resent": loop.commands_resent,
        }

    return app
