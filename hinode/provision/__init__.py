"""Provisioning: the deployment CA, broker identities, ACL, password file and gateway configs.

Public API::

    from hinode.provision import BrokerSettings, Deployment

    deployment = Deployment.create(pki_dir, broker_hosts=["broker.example"], now=now)
    deployment.provision_gateway(
        site="lab", gateway="gw-1", out=bundle_dir, now=now,
        files_dir=DEFAULT_FILES_DIR, outbox_path=DEFAULT_OUTBOX,
    )
    deployment.provision_service(role="collector", name="collector-1", out=dir, now=now)
    deployment.provision_service(role="controller", name="ctl-1", out=dir, now=now, auth="cert")
    deployment.revoke("gw-1", now)
    deployment.broker_config(broker_dir, BrokerSettings(), now)
"""

from hinode.provision._broker import BrokerSettings, mosquitto_conf, read_settings
from hinode.provision._deployment import Deployment, Written
from hinode.provision._gateway_config import DEFAULT_FILES_DIR, DEFAULT_OUTBOX, load_devices
from hinode.provision._passwords import mosquitto_hash, verify

__all__ = [
    "DEFAULT_FILES_DIR",
    "DEFAULT_OUTBOX",
    "BrokerSettings",
    "Deployment",
    "Written",
    "load_devices",
    "mosquitto_conf",
    "mosquitto_hash",
    "read_settings",
    "verify",
]
