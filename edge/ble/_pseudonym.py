"""The pseudonymous subject of a device pairing: an HMAC under a per-site key, never a name."""

import hashlib
import hmac

from messages import ConfigError, is_valid_id

#: Shorter keys make the pseudonym guessable from the (few) device addresses of a site.
MIN_KEY_BYTES = 16
#: 20 hex digits = 80 bits: collisions among a city's care recipients are out of reach.
_DIGEST_HEX_CHARS = 20
_DOMAIN = b"hinode.vitals.subject/1"


def subject_pseudonym(
    site_key: bytes, *, site: str, device_address: str, user_id: int | None = None
) -> str:
    """The ``vitals/{subject}`` id of one pairing: (site, device address, device user slot).

    Multi-user devices (blood-pressure monitors, scales) report a ``user_id``; each slot is a
    different person and so a different subject. The same inputs always give the same id, and
    without the site key nobody can map an id back to a device.
    """
    if len(site_key) < MIN_KEY_BYTES:
        msg = f"site key must be at least {MIN_KEY_BYTES} bytes, got {len(site_key)}"
        raise ConfigError(msg)
    if not is_valid_id(site):
        msg = f"site {site!r} is not a valid id"
        raise ConfigError(msg)
    address = device_address.strip().upper()
    slot = "" if user_id is None else str(user_id)
    message = b"\x00".join((_DOMAIN, site.encode(), address.encode(), slot.encode()))
    digest = hmac.new(site_key, message, hashlib.sha256).hexdigest()
    return f"s-{digest[:_DIGEST_HEX_CHARS]}"
