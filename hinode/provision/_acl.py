"""The broker's ACL file, generated from the registry: each role gets exactly what it needs."""

from cloud.registry import Identity

PREFIX = "hinode/v1"
#: What a gateway publishes under its own prefix (never ``cmd``: commands come from the cloud).
GATEWAY_PUBLISHES = ("state", "telemetry/+", "vitals/+", "position/+", "events", "cmd-result/+")
#: Data a collector consumes; also as MQTT 5 shared subscriptions of any group.
COLLECTOR_READS = ("state", "telemetry/+", "vitals/+", "position/+", "events", "cmd-result/+")


def gateway_rules(site: str, gateway: str) -> list[str]:
    base = f"{PREFIX}/{site}/{gateway}"
    rules = [f"topic write {base}/{leaf}" for leaf in GATEWAY_PUBLISHES]
    rules.append(f"topic read {base}/cmd/#")
    return rules


def collector_rules() -> list[str]:
    rules = [f"topic read {PREFIX}/+/+/{leaf}" for leaf in COLLECTOR_READS]
    rules += [f"topic read $share/+/{PREFIX}/+/+/{leaf}" for leaf in COLLECTOR_READS]
    return rules


def controller_rules() -> list[str]:
    return [
        f"topic read {PREFIX}/+/+/state",
        f"topic read {PREFIX}/+/+/telemetry/+",
        f"topic read {PREFIX}/+/+/position/+",
        f"topic read {PREFIX}/+/+/events",
        f"topic read {PREFIX}/+/+/cmd-result/+",
        f"topic write {PREFIX}/+/+/cmd/+",
    ]


def rules_for(identity: Identity) -> list[str]:
    if identity.role == "gateway":
        assert identity.site is not None
        return gateway_rules(identity.site, identity.name)
    if identity.role == "collector":
        return collector_rules()
    return controller_rules()


def acl_file(identities: list[Identity]) -> str:
    """The ACL text for the *identities* that may connect (revoked ones get no line at all)."""
    lines = [
        "# Generated from the identity registry by `hinode provision broker-config`.",
        "# Do not edit: provision or revoke, then generate again.",
        "# No pattern lines: a client is allowed only what its own `user` block grants.",
    ]
    for identity in sorted(identities, key=lambda i: (i.role, i.name)):
        if not identity.active:
            continue
        where = f" site {identity.site}" if identity.site else ""
        lines += ["", f"# {identity.role}{where} ({identity.auth})", f"user {identity.name}"]
        lines += rules_for(identity)
    return "\n".join(lines) + "\n"
