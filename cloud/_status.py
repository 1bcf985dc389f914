"""What ``hinode cloud status`` shows, as plain data built from the state store."""

from typing import Any

from cloud._ports import StateStore


def status_report(state: StateStore, now: int, *, stale_after_s: float = 300.0) -> dict[str, Any]:
    """Gateways, devices with their freshness, open gaps and dead letters, at epoch ms *now*."""
    gateways = state.gateways()
    devices = state.devices()
    gaps = state.gaps()
    dead = state.dead_letters(latest=5)

    def age_s(at: int | None) -> float | None:
        return None if at is None else round((now - at) / 1000, 1)

    return {
        "now": now,
        "gateways": [
            {
                "site": g.site,
                "gateway": g.gateway,
                "online": g.online,
                "boot_id": g.boot_id,
                "version": g.version,
                "last_seen": g.last_seen,
                "last_seen_age_s": age_s(g.last_seen),
            }
            for g in gateways
        ],
        "devices": [
            {
                "site": d.site,
                "gateway": d.gateway,
                "device": d.device,
                "kind": d.kind,
                "online": d.online,
                "last_ts": d.last_ts,
                "last_seen": d.last_seen,
                "age_s": age_s(d.last_ts),
                "fresh": d.last_ts is not None and (now - d.last_ts) <= stale_after_s * 1000,
                "messages": d.messages,
                "readings": d.readings,
            }
            for d in devices
        ],
        "gaps": [
            {
                "gateway": g.gateway,
                "boot_id": g.boot_id,
                "first": g.first,
                "last": g.last,
                "missing": g.last - g.first + 1,
                "opened_at": g.opened_at,
            }
            for g in gaps
        ],
        "dead_letters": {
            "count": dead.count,
            "latest": [
                {
                    "received_at": letter.received_at,
                    "topic": letter.topic,
                    "reason": letter.reason,
                    "payload_size": letter.payload_size,
                }
                for letter in dead.latest
            ],
        },
    }
