"""Simulated Modbus devices (meters, a PV inverter, EV chargers) served by pymodbus.

Each model holds its own register map, written from the manufacturer's public register table
or the SunSpec model definitions (the source is named at the top of each device module), and
its own physics, driven by an injected clock that may run faster than real time.

Public interface::

    MODELS: tuple[str, ...]
        "sdm630", "sdm120", "em24", "sunspec_inverter", "sunspec_meter",
        "abb_terra_ac", "phoenix_charx", "keba_p30"

    create_device(model, *, now, load="factory", seed=0, unit_max_current_a=32.0,
                  peak_w=None, rated_w=None, behind_the_meter=())
        -> SimulatedDevice
        now: Callable[[], float] giving epoch seconds. load ("factory" | "home" | "public")
        picks a meter's demand curve, peak_w its peak demand in W (default per load kind
        and phases: factory 45 kW, home 6 kW, public 30 kW on three phases). seed fixes
        weather, noise and commuters' cars. unit_max_current_a caps a charger below 32 A.
        rated_w sizes an inverter (default 10 kW, at most 30 kW). behind_the_meter (meters
        only): inverters and chargers behind this meter, which then measures the site's
        connection point (see below). ValueError on a bad model or option.

    is_day_off(day: datetime.date) -> bool   the simulators' calendar: weekends, Japanese
                                             holidays and the New Year closure (29 Dec–3 Jan)

    SimulatedDevice                          one Modbus unit
        model: str
        update(now: float) -> None           advance physics to now, refresh registers
        advance_to(now: float) -> None       advance physics only (registers render on the
                                             next read)
        forecast_power_w(t: float) -> float  the device's own curve at any t, state untouched:
                                             a meter's own load (without what is behind it),
                                             an inverter's production (positive), 0 for a
                                             charger (its draw depends on its controller)
        ac_exchange(t) -> ((P, Q), (P, Q), (P, Q)) | None
                                             what an inverter or charger draws per phase
                                             (W, var; negative P feeds in); None for meters
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
        truth_points() -> dict[(quantity, phase), Point]
            the register each truth value is read from: table, address, dtype, scale,
            low_word_first, size and decode(words) (not for charger_state)

    ModbusSimServer(devices: Mapping[int, SimulatedDevice], *, now,
                    transport="tcp" | "rtu_over_tcp" | "serial", host="127.0.0.1",
                    port=0, serial_port=None, baudrate=9600)
        async context manager serving every unit on one endpoint
        port: int                            bound TCP port after entering (0 → a free one)
        silence(unit, silent=True)           the unit never answers (timeouts)
        inject(unit, "exception" | "garbage" | None)
                                             Modbus exception 04 / a corrupt frame / heal
        devices: Mapping[int, SimulatedDevice]

    NullModem                                async context manager: two tty paths, .a and
                                             .b, wired together (a virtual RS-485 line)
    MAX_RTU_UNIT = 247, MAX_TCP_UNIT = 255   unit ids: 1–247 on RTU, up to 255 on Modbus TCP

Behaviour a reader should know:

* A unit's registers are recomputed from physics when a request arrives once 100 ms of real
  time or 1 s of simulated time has passed since the last refresh (so one poll cycle sees one
  instant); truth() matches the last refresh. A write is applied at once and shows in the next
  read.
* Absent and silenced units never answer. "exception" answers 04 (server device failure);
  "garbage" sends a frame of the right length with a scrambled body (and a broken CRC on RTU):
  pymodbus' TCP client drops its connection on it, an RTU reader discards it and times out.
* Reads outside a device's register map answer 02 (illegal address), a table the device does
  not have (function 04 to SunSpec or KEBA) 01 (illegal function); gaps inside a block read 0.
* Chargers refuse a current other than 0 or 6 A–their maximum (min(32 A, unit_max_current_a))
  with 03 (illegal value). They run standalone at their maximum until the first accepted write,
  which arms their watchdog. KEBA P30: readings only one 32-bit value per request (function 03),
  fail-safe current 5016 / timeout 5018 (0 = off, the default), fed by any write. ABB Terra AC:
  timeout 0x4106 (default 600 s), fed by any request, falls back to 0 A (assumed: ABB does not
  publish the fallback). CHARX: the simulator's own fail-safe pair x302 (A) / x303 (s, 0 = off),
  since the published table has none; its setpoint x301 reads back the current it applies.
* Cars come and go on a seeded commuter schedule (working days: arrive 07:30–09:30 JST, leave
  16:30–19:00, 8–30 kWh, mostly single-phase). A charger device's ``charge_point`` takes over
  by hand: ``connect_vehicle(now, energy_wh=..., max_current_a=32.0, phases=3)`` and
  ``disconnect_vehicle()``.
* A meter on its own measures its site's demand (import). With ``behind_the_meter`` it is the
  connection-point meter: its own load + what the chargers behind it draw − what the inverters
  behind it feed in, per phase (P and Q add; V is the meter's, I and PF follow from P and Q).
  When PV exceeds the rest it exports: active power and power factor turn negative and
  energy_export_wh counts up. Reading the meter advances the devices behind it to the same
  instant (their own registers render on their next read), and it integrates in 1-minute
  steps, since chargers switch within one. The inverter's WMax (model 121) is writable and
  caps its output.
* Devices with the same model, load and seed behave identically: give each its own seed.
"""

from simulators.modbus._calendar import is_day_off
from simulators.modbus._device import SimulatedDevice
from simulators.modbus._factory import MODELS, create_device
from simulators.modbus._nullmodem import NullModem
from simulators.modbus._server import MAX_RTU_UNIT, MAX_TCP_UNIT, ModbusSimServer

__all__ = [
    "MAX_RTU_UNIT",
    "MAX_TCP_UNIT",
    "MODELS",
    "ModbusSimServer",
    "NullModem",
    "SimulatedDevice",
    "create_device",
    "is_day_off",
]
