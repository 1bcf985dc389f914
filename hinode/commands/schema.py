"""``hinode schema``: write the JSON Schema of every payload of the wire contract."""

import json
from pathlib import Path
from typing import Annotated

import typer

from messages import MODEL_OF_KIND
from messages.codec import SCHEMA_OF_KIND


def write_schemas(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the schemas into.")],
) -> None:
    """Write one JSON Schema file per topic kind (e.g. hinode.telemetry-1.schema.json)."""
    out.mkdir(parents=True, exist_ok=True)
    for kind, model in MODEL_OF_KIND.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$id"] = f"https://hinode.dev/schemas/{SCHEMA_OF_KIND[kind]}"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = out / f"{SCHEMA_OF_KIND[kind].replace('/', '-')}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        typer.echo(str(path))
