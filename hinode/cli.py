"""The ``hinode`` command line: edge tools, cloud services, simulators and the demo."""

import typer

from hinode.commands import ble, cloud, demo, edge, energy, schema, simulate

app = typer.Typer(
    name="hinode",
    help="Hinode: edge-to-cloud platform for a smart industrial city.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(edge.app, name="edge", help="Gateway agent and technician tools.")
app.add_typer(cloud.app, name="cloud", help="Collector, storage and queries.")
app.add_typer(simulate.app, name="simulate", help="Run simulated devices standalone.")
app.add_typer(energy.app, name="energy", help="Interchange planning, settlement, CO2, EV charging.")
app.add_typer(ble.app, name="ble", help="Bluetooth LE vital-sign devices.")
app.command("schema")(schema.write_schemas)
app.command("demo")(demo.run_demo)


def main() -> None:
    app()
