"""Mobility controllers (pure): shuttle ride dispatch, scooter fleet state and feeds, rebalancing.

Dispatch::

    problem = DispatchInput.model_validate(document).problem()   # or build DispatchProblem
    result = dispatch(problem)              # promised plans kept, new rides inserted, refusals
    result = reoptimise(result, time_budget_s=5.0)   # batch: never drops or delays a promise
    dispatch_document(result)               # the JSON of ``hinode mobility dispatch``

``insert_request(result, ride)`` answers one new ride at once (insertion or refusal with reason
and the earliest feasible alternative). Times are epoch seconds; ``now`` is always an argument.

As a service (``hinode mobility run``)::

    loop = ShuttleServiceLoop(MobilityServiceConfig(...), commands, now=clock.now())
    loop.request(ride, now)         # answered at once; the shuttle gets its route as a cmd
    loop.receive(topic, payload)    # a position message: stops served, ETAs re-timed
    loop.command_result(topic, payload)   # the gateway's answer: lost routes are sent again
    loop.cancel(request_id, now)    # a ride not yet picked up leaves its route
    loop.report()                   # waits and ride times
    loop.state()                    # everything a restarted loop resumes from:
    encode_state(state); decode_state(text)   # … as versioned JSON
    ShuttleServiceLoop(config, commands, now=…, restored=fit_to_config(state, config)[0],
                       state_store=store)     # resumes; saves each change (≤ 1/s) and on stop
    create_booking_app(loop, clock) # POST/GET/DELETE /rides, GET /shuttles over HTTP

Scooters::

    fleet = ScooterFleet(provider_id, id_secret, types=(ScooterType(...),), hubs=(Hub(...),))
    fleet.deploy(device_id, label, type_id, position, battery_pct, at_ms)   # MDS events follow
    fleet.start_trip(device_id, at_ms); fleet.report(...); fleet.end_trip(...)
    tracker = ScooterTracker(fleet, {vehicle: TrackedScooter(device_id, label, type_id)})
    tracker.position(payload)     # the scooter's own reports: deploy, trips from the lock
    service = FeedService(fleet, SystemInfo(...), base_url, zones)   # GBFS 3.0 + MDS 2.0
    service.respond("/gbfs/vehicle_status.json", {}, now_ms)          # pure routing
    with FeedServer(service, now_ms=clock) as server: server.url      # the one HTTP adapter

Rebalancing::

    profile = demand_profile(fleet.trips, fleet.hubs, JST)
    plan = plan_rebalancing(fleet, profile, at, Van(position, capacity=8, batteries=10))
"""

from cloud.mobility._batch_rebase import rebase_batch
from cloud.mobility._booking_api import RideBooking, create_booking_app
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
from cloud.mobility._feed_server import FeedServer
from cloud.mobility._feeds import FeedResponse, FeedService
from cloud.mobility._fleet import (
    BATTERY_LOW_PCT,
    Hub,
    MdsEvent,
    MdsTelemetry,
    MdsTrip,
    Scooter,
    ScooterFleet,
    ScooterType,
)
from cloud.mobility._fleet_config import FleetConfig
from cloud.mobility._fleet_replay import StoredFix, replay, stored_fixes
from cloud.mobility._gbfs import GBFS_VERSION, JST, NoRideZone, SystemInfo
from cloud.mobility._geo import LatLon, TravelModel, distance_m
from cloud.mobility._gtfs import BusConnection, Timetable, gtfs_seconds
from cloud.mobility._insertion import Insertion, Route, best_insertion, best_insertion_into
from cloud.mobility._mds import MDS_VERSION
from cloud.mobility._progress import ARRIVAL_RADIUS_M, RideRecord, RouteProgress
from cloud.mobility._rebalance import (
    DemandProfile,
    RebalancePlan,
    Van,
    VanAction,
    ZoneOutlook,
    demand_profile,
    nearest_zone,
    plan_rebalancing,
)
from cloud.mobility._rebalance_input import RebalanceInput
from cloud.mobility._reoptimise import reoptimise
from cloud.mobility._route_delivery import ResultVerdict, RouteCommand, RouteDelivery
from cloud.mobility._routes import RideRequest, Schedule, Shuttle, Stop, schedule, stops_of
from cloud.mobility._scooter_states import (
    TRANSITIONS,
    EventType,
    InvalidTransitionError,
    VehicleStatus,
    next_state,
)
from cloud.mobility._scooter_tracker import BATTERY_CHARGED_PCT, ScooterTracker, TrackedScooter
from cloud.mobility._service import (
    CancellationError,
    RideState,
    RideStatus,
    ServiceReport,
    ServiceState,
    ShuttleService,
    compute_batch,
)
from cloud.mobility._service_config import MobilityServiceConfig, ServiceRide, ServiceShuttle
from cloud.mobility._service_fit import StateConflictError, fit_to_config
from cloud.mobility._service_loop import (
    ServiceLog,
    ShuttleServiceLoop,
    StateStore,
    report_document,
)
from cloud.mobility._service_state import (
    STATE_VERSION,
    LoopState,
    ShuttleLink,
    StateDocumentError,
    decode_state,
    encode_state,
)
from cloud.mobility._tokens import (
    DenialLog,
    Denied,
    TokenFileError,
    TokenStore,
    bearer_token,
    new_bearer_token,
    token_file_line,
    valid_caller_name,
)

