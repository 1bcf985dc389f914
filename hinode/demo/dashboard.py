"""The live terminal view of the demo (rich)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from hinode.demo.view import ChargingView, InterchangeDayView, Snapshot

TOKYO = ZoneInfo("Asia/Tokyo")
SHOWN_QUANTITIES = (
    ("active_power_w", "P (W)"),
    ("energy_import_wh", "E in (kWh)"),
    ("charge_current_limit_a", "limit (A)"),
    ("current_a", "I (A)"),
)


def render(snapshot: Snapshot) -> Group:
    """Build the renderable for one snapshot."""
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
    parts: list[Panel | Table] = [Panel(header, title="Hinode demo"), devices]
    if snapshot.charging is not None:
        parts.append(_charging_panel(snapshot.charging))
    if snapshot.interchange:
        parts.append(_interchange_panel(snapshot.interchange))
    return Group(*parts)


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
