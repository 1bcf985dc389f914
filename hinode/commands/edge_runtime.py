"""``hinode edge run`` and ``hinode edge check``: the gateway agent and its installation check."""

import asyncio
import logging
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from edge import Agent, check_gateway, load_gateway_config
from edge._sd_notify import SdNotifier
from edge.config import GatewayConfig
from edge.devices import check_profiles
from edge.outbox import OutboxError
from hinode import logs
from hinode.commands._errors import fail
from messages import ConfigError, WallClock

log = logging.getLogger("hinode.edge")

#: SIGTERM/SIGINT must end the agent within 5 s (systemd's default stop timeout is longer).
_STOP_DEADLINE_S = 4.5
#: The outbox maintenance runs once a second; this long without it, the agent is stuck.
_STALL_S = 10.0

ConfigArgument = Annotated[
    Path, typer.Argument(help="Gateway config (YAML), e.g. firmware_configs/gateways/*.yaml.")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hinode edge`` group."""
    app.command("run")(run)
    app.command("check")(check)


def _load(path: Path) -> GatewayConfig:
    try:
        config = load_gateway_config(path)
        check_profiles(config)
    except ConfigError as exc:
        message = str(exc)
        fail(message if message.startswith(f"{path}:") else f"{path}: {message}")
    return config


def run(
    config: ConfigArgument,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", case_sensitive=False)
    ] = "info",
    log_json: Annotated[
        bool | None,
        typer.Option("--log-json/--log-text", help="Log format (default: JSON unless a terminal)."),
    ] = None,
) -> None:
    """Run the gateway agent until SIGTERM or Ctrl-C."""
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        fail(f"--log-level: expected debug, info, warning or error, got {log_level!r}")
    gateway = _load(config)
    logs.configure(level=log_level, json_output=log_json)
    asyncio.run(_run(gateway))


async def _run(config: GatewayConfig, *, stall_s: float = _STALL_S) -> None:
    agent = Agent(config, clock=WallClock())
    notifier = SdNotifier.from_environment()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    deadline: list[asyncio.TimerHandle] = []

    def stop(signum: signal.Signals) -> None:
        log.info("stopping", extra={"signal": signum.name})
        if notifier is not None and not deadline:
            notifier.notify("STOPPING=1")
        agent.stop()
        if task is not None and not deadline:
            deadline.append(loop.call_later(_STOP_DEADLINE_S, task.cancel))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    agent_task = asyncio.create_task(agent.run(), name="agent")
    systemd = None
    if notifier is not None:
        watch = _tell_systemd(agent, agent_task, notifier, stall_s=stall_s)
        systemd = asyncio.create_task(watch, name="sd-notify")
    try:
        # Cancelling this task (the stop deadline) cancels the agent task it waits for.
        await agent_task
    except asyncio.CancelledError:
        log.warning("agent did not stop in time; cancelled")
    except OutboxError as exc:
        fail(str(exc), code=1)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        for handle in deadline:
            handle.cancel()
        if systemd is not None:
            systemd.cancel()
            await asyncio.gather(systemd, return_exceptions=True)
        if notifier is not None and not deadline:
            notifier.notify("STOPPING=1")  # the agent ended by itself (an error)


async def _tell_systemd(
    agent: Agent,
    agent_task: "asyncio.Task[None]",
    notifier: SdNotifier,
    *,
    stall_s: float = _STALL_S,
) -> None:
    """READY=1 once the agent runs, then WATCHDOG=1 every half watchdog period while it does.

    The pings come from a task on the agent's own event loop, and only while the agent's outbox
    maintenance (once a second) has run within *stall_s*: a driver or store call that blocks the
    loop, or an outbox that no longer answers, stops them, and systemd restarts the service after
    ``WatchdogSec``.
    """
    started = asyncio.create_task(agent.started.wait(), name="agent-started")
    try:
        await asyncio.wait((started, agent_task), return_when=asyncio.FIRST_COMPLETED)
    finally:
        started.cancel()
    if not agent.started.is_set():
        return  # the agent ended before it ran
    notifier.notify("READY=1")
    log.info("told systemd the agent is ready", extra={"boot_id": agent.boot_id})
    interval = notifier.watchdog_interval_s
    if interval is None:
        return
    ready_at, stalled = time.monotonic(), False
    while not agent_task.done():
        maintained_at = agent.stats.maintained_at or ready_at
        fresh = time.monotonic() - maintained_at <= stall_s
        if fresh:
            notifier.notify("WATCHDOG=1")
        if fresh == stalled:  # a change either way, logged once
            stalled = not fresh
            if stalled:
                log.error("agent stalled; watchdog pings withheld", extra={"stall_s": stall_s})
            else:
                log.info("agent running again; watchdog pings resumed")
        await asyncio.sleep(interval)


def check(
    config: ConfigArgument,
    timeout: Annotated[float, typer.Option(help="Seconds per check.", min=0.1)] = 10.0,
) -> None:
    """Validate CONFIG, connect to its broker and read every device once; one line each."""
    gateway = _load(config)
    # The lines below say what failed; the libraries' own logs would only repeat it.
    logs.configure(level="critical")
    logging.disable(logging.ERROR)
    lines = asyncio.run(check_gateway(gateway, clock=WallClock(), timeout_s=timeout))
    width = max(len(line.name) for line in lines)
    for line in lines:
        typer.echo(f"{'ok  ' if line.ok else 'FAIL'}  {line.name:<{width}}  {line.detail}")
    if not all(line.ok for line in lines):
        raise typer.Exit(1)


def main() -> None:
    """``python -m hinode.commands.edge_runtime run|check CONFIG``: the same commands without the
    rest of the ``hinode`` CLI, whose other areas import heavy libraries (scipy, matplotlib) that a
    Raspberry Pi's memory is better without. The systemd unit uses this entry point."""
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
