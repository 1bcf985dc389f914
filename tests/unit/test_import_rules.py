"""The design's import rules, checked on the source tree.

messages imports nothing of ours; edge and cloud import messages but never each other;
simulators import none of ours; hinode may import everything.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"messages", "edge", "cloud", "hinode", "simulators"}
ALLOWED = {
    "messages": set(),
    "edge": {"messages"},
    "cloud": {"messages"},
    "simulators": set(),
    "hinode": OURS,
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {other}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for other in sorted(imported_packages(path) - ALLOWED[package] - {package})
    ]
    assert offences == []


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text("from cloud.storage import x\nimport edge.modbus\n")
    assert imported_packages(source) == {"cloud", "edge"}
