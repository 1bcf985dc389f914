"""Registry of provisioned broker identities (gateways, collectors, controllers) and revocations.

Public API::

    from cloud.registry import IdentityRegistry, Identity

    registry = IdentityRegistry("sqlite:///pki/registry.sqlite")  # or postgresql://…
    registry.add(Identity(name="gw-1", role="gateway", site="lab", auth="cert", …))
    registry.revoke("gw-1", now_ms)        # the certificate serial goes to the revocation list
    registry.active()                      # identities that may connect (ACL and password file)
    registry.revoked_serials()             # serials for the certificate revocation list

The tables live beside the collector's in the same database but are its own
(``provisioned_identities``, ``revoked_certificates``).
"""

from cloud.registry._model import ROLES, AuthKind, Identity, RevokedCertificate, Role
from cloud.registry._store import IdentityRegistry

__all__ = ["ROLES", "AuthKind", "Identity", "IdentityRegistry", "RevokedCertificate", "Role"]
