"""Settings, read from the environment exactly as the contract names them (TESSERA_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the var dir"
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

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded SQLite file in the var dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'tessera.db'}"
