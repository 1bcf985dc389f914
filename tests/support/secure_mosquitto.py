"""A real Mosquitto run with the configuration `hinode provision broker-config` generates."""

import datetime as dt
import os
import signal
import subprocess
from pathlib import Path

from hinode.provision import BrokerSettings, Deployment
from tests.support.mosquitto import MOSQUITTO
from tests.support.ports import free_port, wait_port


class SecureMosquitto:
    """The deployment's broker on free ports: certificate listener and password listener."""

    def __init__(self, workdir: Path, deployment: Deployment) -> None:
        self.workdir = workdir
        self.deployment = deployment
        self.cert_port = free_port()
        self.password_port = free_port()
        self.config_dir = workdir / "config"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "mosquitto.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Started as root, Mosquitto would drop to its own user and not read the test's files.
        self.settings = BrokerSettings(
            config_dir=str(self.config_dir),
            data_dir=str(self.data_dir),
            bind="127.0.0.1",
            cert_port=self.cert_port,
            password_port=self.password_port,
            user="root",
            log_file=str(self.log_path),
        )
        self._process: subprocess.Popen[bytes] | None = None

    def generate(self) -> None:
        self.deployment.broker_config(self.config_dir, self.settings, dt.datetime.now(dt.UTC))

    def start(self) -> None:
        self.generate()
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_dir / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.cert_port)
            wait_port(self.password_port)
        except TimeoutError:
            log = self.log_path.read_text() if self.log_path.exists() else "(no log)"
            self.stop()
            msg = f"mosquitto did not start: {log}"
            raise RuntimeError(msg) from None

    def reload(self) -> None:
        """Regenerate the files and SIGHUP the broker (it rereads ACL and password file)."""
        self.generate()
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGHUP)

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None
