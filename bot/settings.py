"""All configuration, read once at each entry point (``KB_*`` variables or ``.env``).

Every setting is listed in the README's settings table; a test keeps the two in sync.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.answer import ExtractiveSettings
from ingest.embed import DEFAULT_RUNTIME, Runtime
from ingest.embedding_model import default_model_cache
from ingest.errors import ConfigurationError
from ingest.load import MIB, Limits

_LIMITS = Limits()
"""The ingest layer's defaults: the download settings below start from them."""


class Settings(BaseSettings):
    """Knowledge-base settings.

    Example:
        >>> Settings(home=Path("/tmp/kb")).store_path
        PosixPath('/tmp/kb/chroma')
    """

    model_config = SettingsConfigDict(
        env_prefix="KB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- knowledge base
    home: Path = Field(
        Path(".kb"), description="Folder of the knowledge base (embedded store, indexes, feedback)."
    )
    corpus: Path | None = Field(
        None,
        description="Articles ingested into a never-used knowledge base; default: the bundled corpus.",
    )
    auto_ingest: bool = Field(
        True, description="Ingest the corpus on first use of a never-used knowledge base."
    )
    collection: str = Field(
        "kb", description="Name of the knowledge base inside Chroma (several can share a server)."
    )
    model_cache: Path = Field(
        default_factory=default_model_cache,
        description="Where the exported ONNX embedding model is cached.",
    )
    ingest_runtime: Runtime = Field(
        DEFAULT_RUNTIME,
        description="How ingest embeds chunks: auto (the default: torch with bf16 autocast "
        "for an ingest of 1,000 chunks or more on a CPU with AMX, else onnx), onnx (ONNX Runtime, "
        "fp32), onnx-int8 (int8 weights, faster, answers slightly worse), torch "
        "(sentence-transformers, fp32) or torch-bf16.",
    )
    fetch_timeout: float = Field(
        _LIMITS.fetch_timeout,
        gt=0,
        description="Seconds a whole URL download may take (name lookups and redirects included).",
    )
    max_download_mb: float = Field(
        _LIMITS.max_download_bytes / MIB,
        gt=0,
        description="Larger web pages are refused (checked while downloading).",
    )
    max_file_mb: float = Field(
        _LIMITS.max_file_bytes / MIB, gt=0, description="Larger files are refused before reading."
    )
    allow_private_urls: bool = Field(
        _LIMITS.allow_private_urls,
        description="Let URLs reach loopback and private networks (this machine, the LAN).",
    )
    log_level: str = Field("WARNING", description="Logging level (DEBUG, INFO, WARNING, ERROR).")
    sync_hours: float = Field(
        0.0,
        ge=0,
        description="The Discord bot re-syncs ingested web pages every this many hours (0 = off).",
    )

    # --- Chroma server mode (off unless a host is set)
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset = embedded store under KB_HOME."
    )
    chroma_port: int = Field(8000, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS for the Chroma server.")
    chroma_token: SecretStr | None = Field(
        None, description="Bearer token for the Chroma server, if it needs one."
    )

    # --- Chroma Cloud (off unless the API key, tenant and database are all set)
    chroma_cloud_api_key: SecretStr | None = Field(
        None,
        description="Chroma Cloud API key; with KB_CHROMA_TENANT and KB_CHROMA_DATABASE "
        "the knowledge base lives in Chroma Cloud.",
    )
    chroma_tenant: str | None = Field(None, description="Chroma Cloud tenant.")
    chroma_database: str | None = Field(None, description="Chroma Cloud database.")
    chroma_cloud_url: str = Field(
        "https://api.trychroma.com",
        description="Chroma Cloud's address (another one only to test against a local server).",
    )

    # --- answering
    max_question_chars: int = Field(
        2000, gt=0, description="Longer questions are rejected with a clear error."
    )
    answer_sentences: int = Field(
        ExtractiveSettings.max_sentences,
        ge=1,
        le=6,
        description="Most sentences an extractive answer quotes.",
    )
    llm: str | None = Field(
        None,
        description="Chat model as provider:model (openai:gpt-4o-mini, ollama:llama3.2, anthropic:claude-…); set to answer with an LLM.",
    )
    llm_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible server (…/v1); alone it answers with KB_LLM_MODEL through it.",
    )
    llm_model: str = Field(
        "gpt-4o-mini", description="Model name used with KB_LLM_URL when KB_LLM is unset."
    )
    llm_api_key: SecretStr | None = Field(
        None, description="API key for the LLM; unset = the provider's own variable."
    )
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds one LLM answer may take in all (retries included)."
    )
    llm_max_tokens: int = Field(512, ge=16, description="Most tokens the LLM may write per answer.")
    llm_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries (with backoff) after a 429, a 5xx or a lost connection.",
    )

    # --- Discord
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("KB_DISCORD_TOKEN", "DISCORD_TOKEN", "discord_token"),
        description="Bot token (also read from DISCORD_TOKEN).",
    )
    discord_guild: int | None = Field(
        None, description="Sync slash commands to this guild only (instant, for setup)."
    )
    discord_channels: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Channel ids the bot answers mentions in (comma-separated); empty = all.",
    )
    discord_dms: bool = Field(True, description="Answer direct messages.")
    discord_admin_role: str | None = Field(
        None, description="Role allowed to /ingest and /forget besides Manage Server."
    )
    discord_cooldown_uses: int = Field(
        3, ge=1, description="Questions a user may ask per cooldown window."
    )
    discord_cooldown_seconds: float = Field(
        30.0, ge=0, description="Length of the per-user cooldown window (0 = off)."
    )

    @field_validator("discord_channels", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("llm_url")
    @classmethod
    def _llm_base_url(cls, value: str | None) -> str | None:
        """A base URL; the full ``…/chat/completions`` endpoint is cut back to it."""
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not re.match(r"https?://[^/\s]+", url):
            raise ValueError(f"{url!r} is not an http(s) URL (e.g. http://localhost:11434/v1)")
        for suffix in ("/chat/completions", "/completions"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
                break
        return url

    @field_validator("llm")
    @classmethod
    def _llm_name(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]+:\S.*", value.strip()):
            raise ValueError("use provider:model, e.g. openai:gpt-4o-mini or ollama:llama3.2")
        return value.strip()

    @field_validator("chroma_tenant", "chroma_database", "chroma_host", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("chroma_cloud_url")
    @classmethod
    def _cloud_url(cls, value: str) -> str:
        _split_url(value)
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _one_chroma(self) -> Settings:
        """Chroma Cloud takes all three of its settings, and excludes a Chroma server."""
        cloud = {
            "KB_CHROMA_CLOUD_API_KEY": self.chroma_cloud_api_key is not None
            and bool(self.chroma_cloud_api_key.get_secret_value()),
            "KB_CHROMA_TENANT": self.chroma_tenant is not None,
            "KB_CHROMA_DATABASE": self.chroma_database is not None,
        }
        if any(cloud.values()) and not all(cloud.values()):
            given = ", ".join(name for name, set_ in cloud.items() if set_)
            missing = ", ".join(name for name, set_ in cloud.items() if not set_)
            raise ValueError(
                f"Chroma Cloud needs KB_CHROMA_CLOUD_API_KEY, KB_CHROMA_TENANT and "
                f"KB_CHROMA_DATABASE together: {given} set, {missing} missing"
            )
        if all(cloud.values()) and self.chroma_host:
            raise ValueError(
                "both KB_CHROMA_HOST (a Chroma server) and Chroma Cloud "
                "(KB_CHROMA_CLOUD_API_KEY, KB_CHROMA_TENANT, KB_CHROMA_DATABASE) are set; "
                "unset one of them"
            )
        return self

    @property
    def chroma_cloud(self) -> bool:
        """Whether the knowledge base lives in Chroma Cloud (its three settings are set)."""
        return bool(
            self.chroma_cloud_api_key is not None
            and self.chroma_cloud_api_key.get_secret_value()
            and self.chroma_tenant
            and self.chroma_database
        )

    @property
    def chroma_cloud_address(self) -> tuple[str, int, bool]:
        """Chroma Cloud's host, port and whether it speaks HTTPS, from ``chroma_cloud_url``."""
        return _split_url(self.chroma_cloud_url)

    @property
    def llm_enabled(self) -> bool:
        """Whether answers are written by an LLM (``KB_LLM`` or ``KB_LLM_URL`` set)."""
        return bool(self.llm or self.llm_url)

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 41 characters)")
        return value

    @property
    def extractive(self) -> ExtractiveSettings:
        """The extractive answerer's settings: its defaults, with what is configurable here."""
        return ExtractiveSettings(max_sentences=self.answer_sentences)

    @property
    def limits(self) -> Limits:
        """What one source may cost, for the ingest pipeline."""
        return Limits(
            fetch_timeout=self.fetch_timeout,
            max_download_bytes=int(self.max_download_mb * MIB),
            max_file_bytes=int(self.max_file_mb * MIB),
            allow_private_urls=self.allow_private_urls,
        )

    @property
    def store_path(self) -> Path:
        """The embedded Chroma folder."""
        return self.home / "chroma"

    @property
    def index_path(self) -> Path:
        """Derived, per-machine indexes (lexical), rebuilt from the store when stale."""
        return self.home / "index" / self.collection

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.sqlite3"


def _split_url(url: str) -> tuple[str, int, bool]:
    """``https://host[:port]`` as (host, port, ssl); the port defaults by scheme."""
    found = re.fullmatch(
        r"(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?/?", url.strip()
    )
    if found is None:
        raise ValueError(f"{url!r} is not an http(s)://host[:port] address")
    scheme, host, port = found.groups()
    ssl = scheme == "https"
    return host.strip("[]"), int(port) if port else (443 if ssl else 80), ssl


_EXPECTED = {int: "a whole number", float: "a number", bool: "true or false", Path: "a path"}


def load_settings(**values: Any) -> Settings:
    """:class:`Settings` from the environment (and ``values``), or a plain error.

    Raises:
        ConfigurationError: A setting's value is not valid; the message names the
            variable, the value and what is expected
            (``KB_ANSWER_SENTENCES='abc' is not valid: expected a whole number from 1 to 6``).
    """
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigurationError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    """One line per bad setting: its variable, the value given and what is expected."""
    lines = []
    for error in exc.errors():
        if not error["loc"]:  # a rule across settings: its message names them
            lines.append(str(error.get("msg", "")).removeprefix("Value error, "))
            continue
        name = str(error["loc"][0])
        field = Settings.model_fields.get(name)
        variable = f"KB_{name.upper()}" if name else "A setting"
        value = error.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int, float)) else ""
        expected = _expected(field) if field is not None else ""
        detail = error.get("msg", "")
        if detail.startswith("Value error, "):
            detail = detail[len("Value error, ") :]
        lines.append(
            f"{variable}{shown} is not valid: "
            + (f"expected {expected} ({detail})" if expected else detail)
        )
    return "\n".join(lines)


def _expected(field: Any) -> str:
    annotation = field.annotation
    kinds = [t for t in (int, float, bool, Path) if annotation is t or annotation == t | None]
    if not kinds:
        return ""
    text = _EXPECTED[kinds[0]]
    low = high = None
    for rule in field.metadata:
        if isinstance(rule, Ge):
            low = f"from {rule.ge}"
        elif isinstance(rule, Gt):
            low = f"above {rule.gt}"
        elif isinstance(rule, Le):
            high = f"to {rule.le}" if low and low.startswith("from") else f"at most {rule.le}"
    bounds = " ".join(part for part in (low, high) if part)
    return f"{text} {bounds}".strip()
