"""docker-compose.yml, .env.example and the Dockerfile: schema-valid, pinned, consistent."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hinode.provision import BrokerSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
#: A pinned tag names at least major.minor (and is never `latest`).
PINNED = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?([-.\w]*)$")


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    schema = json.loads((REPO / "ops" / "compose" / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_compose_names_the_production_services() -> None:
    services = _services()
    assert {"mosquitto", "influxdb", "postgres", "grafana", "collector"} <= set(services)
    assert services["collector"]["deploy"]["replicas"] == 2
    assert "simulators" in services["sim-meter"]["profiles"]
    assert "simulators" in services["sim-gateway"]["profiles"]


@pytest.mark.parametrize("name", sorted(_services()))
def test_every_image_is_pinned_and_every_service_restarts_and_is_checked(name: str) -> None:
    service = _services()[name]
    assert PINNED.match(service["image"]), f"{name}: image {service['image']!r} is not pinned"
    assert service["restart"] in {"unless-stopped", "always"}
    assert service["healthcheck"]["test"]


def test_dockerfile_base_images_are_pinned_and_copied_paths_exist() -> None:
    text = (REPO / "Dockerfile").read_text()
    for image in re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE):
        assert PINNED.match(image), image
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for path in source.split():
            assert (REPO / path).exists(), path


def test_bind_mounts_from_the_repository_exist() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./ops/"):
                assert (REPO / source).exists(), f"{name}: {source}"


def test_every_required_variable_is_in_env_example() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = (REPO / ".env.example").read_text()
    defined = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert required <= defined, required - defined


def test_broker_mount_matches_the_generated_config_paths() -> None:
    mosquitto = _services()["mosquitto"]
    defaults = BrokerSettings()
    mounts = {v.split(":")[1]: v.split(":")[0] for v in mosquitto["volumes"]}
    assert mounts[defaults.config_dir] == "./deploy/broker"
    assert defaults.data_dir in mounts
    published = {int(port.split(":")[1].split()[0]) for port in mosquitto["ports"]}
    assert published == {defaults.cert_port, defaults.password_port}


def test_secrets_are_the_files_provisioning_writes() -> None:
    for secret in _compose()["secrets"].values():
        path = Path(secret["file"])
        assert path.parts[:2] == ("deploy", "services")
        # Broker passwords from `hinode provision`; the booking API's callers from
        # `hinode mobility token --out` (digests only).
        assert path.suffix == ".password" or path.name == "booking-tokens", path


def test_entrypoint_is_valid_shell() -> None:
    script = REPO / "ops" / "compose" / "hinode-entrypoint.sh"
    result = subprocess.run(["sh", "-n", str(script)], check=False, capture_output=True, timeout=10)
    assert result.returncode == 0, result.stderr
    for init in (REPO / "ops" / "compose").glob("*-init/*.sh"):
        result = subprocess.run(
            ["bash", "-n", str(init)], check=False, capture_output=True, timeout=10
        )
        assert result.returncode == 0, result.stderr
