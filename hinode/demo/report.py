"""The demo's closing report: readings per device, the EV charging loop, the interchange."""

from datetime import UTC, datetime
from typing import Any

from hinode.demo.view import Snapshot


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def build_report(
    *,
    first: Snapshot,
    last: Snapshot,
    speed: float,
    started_at: float,
    ended_at: float,
    ev_charging: dict[str, Any] | None = None,
    interchange: dict[str, Any] | None = None,
    care: dict[str, Any] | None = None,
    mobility: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-ready report. ``lost_readings`` counts acknowledged readings that were not stored.

    ``ev_charging`` is the charging loop's summary, ``interchange`` the quarter's planned
    interchange on a working day and a day off (see ``hinode.demo.interchange``), ``care``
    the care homes' stored vitals per pseudonymous subject and their alerts, ``mobility`` the
    shuttle service (requests served and refused, waits, ride times) and the feed URLs.
    """
    return {
        "started_at": _iso(started_at),
        "ended_at": _iso(ended_at),
        "real_seconds": round(ended_at - started_at, 3),
        "speed": speed,
        "simulated_from": _iso(first.sim_time),
        "simulated_to": _iso(last.sim_time),
        "broker": last.broker,
        "messages_published": last.messages_published,
        "published_readings": last.readings_published,
        "stored_readings": last.readings_stored,
        "duplicates_dropped": last.duplicates_dropped,
        "invalid_messages": last.invalid_messages,
        "outbox_depth": last.outbox_depth,
        "gaps": last.gaps,
        "lost_readings": max(0, last.readings_published - last.readings_stored),
        "devices": [
            {
                "site": device.site,
                "gateway": device.gateway,
                "device": device.device,
                "model": device.model,
                "online": device.online,
                "stored_readings": device.readings_stored,
                "last_values": device.last_values,
            }
            for device in last.devices
        ],
        "ev_charging": ev_charging,
        "interchange": interchange,
        "care": care,
        "mobility": mobility,
    }
