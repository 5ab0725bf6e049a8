"""Settings: one YAML file, `${ENV_VAR}` interpolation, environment overrides.

With no file at all the gateway runs on the embedded defaults: the offline mock
provider serving the models `mock` and `echo`, a SQLite file, in-process limits.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
DEFAULT_CONFIG_NAME = "relaygate.yaml"


class ConfigError(Exception):
    """The configuration file cannot be used; the message names the field and line."""


class ProviderType(StrEnum):
    MOCK = "mock"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    OPENAI_RESPONSES = "openai_responses"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeoutSettings(_Strict):
    connect: float = 5.0
    read: float = 120.0


class ProviderSettings(_Strict):
    type: ProviderType
    base_url: str | None = None
    api_key: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: TimeoutSettings = Field(default_factory=TimeoutSettings)
    max_connections: int = 256
    # Azure OpenAI style: {base_url}/openai/deployments/{deployment}/chat/completions?api-version=
    api_version: str | None = None
    azure: bool = False
    # mock provider only
    stream_delay_ms: float = 0.0


class ModelSettings(_Strict):
    name: str
    provider: str
    model: str | None = None  # upstream model name; defaults to `name`
    context_window: int | None = None
    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None


class RewriteSettings(_Strict):
    match: str  # a glob such as "gpt-4*"
    to: str


class KeySettings(_Strict):
    tenant: str
    key: str | None = None  # plaintext in the file (hashed at load, never kept)
    key_sha256: str | None = None
    name: str | None = None

    @field_validator("key_sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("must be a 64-character lowercase hex SHA-256 digest")
        return value


class ServerSettings(_Strict):
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"
    max_body_bytes: int = 10 * 1024 * 1024
    shutdown_grace_seconds: float = 10.0


class StorageSettings(_Strict):
    database_url: str = "sqlite+aiosqlite:///relaygate.db"
    redis_url: str | None = None


class Settings(_Strict):
    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    models: list[ModelSettings] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)
    rewrites: list[RewriteSettings] = Field(default_factory=list)
    keys: list[KeySettings] = Field(default_factory=list)


def default_settings() -> Settings:
    """The embedded defaults: the mock provider with models `mock` and `echo`."""
    return Settings(
        providers={"mock": ProviderSettings(type=ProviderType.MOCK)},
        models=[
            ModelSettings(name="mock", provider="mock"),
            ModelSettings(name="echo", provider="mock"),
        ],
    )


def _interpolate(text: str, environ: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set (used as ${{{name}}})")

    return ENV_PATTERN.sub(replace, text)


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(key):
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if 0 <= key < len(node.value):
                child = node.value[key]
                line = child.start_mark.line + 1
        if child is None:
            return line
        node = child
    return line


def parse_settings(text: str, source: str, environ: dict[str, str] | None = None) -> Settings:
    """Parse YAML text into Settings; errors name the field and the line."""
    env = dict(os.environ) if environ is None else environ
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: line 1: the file must be a mapping of settings")
    try:
        raw = _interpolate_tree(raw, env)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field_path = ".".join(str(part) for part in loc)
            line = _line_of(node, loc)
            problems.append(f"{source}: line {line}: {field_path}: {error['msg']}")
        raise ConfigError("\n".join(problems)) from exc
    _check_references(settings, source, node)
    return settings


def _interpolate_tree(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _interpolate(value, env)
    if isinstance(value, list):
        return [_interpolate_tree(item, env) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate_tree(item, env) for key, item in value.items()}
    return value


def _check_references(settings: Settings, source: str, node: yaml.Node | None) -> None:
    model_names = {model.name for model in settings.models}
    for index, model in enumerate(settings.models):
        if model.provider not in settings.providers:
            line = _line_of(node, ("models", index, "provider"))
            raise ConfigError(
                f"{source}: line {line}: models.{index}.provider: "
                f"unknown provider {model.provider!r} (known: {sorted(settings.providers)})"
            )
    for alias, target in settings.aliases.items():
        if target not in model_names and ":" not in target:
            line = _line_of(node, ("aliases", alias))
            raise ConfigError(f"{source}: line {line}: aliases.{alias}: unknown model {target!r}")
    for index, key in enumerate(settings.keys):
        if (key.key is None) == (key.key_sha256 is None):
            line = _line_of(node, ("keys", index))
            raise ConfigError(
                f"{source}: line {line}: keys.{index}: give exactly one of key, key_sha256"
            )


def _apply_environment(settings: Settings, environ: dict[str, str]) -> Settings:
    server = settings.server
    if "RELAYGATE_HOST" in environ:
        server.host = environ["RELAYGATE_HOST"]
    if "RELAYGATE_PORT" in environ:
        try:
            server.port = int(environ["RELAYGATE_PORT"])
        except ValueError as exc:
            raise ConfigError("RELAYGATE_PORT must be a whole number") from exc
    if "RELAYGATE_LOG_LEVEL" in environ:
        server.log_level = environ["RELAYGATE_LOG_LEVEL"]
    if "RELAYGATE_DATABASE_URL" in environ:
        settings.storage.database_url = environ["RELAYGATE_DATABASE_URL"]
    if "RELAYGATE_REDIS_URL" in environ:
        settings.storage.redis_url = environ["RELAYGATE_REDIS_URL"]
    return settings


def load_settings(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Load the file named, or `$RELAYGATE_CONFIG`, or ./relaygate.yaml, or the defaults."""
    env = dict(os.environ) if environ is None else environ
    chosen = path or env.get("RELAYGATE_CONFIG")
    if chosen is None and Path(DEFAULT_CONFIG_NAME).exists():
        chosen = DEFAULT_CONFIG_NAME
    if chosen is None:
        return _apply_environment(default_settings(), env)
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    settings = parse_settings(text, str(file), env)
    if not settings.providers:
        defaults = default_settings()
        settings.providers = defaults.providers
        settings.models = settings.models or defaults.models
    return _apply_environment(settings, env)
