"""The ``hinode`` command line: edge tools, cloud services, controllers, simulators and the demo.

Each area's commands live in their own module under ``hinode.commands`` and are imported only
when used: the energy commands pull in scipy and matplotlib, the cloud ones SQLAlchemy, and a
technician's ``hinode edge read`` on a Raspberry Pi should not wait for either.
"""

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True, slots=True)
class _Entry:
    module: str
    attribute: str
    help: str
    group: bool = True


_ENTRIES = {
    "demo": _Entry(
        "hinode.commands.demo",
        "run_demo",
        "Run the simulated city quarter end to end.",
        group=False,
    ),
    "schema": _Entry(
        "hinode.commands.schema",
        "write_schemas",
        "Write the JSON Schema of every payload.",
        group=False,
    ),
    "edge": _Entry("hinode.commands.edge", "app", "Gateway agent and technician tools."),
    "cloud": _Entry("hinode.commands.cloud", "app", "Collector, storage and queries."),
    "energy": _Entry(
        "hinode.commands.energy", "app", "Interchange planning, settlement, CO2, EV charging."
    ),
    "care": _Entry(
        "hinode.commands.care",
        "app",
        "Community care: consent, role-based views, alerts, FHIR export, audit.",
    ),
    "ble": _Entry("hinode.commands.ble", "app", "Bluetooth LE vital-sign devices."),
    "mobility": _Entry(
        "hinode.commands.mobility", "app", "Shuttle dispatch, scooter feeds, rebalancing."
    ),
    "provision": _Entry(
        "hinode.commands.provision", "app", "Deployment CA, gateway identities, broker ACL."
    ),
    "ops": _Entry("hinode.commands.ops", "app", "Grafana dashboards and operations files."),
    "simulate": _Entry("hinode.commands.simulate", "app", "Run simulated devices standalone."),
}


class _LazyGroup(TyperGroup):
    """A command group that imports a sub-command's module only when it is run."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_ENTRIES))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in _ENTRIES:
            return command
        entry = _ENTRIES[cmd_name]
        target = getattr(importlib.import_module(entry.module), entry.attribute)
        if entry.group:
            command = typer.main.get_group(target)
        else:
            single = typer.Typer()
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        command.help = command.help or entry.help
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # The listing uses the entries' own help so that `hinode --help` imports nothing.
        rows = [(name, _ENTRIES[name].help) for name in sorted(_ENTRIES)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="hinode",
    cls=_LazyGroup,
    help="Hinode: edge-to-cloud platform for a smart industrial city.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Hinode: edge-to-cloud platform for a smart industrial city."""


def main() -> None:
    app()
