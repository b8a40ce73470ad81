"""Settings, read from the environment exactly as the contract names them (TESSERA_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the var dir"
    )
    database_pool_size: int = Field(
        default=32,
        ge=1,
        description="database connections a process keeps open (on PostgreSQL, at most: a"
        " request beyond them waits for one; processes x this must stay under max_connections)",
    )
    response_cache_size: int = Field(
        default=4096,
        ge=0,
        description="answers to ScanIsbn and Record a process keeps, dropped when the outbox says"
        " their record changed (0: none kept)",
    )
    search: Literal["embedded", "meilisearch"] = "embedded"
    meili_url: str | None = None
    meili_key: SecretStr | None = None
    network: str = Field(
        default="cubi", description="cubi, biblioinrete, ginestra, or a path to a policy file"
    )
    test_clock: bool = False
    sms_url: str | None = None
    sms_token: SecretStr | None = None
    vapid_private_key: SecretStr | None = None
    vapid_subject: str = "mailto:tessera@example.org"
    jwt_private_key: SecretStr | None = None
    push_allow_loopback: bool = False
    # SMS (which costs the library money) only when no push subscription accepted a message.
    sms_fallback_only: bool = False
    # E-mail, for patrons reached by neither push nor SMS; unset: no e-mail.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str | None = None
    graphiql: bool = Field(
        default=False, description="1 serves GraphiQL at /graphql and answers introspection"
    )
    pwa_origin: str | None = Field(
        default=None,
        description="the one other origin (scheme://host[:port]) allowed to call /graphql by CORS;"
        " default: same origin only",
    )
    persisted_only: bool = Field(
        default=False, description="1 accepts only the registered (persisted) operations"
    )

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("pwa_origin")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip().rstrip("/"))
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
            raise ValueError(f"not an origin (scheme://host[:port]): {value!r}")
        if parts.path or parts.query or parts.fragment:
            raise ValueError(f"an origin has no path, query or fragment: {value!r}")
        # Browsers send the Origin header with the scheme and the host in lower case.
        return f"{scheme}://{parts.netloc.lower()}"

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the var dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'tessera.db'}"
