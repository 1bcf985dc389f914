"""Mobility controllers (pure): shuttle ride dispatch, scooter fleet state and feeds, rebalancing.

Dispatch::

    problem = DispatchInput.model_validate(document).problem()   # or build DispatchProblem
    result = dispatch(problem)              # promised plans kept, new rides inserted, refusals
    result = reoptimise(result, time_budget_s=5.0)   # batch: never drops or delays a promise
    dispatch_document(result)               # the JSON of ``hinode mobility dispatch``

``insert_request(result, ride)`` answers one new ride at once (insertion or refusal with reason
and the earliest feasible alternative). Times are epoch seconds; ``now`` is always an argument.
"""

from cloud.mobility._dispatch import (
    Alternative,
    Assignment,
    DispatchInputError,
    DispatchProblem,
    DispatchResult,
    PlannedStop,
    Refusal,
    ShuttleState,
    dispatch,
    insert_request,
    plan_routes,
    refuse,
)
from cloud.mobility._dispatch_input import (
    DispatchInput,
    describe_validation_error,
    dispatch_document,
    iso,
)
from cloud.mobility._geo import LatLon, TravelModel, distance_m
from cloud.mobility._insertion import Insertion, Route, best_insertion, best_insertion_into
from cloud.mobility._reoptimise import reoptimise
from cloud.mobility._routes import RideRequest, Schedule, Shuttle, Stop, schedule, stops_of

__all__ = [
    "Alternative",
    "Assignment",
    "DispatchInput",
    "DispatchInputError",
    "DispatchProblem",
    "DispatchResult",
    "Insertion",
    "LatLon",
    "PlannedStop",
    "Refusal",
    "RideRequest",
    "Route",
    "Schedule",
    "Shuttle",
    "ShuttleState",
    "Stop",
    "TravelModel",
    "best_insertion",
    "best_insertion_into",
    "describe_validation_error",
    "dispatch",
    "dispatch_document",
    "distance_m",
    "insert_request",
    "iso",
    "plan_routes",
    "refuse",
    "reoptimise",
    "schedule",
    "stops_of",
]
