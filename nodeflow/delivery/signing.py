"""The key and certificate that sign C2PA content credentials.

By default nodeflow makes them once, in the data folder (``credentials/signer.pem``): a local
certificate authority and a signing certificate it issued, with what C2PA requires of one (not a
CA, ``digitalSignature`` key usage, the ``emailProtection`` extended key usage, subject and
authority key identifiers). Files it signs verify here as trusted; elsewhere they verify as valid
but from an unknown signer, since nobody else trusts the local CA.

To sign with your own: ``NODEFLOW_C2PA_CERT`` (PEM: the signing certificate first, then its chain),
``NODEFLOW_C2PA_KEY`` (PEM private key) and, for other than ES256, ``NODEFLOW_C2PA_ALG`` (es384,
es512, ps256, ed25519...). ``NODEFLOW_C2PA_TRUST`` names extra PEM trust anchors for verifying.
"""

from __future__ import annotations

import datetime
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUNDLE_NAME", "SigningIdentity", "signing_identity", "trust_anchors"]

BUNDLE_NAME = "signer.pem"
_CACHE: dict[str, SigningIdentity] = {}


@dataclass(frozen=True)
class SigningIdentity:
    alg: str  # es256, ...
    chain: bytes  # PEM: the signing certificate, then the certificates that issued it
    key: bytes  # PEM private key
    anchors: bytes  # PEM certificates trusted when verifying (the local CA, and NODEFLOW_C2PA_TRUST)
    source: str  # where it came from, for messages


def signing_identity(home: Path) -> SigningIdentity:
    """The identity to sign with: the user's (environment) or the data folder's (made on first use)."""
    cert, key = os.environ.get("NODEFLOW_C2PA_CERT"), os.environ.get("NODEFLOW_C2PA_KEY")
    cache_key = f"{cert}|{key}|{Path(home).resolve()}"
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    if cert or key:
        if not (cert and key):
            raise ValueError("set both NODEFLOW_C2PA_CERT and NODEFLOW_C2PA_KEY to sign with your own certificate")
        identity = SigningIdentity(
            os.environ.get("NODEFLOW_C2PA_ALG", "es256").lower(),
            Path(cert).expanduser().read_bytes(),
            Path(key).expanduser().read_bytes(),
            _extra_anchors(),
            f"{cert} (NODEFLOW_C2PA_CERT)",
        )
    else:
        bundle = Path(home) / "credentials" / BUNDLE_NAME
        if not bundle.exists():
            _make_local_bundle(bundle)
        identity = _load_bundle(bundle)
    _CACHE[cache_key] = identity
    return identity


def trust_anchors(home: Path) -> bytes:
    """PEM anchors for verifying: the local CA (when one was made) and NODEFLOW_C2PA_TRUST."""
    anchors = _extra_anchors()
    bundle = Path(home) / "credentials" / BUNDLE_NAME
    if bundle.exists():
        anchors += _load_bundle(bundle).anchors
    return anchors


def _extra_anchors() -> bytes:
    trust = os.environ.get("NODEFLOW_C2PA_TRUST")
    return Path(trust).expanduser().read_bytes() if trust else b""


def _load_bundle(bundle: Path) -> SigningIdentity:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    text = bundle.read_bytes()
    certificates = x509.load_pem_x509_certificates(text)
    key_start = text.index(b"-----BEGIN PRIVATE KEY-----")
    key = text[key_start : text.index(b"-----END PRIVATE KEY-----") + len(b"-----END PRIVATE KEY-----\n")]
    pem = [c.public_bytes(serialization.Encoding.PEM) for c in certificates]
    # the bundle holds the signing certificate, then the local CA
    return SigningIdentity("es256", b"".join(pem), key, pem[-1], str(bundle))


def _make_local_bundle(bundle: Path) -> None:
    """A local CA and a signing certificate, written once (a concurrent first use keeps the first)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)

    def name(common: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nodeflow (local)"),
        ])

    def usage(**allowed: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        return x509.KeyUsage(**{**flags, **allowed})

    # 1. The local certificate authority
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(name("nodeflow local CA")).issuer_name(name("nodeflow local CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # 2. The signing certificate it issues, with the extensions C2PA requires of a signer
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(name("nodeflow content credentials")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # 3. One private file (the CA's key is not kept: nothing else is ever issued)
    text = (
        cert.public_bytes(serialization.Encoding.PEM)
        + ca.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    bundle.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".signer.", suffix=".part", dir=bundle.parent)  # 0600
    with os.fdopen(fd, "wb") as handle:
        handle.write(text)
    try:
        os.link(tmp, bundle)  # fails if another process made one first: keep theirs
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
