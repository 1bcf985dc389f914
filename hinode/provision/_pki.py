"""The deployment's certificate authority: CA, broker and client certificates, revocation list."""

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 825
#: A revocation list past its next update makes OpenSSL refuse every client: re-issue within this.
CRL_DAYS = 365


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key, PEM-encoded; *serial* in lower-case hex."""

    cert_pem: bytes
    key_pem: bytes
    serial: str


@dataclass(frozen=True, slots=True)
class Authority:
    """A loaded CA that can sign."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def load(cls, cert_pem: bytes, key_pem: bytes) -> "Authority":
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            msg = "the CA key is not an elliptic-curve key made by `hinode provision ca`"
            raise TypeError(msg)
        return cls(x509.load_pem_x509_certificate(cert_pem), key)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hinode")]
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def create_ca(common_name: str, now: dt.datetime, *, days: int = CA_DAYS) -> Issued:
    """A self-signed CA for one deployment."""
    key = _key()
    name = _name(common_name)
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), f"{serial:x}")


def _leaf(
    authority: Authority,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    now: dt.datetime,
    days: int,
    alt_names: list[x509.GeneralName] | None = None,
) -> Issued:
    key = _key()
    serial = x509.random_serial_number()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key()),
            critical=False,
        )
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(authority.key, hashes.SHA256())
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), f"{serial:x}")


def issue_server(
    authority: Authority, hostnames: list[str], now: dt.datetime, *, days: int = LEAF_DAYS
) -> Issued:
    """The broker's certificate; *hostnames* may be DNS names or IP addresses."""
    alt_names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    return _leaf(
        authority,
        _name(hostnames[0], "broker"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        now,
        days,
        alt_names,
    )


def issue_client(
    authority: Authority, username: str, role: str, now: dt.datetime, *, days: int = LEAF_DAYS
) -> Issued:
    """A client certificate whose CN is the MQTT username (the broker takes it as such)."""
    return _leaf(authority, _name(username, role), ExtendedKeyUsageOID.CLIENT_AUTH, now, days)


def revocation_list(
    authority: Authority,
    revoked: list[tuple[str, dt.datetime]],
    now: dt.datetime,
    *,
    days: int = CRL_DAYS,
) -> bytes:
    """A PEM CRL listing *revoked* (hex serial, revocation time), valid for *days*."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(authority.cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial, 16))
            .revocation_date(when)
            .build()
        )
    crl = builder.sign(authority.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.PEM)
