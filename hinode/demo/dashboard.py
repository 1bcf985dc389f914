"""The live terminal view of the demo (rich)."""

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from hinode.demo.view import (
    CareHomeView,
    ChargingView,
    InterchangeDayView,
    MobilityView,
    Snapshot,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SHOWN_QUANTITIES = (
    ("active_power_w", "P (W)"),
    ("energy_import_wh", "E in (kWh)"),
    ("charge_current_limit_a", "limit (A)"),
    ("current_a", "I (A)"),
)


#: What the live view can show below its header: everything, or one area of the quarter.
View = Literal["all", "energy", "care", "mobility"]
VIEWS: dict[str, View] = {"all": "all", "energy": "energy", "care": "care", "mobility": "mobility"}


def render(snapshot: Snapshot, view: View = "all") -> Group:
    """Build the renderable for one snapshot: the header, then the areas *view* asks for."""
    when = datetime.fromtimestamp(snapshot.sim_time, UTC).astimezone(TOKYO)
    header = Table.grid(padding=(0, 3))
    header.add_row(
        f"[bold]simulated[/] {when:%a %Y-%m-%d %H:%M:%S} JST",
        f"[bold]broker[/] {snapshot.broker}",
        f"[bold]msg/s[/] {snapshot.messages_per_s:,.1f}",
    )
    header.add_row(
        f"[bold]published[/] {snapshot.readings_published:,} readings",
        f"[bold]stored[/] {snapshot.readings_stored:,}",
        f"[bold]duplicates dropped[/] {snapshot.duplicates_dropped:,}",
    )
    header.add_row(
        f"[bold]outbox[/] {snapshot.outbox_depth:,}",
        f"[bold]invalid[/] {snapshot.invalid_messages:,}",
        f"[bold]gaps[/] {len(snapshot.gaps)}",
    )

    devices = Table(expand=True)
    for title in ("site", "gateway", "device", "model", "state"):
        devices.add_column(title)
    for _, title in SHOWN_QUANTITIES:
        devices.add_column(title, justify="right")
    devices.add_column("stored", justify="right")
    for device in snapshot.devices:
        cells = [
            _format(device.last_values.get(quantity), quantity) for quantity, _ in SHOWN_QUANTITIES
        ]
        devices.add_row(
            device.site,
            device.gateway,
            device.device,
            device.model,
            "[green]online[/]" if device.online else "[red]offline[/]",
            *cells,
            f"{device.readings_stored:,}",
        )
    parts: list[Panel | Table] = [Panel(header, title="Hinode demo")]
    if view in ("all", "energy"):
        parts.append(devices)
        if snapshot.charging is not None:
            parts.append(_charging_panel(snapshot.charging))
        if snapshot.interchange:
            parts.append(_interchange_panel(snapshot.interchange))
    if snapshot.care and view in ("all", "care"):
        parts.append(_care_panel(snapshot.care))
    if snapshot.mobility is not None and view in ("all", "mobility"):
        parts.append(_mobility_panel(snapshot.mobility))
    return Group(*parts)


def _mobility_panel(mobility: MobilityView) -> Panel:
    """Shuttles with their next stop, scooters with their state, the latest decisions, feeds."""
    header = Table.grid(padding=(0, 3))
    header.add_row(
        f"[bold]rides[/] {mobility.requests} asked, {mobility.refused} refused",
        f"[bold]picked up[/] {mobility.picked_up}  [bold]at the stop[/] {mobility.completed}",
        f"[bold]mean wait[/] {_minutes(mobility.mean_wait_s)}",
        f"[bold]mean ride[/] {_minutes(mobility.mean_ride_s)}",
        f"[bold]route commands[/] {mobility.route_commands_sent} sent, "
        f"{mobility.route_commands_acknowledged} applied, {mobility.route_commands_resent} resent",
    )
    vehicles = Table(expand=True)
    for title in ("vehicle", "gnss", "position", "aboard / state", "next", "ETA (JST)"):
        vehicles.add_column(title)
    for shuttle in mobility.shuttles:
        vehicles.add_row(
            shuttle.vehicle,
            _online(shuttle.online),
            _position(shuttle.position),
            f"{shuttle.onboard}/{shuttle.seats} aboard, {shuttle.stops_ahead} stops ahead",
            shuttle.next_stop or "idle",
            "–" if shuttle.next_eta is None else f"{_jst(shuttle.next_eta):%H:%M}",
        )
    for scooter in mobility.scooters:
        vehicles.add_row(
            scooter.vehicle,
            _online(scooter.online),
            _position(scooter.position),
            f"{scooter.state}, {scooter.battery_pct:.0f} %",
            f"trips done {scooter.trips}",
            "",
        )
    lines = [*mobility.decisions, *(f"{n}: {url}" for n, url in mobility.feed_urls.items())]
    if mobility.mds_token_file is not None:
        lines.append(f"mds bearer token: {mobility.mds_token_file}")
    return Panel(
        Group(header, vehicles, *lines),
        title="Mobility · estate shuttles to the bus stop, station scooters",
    )


def _online(online: bool) -> str:
    return "[green]fix[/]" if online else "[red]no fix[/]"


def _position(position: tuple[float, float] | None) -> str:
    return "–" if position is None else f"{position[0]:.5f}, {position[1]:.5f}"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f} min"