__all__ = [
    "ARRIVAL_RADIUS_M",
    "BATTERY_CHARGED_PCT",
    "BATTERY_LOW_PCT",
    "GBFS_VERSION",
    "JST",
    "MDS_VERSION",
    "STATE_VERSION",
    "TRANSITIONS",
    "Alternative",
    "Assignment",
    "BusConnection",
    "CancellationError",
    "DemandProfile",
    "DenialLog",
    "Denied",
    "DispatchInput",
    "DispatchInputError",
    "DispatchProblem",
    "DispatchResult",
    "EventType",
    "FeedResponse",
    "FeedServer",
    "FeedService",
    "FleetConfig",
    "Hub",
    "Insertion",
    "InvalidTransitionError",
    "LatLon",
    "LoopState",
    "MdsEvent",
    "MdsTelemetry",
    "MdsTrip",
    "MobilityServiceConfig",
    "NoRideZone",
    "PlannedStop",
    "RebalanceInput",
    "RebalancePlan",
    "Refusal",
    "ResultVerdict",
    "RideBooking",
    "RideRecord",
    "RideRequest",
    "RideState",
    "RideStatus",
    "Route",
    "RouteCommand",
    "RouteDelivery",
    "RouteProgress",
    "Schedule",
    "Scooter",
    "ScooterFleet",
    "ScooterTracker",
    "ScooterType",
    "ServiceLog",
    "ServiceReport",
    "ServiceRide",
    "ServiceShuttle",
    "ServiceState",
    "Shuttle",
    "ShuttleLink",
    "ShuttleService",
    "ShuttleServiceLoop",
    "ShuttleState",
    "StateConflictError",
    "StateDocumentError",
    "StateStore",
    "Stop",
    "StoredFix",
    "SystemInfo",
    "Timetable",
    "TokenFileError",
    "TokenStore",
    "TrackedScooter",
    "TravelModel",
    "Van",
    "VanAction",
    "VehicleStatus",
    "ZoneOutlook",
    "bearer_token",
    "best_insertion",
    "best_insertion_into",
    "compute_batch",
    "create_booking_app",
    "decode_state",
    "demand_profile",
    "describe_validation_error",
    "dispatch",
    "dispatch_document",
    "distance_m",
    "encode_state",
    "fit_to_config",
    "gtfs_seconds",
    "insert_request",
    "iso",
    "nearest_zone",
    "new_bearer_token",
    "next_state",
    "plan_rebalancing",
    "plan_routes",
    "rebase_batch",
    "refuse",
    "reoptimise",
    "replay",
    "report_document",
    "schedule",
    "stops_of",
    "stored_fixes",
    "token_file_line",
    "valid_caller_name",
]
