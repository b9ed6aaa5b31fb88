"""The certificates and keys of one test control plane, generated with ``cryptography``.

One throw-away certificate authority signs the API server's serving certificate and one client
certificate per identity; a separate key pair signs service-account tokens. All keys are ECDSA
P-256 (fast to generate, accepted by every component). Files are written 0600 into one
directory; nothing here starts a process or talks to the network.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CLIENT_IDENTITIES", "ClientIdentity", "KeyPair", "Pki", "pki_paths", "write_pki"]

SERVICE_IP = "10.0.0.1"
"""The first address of the API server's service range: the ``kubernetes`` Service's IP."""

_VALIDITY = datetime.timedelta(days=365)
_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


@dataclass(frozen=True)
class ClientIdentity:
    """Who a client certificate says its holder is: user name (CN) and groups (O)."""

    name: str
    user: str
    groups: tuple[str, ...] = ()


CLIENT_IDENTITIES = (
    ClientIdentity("admin", "yokeflow-admin", ("system:masters",)),
    ClientIdentity("kube-controller-manager", "system:kube-controller-manager"),
    ClientIdentity("kube-scheduler", "system:kube-scheduler"),
    ClientIdentity("kwok", "kwok-controller", ("system:masters",)),
)
"""The identities that get a client certificate. RBAC's bootstrap policy already grants the
controller manager and scheduler users what they need; admin and kwok are cluster admins."""


@dataclass(frozen=True)
class KeyPair:
    """Paths of a PEM certificate (or public key) and its PEM private key."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Paths of everything ``write_pki`` wrote."""

    ca: KeyPair
    apiserver: KeyPair
    service_account: KeyPair
    """``cert`` is the PEM public key here, not a certificate."""
    clients: dict[str, KeyPair]


def pki_paths(directory: Path) -> Pki:
    """Where ``write_pki`` puts (or put) each file in ``directory``; the one naming scheme."""
    return Pki(
        ca=KeyPair(directory / "ca.crt", directory / "ca.key"),
        apiserver=KeyPair(directory / "apiserver.crt", directory / "apiserver.key"),
        service_account=KeyPair(
            directory / "service-account.pub", directory / "service-account.key"
        ),
        clients={
            identity.name: KeyPair(
                directory / f"client-{identity.name}.crt", directory / f"client-{identity.name}.key"
            )
            for identity in CLIENT_IDENTITIES
        },
    )


def write_pki(directory: Path, now: datetime.datetime) -> Pki:
    """Generate a fresh CA, serving and client certificates and a service-account key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = pki_paths(directory)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yokeflow-test-ca")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_pair(paths.ca, ca_cert, ca_key)

    server_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in _DNS_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", SERVICE_IP)]
    server_cert = (
        _builder(_name("kube-apiserver"), ca_name, server_key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_pair(paths.apiserver, server_cert, server_key)

    for identity in CLIENT_IDENTITIES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(_name(identity.user, identity.groups), ca_name, key.public_key(), now)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_pair(paths.clients[identity.name], cert, key)

    sa_key = ec.generate_private_key(ec.SECP256R1())
    _write(
        paths.service_account.cert,
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    _write(paths.service_account.key, _private_bytes(sa_key))
    return paths


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # Back-dated a little so a clock that is slightly off does not reject fresh certificates.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + _VALIDITY)
    )


def _private_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_pair(pair: KeyPair, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    _write(pair.cert, cert.public_bytes(serialization.Encoding.PEM))
    _write(pair.key, _private_bytes(key))


def _write(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
