"""Settings from the environment, and keys generated once into the var dir."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from sqlalchemy.pool import QueuePool

from gateway._runtime import Runtime
from gateway._secrets import jwt_private_key, load_vapid_private_key, vapid_private_key
from gateway.settings import Settings


def _public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def test_defaults_follow_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "VAR_DIR", "SEARCH", "NETWORK", "TEST_CLOCK"):
        monkeypatch.delenv(f"TESSERA_{name}", raising=False)

    settings = Settings()

    assert settings.var_dir == tmp_path / "var"
    assert settings.resolved_database_url() == f"sqlite+aiosqlite:///{tmp_path}/var/tessera.db"
    assert (settings.search, settings.network, settings.test_clock) == ("embedded", "cubi", False)


def test_settings_are_read_from_tessera_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_DATABASE_URL", "postgresql+asyncpg://db/tessera")
    monkeypatch.setenv("TESSERA_TEST_CLOCK", "1")
    monkeypatch.setenv("TESSERA_NETWORK", "ginestra")
    monkeypatch.setenv("TESSERA_SMS_TOKEN", "s3cret")

    settings = Settings()

    assert settings.resolved_database_url() == "postgresql+asyncpg://db/tessera"
    assert settings.test_clock is True
    assert settings.network == "ginestra"
    assert "s3cret" not in repr(settings)  # secrets never show up in logs


async def test_the_database_pool_keeps_the_configured_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_DATABASE_POOL_SIZE", "7")
    runtime = Runtime.from_settings(Settings(var_dir=tmp_path))
    try:
        assert isinstance(runtime.engine.pool, QueuePool)
        assert runtime.engine.pool.size() == 7
    finally:
        await runtime.engine.dispose()
    with pytest.raises(ValidationError):
        Settings(database_pool_size=0)


def test_keys_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)

    first_jwt, first_vapid = jwt_private_key(settings), vapid_private_key(settings)
    again_jwt, again_vapid = jwt_private_key(settings), vapid_private_key(settings)

    assert first_jwt.private_bytes_raw() == again_jwt.private_bytes_raw()
    assert _public_bytes(first_vapid) == _public_bytes(again_vapid)
    for name in ("jwt_private_key.pem", "vapid_private_key.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_the_vapid_keys_command_prints_a_usable_pair() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "vapid-keys"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    private = output.split("TESSERA_VAPID_PRIVATE_KEY=")[1].split()[0]
    public = output.split("applicationServerKey): ")[1].split()[0]

    key = load_vapid_private_key(private)

    assert base64.urlsafe_b64encode(_public_bytes(key)).rstrip(b"=").decode() == public


def test_a_vapid_key_may_be_given_as_pem(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    settings = Settings(var_dir=tmp_path, vapid_private_key=pem)

    assert _public_bytes(vapid_private_key(settings)) == _public_bytes(key)
    assert not (tmp_path / "vapid_private_key.pem").exists()
