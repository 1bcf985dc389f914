"""The live terminal view of the demo (rich)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from hinode.demo.view import Snapshot

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
    return Group(Panel(header, title="Hinode demo"), devices)


def _format(value: float | None, quantity: str) -> str:
    if value is None:
        return "–"
    if quantity.endswith("_wh"):
        return f"{value / 1000:,.1f}"
    return f"{value + 0.0:,.1f}"  # + 0.0 turns -0.0 into 0.0
