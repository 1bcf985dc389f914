"""Simulated BLE medical devices (bumble GATT servers) and a bumble-backed bleak backend."""

from simulators.ble._air import SimulatedAir
from simulators.ble._bleak_backend import BumbleClient, BumbleScanner, bind_backends
from simulators.ble._devices import (
    SimulatedBloodPressureMonitor,
    SimulatedDevice,
    SimulatedGlucoseMeter,
    SimulatedHeartRateSensor,
    SimulatedPulseOximeter,
    SimulatedThermometer,
    SimulatedWeightScale,
)
from simulators.ble._encoding import (
    BloodPressureReading,
    GlucoseRecord,
    SpotCheckReading,
    TemperatureReading,
    WeightReading,
)

__all__ = [
    "BloodPressureReading",
    "BumbleClient",
    "BumbleScanner",
    "GlucoseRecord",
    "SimulatedAir",
    "SimulatedBloodPressureMonitor",
    "SimulatedDevice",
    "SimulatedGlucoseMeter",
    "SimulatedHeartRateSensor",
    "SimulatedPulseOximeter",
    "SimulatedThermometer",
    "SimulatedWeightScale",
    "SpotCheckReading",
    "TemperatureReading",
    "WeightReading",
    "bind_backends",
]
