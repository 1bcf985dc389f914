"""The technician walkthrough of docs/technician.md, run as written on this machine.

Its commands run in a shell; only what cannot happen here is adapted: the broker's host and
ports become this test's, /etc/hinode and /var/lib/hinode become directories of the test,
`sudo` is dropped and `chown hinode` skipped. Operations' part (start the broker with the
generated config, run a collector through the image's entry point) happens where the guide says.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import MOSQUITTO
from tests.support.ports import free_port, wait_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "technician.md"
ENTRYPOINT = REPO / "ops" / "compose" / "hinode-entrypoint.sh"
STEP_TIMEOUT_S = 60
DATA_TIMEOUT_S = 30

WRAPPER = """#!{python}
# `hinode` with the provision and ops command groups mounted, as hinode/cli.py will mount them.
from hinode.cli import app
from hinode.commands import ops, provision

mounted = {{group.name for group in app.registered_groups}}
if "provision" not in mounted:
    app.add_typer(provision.app, name="provision")
if "ops" not in mounted:
    app.add_typer(ops.app, name="ops")
app()
"""


def walkthrough_commands() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    block = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return [line[2:].strip() for line in block.splitlines() if line.startswith("$ ")]


def site_devices_yaml() -> str:
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(devices:\n.*?)```", text, flags=re.DOTALL)
    assert match is not None, "docs/technician.md lost its site-devices.yaml example"
    return match.group(1)


class Walk:
    """Runs the guide's commands in *root* and keeps the background ones to stop them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.background: list[subprocess.Popen[bytes]] = []
        self.cert_port = free_port()
        self.password_port = free_port()
        self.modbus_port = free_port()
        self.etc = root / "etc-hinode"
        self.var = root / "var-lib-hinode"
        bin_dir = root / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "hinode"
        wrapper.write_text(WRAPPER.format(python=sys.executable))
        wrapper.chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "COLUMNS": "200",
            "STATE": f"sqlite:///{root / 'cloud' / 'state.sqlite'}",
        }

    def adapt(self, command: str) -> str | None:
        """The command as it runs here, or None when it has nothing to do here."""
        command = command.replace("sudo -u hinode ", "").replace("sudo ", "")
        if command.startswith("chown "):
            return None  # no `hinode` user on this machine; the files are the test's own
        command = command.replace("/etc/hinode", str(self.etc))
        command = command.replace("/var/lib/hinode", str(self.var))
        command = command.replace("--port 5020", f"--port {self.modbus_port}")
        ports = f" --cert-port {self.cert_port} --password-port {self.password_port}"
        if command.startswith("hinode provision ca "):
            command += ports
        elif command.startswith("hinode provision gateway "):
            command += f" --files-dir {self.etc} --outbox {self.var / 'outbox.sqlite'}"
        elif command.startswith("hinode provision broker-config "):
            broker = self.root / "broker"
            command += (
                f" --config-dir {broker} --data-dir {self.root / 'broker-data'}"
                f" --bind 127.0.0.1 --user root --log-file {self.root / 'broker.log'}{ports}"
            )
        elif command.startswith("cp "):
            self.etc.mkdir(exist_ok=True)
        return command

    def export(self, command: str) -> None:
        for assignment in shlex.split(command)[1:]:
            name, _, value = assignment.partition("=")
            self.env[name] = "127.0.0.1" if name == "BROKER_HOST" else value

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result

    def start(self, command: list[str], env: dict[str, str] | None = None) -> None:
        with (self.root / f"background-{len(self.background)}.log").open("wb") as log:
            self.background.append(
                subprocess.Popen(
                    command,
                    cwd=self.root,
                    env=env or self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def operations_start_broker(self) -> None:
        (self.root / "broker-data").mkdir(exist_ok=True)
        self.start([MOSQUITTO, "-c", str(self.root / "broker" / "mosquitto.conf")])
        wait_port(self.cert_port)
        wait_port(self.password_port)

    def operations_start_collector(self) -> None:
        """The compose file's collector service: the image's entry point, here without Docker."""
        env = {
            **self.env,
            "HINODE_MQTT_HOST": "127.0.0.1",
            "HINODE_MQTT_PORT": str(self.password_port),
            "HINODE_MQTT_USERNAME": "collector",
            "HINODE_MQTT_PASSWORD_FILE": str(self.root / "pki/services/collector.password"),
            "HINODE_STORE": f"sqlite:///{self.root / 'cloud' / 'timeseries.sqlite'}",
            "HINODE_STATE": self.env["STATE"],
            "HINODE_DATA_DIR": str(self.root / "cloud"),
            "HINODE_RUNTIME_DIR": str(self.root),
            "SSL_CERT_FILE": str(self.root / "pki" / "ca.crt"),
        }
        (self.root / "cloud").mkdir(exist_ok=True)
        self.start(["sh", str(ENTRYPOINT), "collector"], env)

    def readings_stored(self) -> int:
        result = self.run(
            f'hinode cloud status --data-dir {self.root / "cloud"} --state "$STATE" --json'
        )
        report = json.loads(result.stdout)
        return sum(device["readings"] for device in report["devices"])

    def stop(self) -> None:
        for process in reversed(self.background):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


@pytest.fixture
def walk(tmp_path: Path) -> Iterator[Walk]:
    walker = Walk(tmp_path)
    yield walker
    walker.stop()


def test_technician_walkthrough_from_provisioning_to_cloud_status(walk: Walk) -> None:
    (walk.root / "site-devices.yaml").write_text(
        site_devices_yaml().replace("port: 5020", f"port: {walk.modbus_port}")
    )
    outputs: dict[str, str] = {}
    for written in walkthrough_commands():
        if written.startswith("export "):
            walk.export(written)
            continue
        command = walk.adapt(written)
        if command is None:
            continue
        if command.endswith("&"):
            walk.start(["bash", "-c", f"exec {command.removesuffix('&').strip()}"])
            if "simulate modbus" in command:
                wait_port(walk.modbus_port)
            if "edge run" in command:
                deadline = time.monotonic() + DATA_TIMEOUT_S
                while walk.readings_stored() == 0:
                    assert time.monotonic() < deadline, "no reading reached the cloud"
                    time.sleep(0.5)
            continue
        outputs[written] = walk.run(command).stdout
        if written.startswith("hinode provision broker-config"):
            walk.operations_start_broker()
            walk.operations_start_collector()

    check = next(out for cmd, out in outputs.items() if " edge check " in cmd)
    lines = check.splitlines()
    assert [line.split()[1] for line in lines] == ["broker", "meter-main"]
    assert all(line.startswith("ok") for line in lines), check
    status = next(out for cmd, out in outputs.items() if cmd.startswith("hinode cloud status"))
    assert "gw-factory-a-1" in status
    assert "online" in status
    assert "meter-main" in status
    # Nothing on the way logged an error (a collector on TLS once did, on every read burst).
    for log in sorted(walk.root.glob("background-*.log")):
        errors = [line for line in log.read_text().splitlines() if '"level": "error"' in line]
        assert errors == [], f"{log.name}: {errors[:3]}"
    # Secrets never reach the terminal.
    key = (walk.root / "pki/gateways/gw-factory-a-1/gateway.key").read_text()
    password = (walk.root / "pki/services/collector.password").read_text().strip()
    for out in outputs.values():
        assert "PRIVATE KEY" not in out
        assert password not in out
    assert key.startswith("-----BEGIN PRIVATE KEY-----")
    assert (walk.etc / "gateway.key").stat().st_mode & 0o777 == 0o600
