"""Simulated Modbus devices (meters, a PV inverter, EV chargers) served by pymodbus.

Each model holds its own register map, written from the manufacturer's public register table
or the SunSpec model definitions (the source is named at the top of each device module), and
its own physics, driven by an injected clock that may run faster than real time.

Public interface::

    MODELS: tuple[str, ...]
        "sdm630", "sdm120", "em24", "sunspec_inverter", "sunspec_meter",
        "abb_terra_ac", "phoenix_charx", "keba_p30"

    create_device(model, *, now, load="factory", seed=0, unit_max_current_a=32.0)
        -> SimulatedDevice
        now: Callable[[], float] giving epoch seconds. load ("factory" | "home" | "public")
        picks a meter's demand curve. seed fixes weather, noise and commuters' cars.
        unit_max_current_a caps a charger below 32 A. ValueError on a bad model or option.

    SimulatedDevice                          one Modbus unit
        model: str
        update(now: float) -> None           advance physics to now, refresh registers
        truth() -> dict[(quantity, phase), float]
            what the device shows, as a correct reader decodes it after scaling, in
            canonical units: active_power_w, reactive_power_var, apparent_power_va,
            voltage_v, voltage_ll_v, current_a, frequency_hz, power_factor,
            energy_import_wh, energy_export_wh, reactive_energy_import_varh, dc_power_w,
            dc_voltage_v, dc_current_a, temperature_c, operating_state,
            charge_current_limit_a, session_energy_wh, charger_state (1=A, 2=B, 3=C).
            phase is "l1"/"l2"/"l3" or None for totals; for voltage_ll_v, l1 = L1-L2,
            l2 = L2-L3, l3 = L3-L1. current_a with phase None is the sum of the phases.
            Power factor is a signed ratio (SunSpec and KEBA registers hold percent).
            The inverter's active_power_w is positive when producing, and its lifetime
            production (SunSpec WH) is energy_export_wh. charger_state is the IEC 61851
            state; the device's own state code is in its register (see its module).

    ModbusSimServer(devices: Mapping[int, SimulatedDevice], *, now,
                    transport="tcp" | "rtu_over_tcp" | "serial", host="127.0.0.1",
                    port=0, serial_port=None, baudrate=9600)
        async context manager serving every unit on one endpoint
        port: int                            bound TCP port after entering (0 → a free one)
        silence(unit, silent=True)           the unit never answers (timeouts)
        inject(unit, "exception" | "garbage" | None)
                                             Modbus exception 04 / a corrupt frame / heal
        devices: Mapping[int, SimulatedDevice]

    NullModem                                async context manager: two tty paths wired
                                             together (a virtual RS-485 line for tests)

Registers are computed from physics on every request. Writes reach the device at once; a
charger refuses a current outside 0 or 6 A–its maximum with exception 03 (illegal value).
"""

from simulators.modbus._device import SimulatedDevice
from simulators.modbus._factory import MODELS, create_device
from simulators.modbus._nullmodem import NullModem
from simulators.modbus._server import ModbusSimServer

__all__ = ["MODELS", "ModbusSimServer", "NullModem", "SimulatedDevice", "create_device"]
