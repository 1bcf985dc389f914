"""Every topic of the wire contract has an example payload that validates on both sides.

"Both sides" means the pydantic models that edge and cloud use (``messages.decode``) and the
JSON Schema that ``hinode schema`` publishes for non-Python consumers.
"""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from hinode.cli import app
from messages import TopicKind, decode, encode, parse_topic

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    document = json.loads(path.read_text())
    return document["topic"], document["payload"]


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("schemas")
    result = CliRunner().invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {
        json.loads(path.read_text())["$id"].rsplit("/", 2)[-2] + "/1": json.loads(path.read_text())
        for path in out.glob("*.schema.json")
    }


def test_every_topic_kind_has_an_example() -> None:
    kinds = {parse_topic(_load(path)[0]).kind for path in EXAMPLES}
    assert kinds == set(TopicKind)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_with_the_models(path: Path) -> None:
    topic, payload = _load(path)
    message = decode(topic, json.dumps(payload).encode())
    assert message.payload.schema_ == payload["schema"]
    # Encoding and decoding again gives the same message: nothing is lost on the way.
    assert decode(topic, encode(message.payload)).payload == message.payload


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_validates_with_the_published_json_schema(
    path: Path, schemas: dict[str, dict[str, Any]]
) -> None:
    _, payload = _load(path)
    jsonschema.validate(payload, schemas[payload["schema"]])


def test_schema_command_writes_one_file_per_kind(schemas: dict[str, dict[str, Any]]) -> None:
    assert set(schemas) == {f"hinode.{kind.value}/1" for kind in TopicKind}