def _jst(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(TOKYO)


def _care_panel(homes: list[CareHomeView]) -> Panel:
    """Per care home: devices answering, measurements today, latest values, alerts."""
    table = Table(expand=True)
    for title in ("home", "devices", "today", "BP (mmHg)", "pulse", "SpO2 %", "temp °C"):
        table.add_column(title, justify="left" if title == "home" else "right")
    table.add_column("alerts")
    for home in homes:
        values = home.last_values
        systolic, diastolic = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
        table.add_row(
            home.site,
            f"{home.devices_online}/{home.devices}",
            f"{home.measurements_today:,}",
            "–" if systolic is None or diastolic is None else f"{systolic:.0f}/{diastolic:.0f}",
            _vital(values.get("pulse_rate_bpm"), "{:.0f}"),
            _vital(values.get("spo2_pct"), "{:.0f}"),
            _vital(values.get("body_temp_c"), "{:.1f}"),
            f"[red]{len(home.alerts)}[/] · {home.alerts[-1]}" if home.alerts else "[green]none[/]",
        )
    return Panel(table, title="Care homes · vitals stored under pseudonyms, alert rules applied")


def _vital(value: float | None, form: str) -> str:
    return "–" if value is None else form.format(value)


def _interchange_panel(days: list[InterchangeDayView]) -> Panel:
    """The quarter's planned interchange: a working day next to a day off."""
    table = Table(expand=True)
    for title in ("day", "site", "self-sufficiency", "shared in kWh", "shared out kWh"):
        table.add_column(title, justify="left" if title in ("day", "site") else "right")
    table.add_column("cost ¥", justify="right")
    table.add_column("CO2 kg", justify="right")
    for day in days:
        label = f"{day.date} {day.weekday} ({'day off' if day.day_off else 'working day'})"
        for index, site in enumerate([*day.sites, day.total]):
            sufficiency = site.self_sufficiency
            table.add_row(
                label if index == 0 else "",
                f"[bold]{site.site}[/]" if site is day.total else site.site,
                "–" if sufficiency is None else f"{sufficiency:.0%}",
                f"{site.shared_in_wh / 1000:,.1f}",
                f"{site.shared_out_wh / 1000:,.1f}",
                f"{site.cost_yen:,.0f}",
                f"{site.co2_kg:,.1f}",
            )
        table.add_section()
    return Panel(table, title="Interchange plan · forecast from the simulated curves")


# IEC 61851 states as the profiles map them.
_STATES = {1.0: "A no car", 2.0: "B plugged in", 3.0: "C charging", 4.0: "D charging"}


def _charging_panel(charging: ChargingView) -> Panel:
    """Surplus, setpoints and drawn currents of the site's chargers."""
    header = Table.grid(padding=(0, 3))
    header.add_row(
        f"[bold]PV surplus[/] {_watts(charging.surplus_w)}",
        f"[bold]grid[/] {_watts(charging.grid_w)}",
        f"[bold]PV[/] {_watts(charging.pv_w)}",
        f"[bold]mode[/] {charging.mode}",
        f"[bold]rounds[/] {charging.rounds:,}  [bold]decisions[/] {charging.decisions:,}",
        "[red]FAIL-SAFE[/]" if charging.failsafe_active else "[green]controlled[/]",
    )
    chargers = Table(expand=True)
    for title in ("charger", "state", "setpoint (A)", "offered (A)", "drawn (A)", "why"):
        chargers.add_column(
            title, justify="left" if title in ("charger", "state", "why") else "right"
        )
    for charger in charging.chargers:
        chargers.add_row(
            charger.device,
            "–" if charger.state is None else _STATES.get(charger.state, f"{charger.state:g}"),
            _amps(charger.setpoint_a),
            _amps(charger.offered_a),
            _amps(charger.drawn_a),
            charger.reason or "–",
        )
    return Panel(Group(header, chargers), title=f"EV charging · {charging.site}")


def _watts(value: float | None) -> str:
    return "–" if value is None else f"{value + 0.0:,.0f} W"


def _amps(value: float | None) -> str:
    return "–" if value is None else f"{value + 0.0:.1f}"


def _format(value: float | None, quantity: str) -> str:
    if value is None:
        return "–"
    if quantity.endswith("_wh"):
        return f"{value / 1000:,.1f}"
    return f"{value + 0.0:,.1f}"  # + 0.0 turns -0.0 into 0.0
