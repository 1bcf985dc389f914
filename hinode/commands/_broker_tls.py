"""``--ca-file``, ``--cert-file`` and ``--key-file``: TLS to a broker run with a private CA."""

from pathlib import Path
from typing import Annotated

import typer

from cloud import BrokerTls
from hinode.commands._errors import fail

CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file", help="CA that signed the broker's certificate (default: the system's CAs)."
    ),
]
CertFile = Annotated[
    Path | None,
    typer.Option("--cert-file", help="Client certificate (PEM) to present to the broker."),
]
KeyFile = Annotated[
    Path | None, typer.Option("--key-file", help="Key (PEM) of the client certificate.")
]


def broker_tls(ca: Path | None, cert: Path | None, key: Path | None) -> BrokerTls | None:
    """The TLS files given, or None; a certificate without its key (or the reverse) exits 2."""
    if ca is None and cert is None and key is None:
        return None
    if (cert is None) != (key is None):
        fail("--cert-file and --key-file: give both or neither")
    return BrokerTls(ca=ca, cert=cert, key=key)
