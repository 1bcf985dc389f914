"""The care API over HTTP (FastAPI): bearer token per actor, one audit entry per request.

Every parameter is taken as text and checked by the service, so that a malformed request is
refused *and audited* rather than rejected by the framework before anyone writes it down.
"""

from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cloud.health._fhir import kind_of_code
from cloud.health._model import View
from cloud.health._service import AccessError, CareService, Request
from messages import TransportError

FHIR_JSON = "application/fhir+json"

Kind = Annotated[str | None, Query(description="One measurement kind (default: every kind).")]
Day = Annotated[str | None, Query(description="Last local day, YYYY-MM-DD (default: today).")]
Days = Annotated[str | None, Query(description="How many days up to `day` (default 1).")]
Authorization = Annotated[str | None, Header()]


def _bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _refused(error: AccessError, *, fhir: bool = False) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    if not fhir:
        return JSONResponse({"error": error.reason}, status_code=error.status, headers=headers)
    code = {401: "login", 403: "forbidden"}.get(error.status, "invalid")
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": error.reason}],
    }
    return JSONResponse(outcome, status_code=error.status, headers=headers, media_type=FHIR_JSON)


def create_app(service: CareService) -> FastAPI:
    """The ASGI application serving *service*."""
    app = FastAPI(
        title="Hinode care API",
        summary="Vital signs of care recipients, shared by role and consent; every access audited.",
        version="1",
    )

    async def answer(request: Request, *, fhir: bool = False) -> Any:
        try:
            body = await run_in_threadpool(service.handle, request)
        except AccessError as error:
            return _refused(error, fhir=fhir)
        except TransportError:
            # Without its audit entry an access must not happen: fail closed.
            return JSONResponse({"error": "care state unavailable"}, status_code=503)
        return JSONResponse(body, media_type=FHIR_JSON) if fhir else body

    def subject_route(view: View) -> None:
        async def endpoint(
            subject: str,
            kind: Kind = None,
            day: Day = None,
            days: Days = None,
            authorization: Authorization = None,
        ) -> Any:
            token = _bearer(authorization)
            return await answer(Request(token, subject, view, kind, day, days))

        app.get(f"/v1/subjects/{{subject}}/{view.value}", name=view.value)(endpoint)

    for view in (View.SUMMARY, View.DETAIL, View.ADHERENCE, View.ALERTS):
        subject_route(view)

    @app.get("/fhir/Observation", name="fhir_observations")
    async def fhir_observations(
        subject: Annotated[str, Query(description="Patient/ID, ID or a pseudonym.")] = "",
        code: Annotated[
            str | None, Query(description="A LOINC code (or loinc-system|code) of one kind.")
        ] = None,
        kind: Kind = None,
        day: Day = None,
        days: Annotated[str | None, Query(description="Days up to `day` (default 30).")] = None,
        authorization: Authorization = None,
    ) -> Any:
        token = _bearer(authorization)
        plain = subject.removeprefix("Patient/")
        if kind is None and code is not None:
            # An unexported code is an unknown kind: refused as a bad request, and audited.
            kind = kind_of_code(code) or f"loinc:{code}"
        return await answer(Request(token, plain, View.FHIR, kind, day, days), fhir=True)

    return app
