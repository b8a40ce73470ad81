"""Signing keys: taken from the settings, else generated once into the var dir and kept there."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from .settings import Settings

__all__ = [
    "jwt_private_key",
    "load_vapid_private_key",
    "new_vapid_key_pair",
    "vapid_private_key",
    "vapid_public_key",
]


def _pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _kept_key(path: Path, generate: type[ed25519.Ed25519PrivateKey] | ec.EllipticCurve) -> bytes:
    """The PEM at `path`, written first (owner-only, atomically) if it does not exist."""
    if path.exists():
        return path.read_bytes()
    key: PrivateKeyTypes
    if isinstance(generate, ec.EllipticCurve):
        key = ec.generate_private_key(generate)
    else:
        key = generate.generate()
    pem = _pem(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    # Two processes starting at once: the first link wins, and both then read the same key.
    try:
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return path.read_bytes()


def jwt_private_key(settings: Settings) -> ed25519.Ed25519PrivateKey:
    """The EdDSA key that signs session tokens."""
    if settings.jwt_private_key is not None:
        pem = settings.jwt_private_key.get_secret_value().encode()
    else:
        pem = _kept_key(settings.var_dir / "jwt_private_key.pem", ed25519.Ed25519PrivateKey)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("TESSERA_JWT_PRIVATE_KEY must be an Ed25519 key in PKCS#8 PEM")
    return key


def load_vapid_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """A VAPID key given as PKCS#8 PEM or as the raw 32-byte private value in base64url."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the VAPID key must be a P-256 (prime256v1) key")
        return key
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(raw) != 32:
        raise ValueError("a raw VAPID private key is 32 bytes in base64url")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def vapid_private_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    """The P-256 key that signs VAPID claims for web push."""
    if settings.vapid_private_key is not None:
        return load_vapid_private_key(settings.vapid_private_key.get_secret_value())
    pem = _kept_key(settings.var_dir / "vapid_private_key.pem", ec.SECP256R1())
    return load_vapid_private_key(pem.decode())


def _application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(public).rstrip(b"=").decode()


def vapid_public_key(settings: Settings) -> str:
    """The applicationServerKey the PWA passes to pushManager.subscribe (base64url)."""
    return _application_server_key(vapid_private_key(settings))


def new_vapid_key_pair() -> tuple[str, str]:
    """A new (private, public) VAPID pair in base64url: the raw private value and the
    uncompressed public point that browsers take as applicationServerKey."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return base64.urlsafe_b64encode(private).rstrip(b"=").decode(), _application_server_key(key)
