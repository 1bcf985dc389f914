"""Simulated vehicles: walking-speed shuttles and scooters on the quarter's roads, NMEA on a pty.

Knows nothing of the gateway: it writes its own NMEA (RMC, VTG, GGA, GSA) at 1 Hz to a pty pair
whose slave side the gateway opens as a serial port. A shuttle's own controller drives the stops
it is handed (plain positions and times).
"""

from simulators.vehicles._nmea import ReceiverEpoch, encode_epoch, with_checksum
from simulators.vehicles._pty import NmeaPty, drive_receiver
from simulators.vehicles._roads import RoadGraph, RoadNode, bearing_deg, city_roads, distance_m
from simulators.vehicles._scooter_demand import ScooterTrip, scooter_trips
from simulators.vehicles._shuttle_controller import ShuttleController, ShuttleStop
from simulators.vehicles._vehicles import (
    SCOOTER_MAX_KMH,
    SHUTTLE_MAX_KMH,
    SimulatedVehicle,
    scooter_at,
    shuttle_at,
)

__all__ = [
    "SCOOTER_MAX_KMH",
    "SHUTTLE_MAX_KMH",
    "NmeaPty",
    "ReceiverEpoch",
    "RoadGraph",
    "RoadNode",
    "ScooterTrip",
    "ShuttleController",
    "ShuttleStop",
    "SimulatedVehicle",
    "bearing_deg",
    "city_roads",
    "distance_m",
    "drive_receiver",
    "encode_epoch",
    "scooter_at",
    "scooter_trips",
    "shuttle_at",
    "with_checksum",
]
