"""Identifiers of sites, gateways, devices, vehicles and subjects as they appear in topics."""

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_ID_RE = re.compile(ID_PATTERN)

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def is_valid_id(value: str) -> bool:
    """Return whether *value* may be used as a site, gateway, device, vehicle or subject id."""
    return _ID_RE.fullmatch(value) is not None
