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
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from relaygate.agents.named.spec import AgentSpec
from relaygate.agents.workflows.spec import WorkflowSpec
from relaygate.cache.settings import CacheSettings
from relaygate.control_settings import (
    AdminSettings,
    BudgetSettings,
    BudgetsSettings,
    LedgerSettings,
    LimitSettings,
    LimitsSettings,
    PromptsSettings,
)
from relaygate.guardrails.settings import GuardPolicySettings, GuardSettings
from relaygate.images.settings import ImageSettings
from relaygate.observability.settings import TelemetrySettings
from relaygate.routing.settings import RoutingSettings, TimeoutsSettings, routing_problems

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
    REPLAY = "replay"  # records and replays another provider (docs/replay.md)


class ReplayMode(StrEnum):
    RECORD = "record"  # call the wrapped provider, write every exchange
    REPLAY = "replay"  # cassettes only: an unknown request is an error
    AUTO = "auto"  # a cassette when there is one, else record it


class ReplayTiming(StrEnum):
    RECORDED = "recorded"  # streams paced as they were recorded
    FAST = "fast"  # as fast as possible


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
    # replay provider only (docs/replay.md)
    of: str | None = None  # the wrapped provider's name
    mode: ReplayMode = ReplayMode.REPLAY
    dir: str = "cassettes"
    timing: ReplayTiming = ReplayTiming.RECORDED
    ignore: list[str] = Field(default_factory=list)  # more request fields left out of the key


class ModelSettings(_Strict):
    name: str
    provider: str
    model: str | None = None  # upstream model name; defaults to `name`
    context_window: int | None = None
    # prices in US dollars; unset ones come from the built-in table (routing/prices.py)
    input_price_per_mtok: float | None = Field(default=None, ge=0)
    output_price_per_mtok: float | None = Field(default=None, ge=0)
    cached_input_price_per_mtok: float | None = Field(default=None, ge=0)
    request_price_usd: float | None = Field(default=None, ge=0)
    max_output_tokens: int | None = Field(default=None, gt=0)  # reserved when a call sets none
    # several entries with one name are the deployments of one group (docs/routing.md)
    id: str | None = None  # default: the name alone, or `provider/model` in a group of several
    weight: float = Field(default=1.0, ge=0)
    tags: list[str] = Field(default_factory=list)
    limits: LimitSettings | None = None  # this deployment's own rpm/tpm (the `usage` strategy)
    timeout: TimeoutsSettings | None = None


class RewriteSettings(_Strict):
    match: str  # a glob such as "gpt-4*"
    to: str


class KeySettings(_Strict):
    tenant: str
    key: str | None = None  # plaintext in the file (hashed at load, never kept)
    key_sha256: str | None = None
    name: str | None = None
    models: list[str] | None = None  # names or globs this key may call; None: every model
    endpoints: list[str] | None = None  # API families (access/endpoints.py); None: all
    budget: BudgetSettings | None = None
    limits: LimitSettings | None = None

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
    fast_path: bool = True  # relay bytes when front and provider share a format
    workers: int = Field(default=1, ge=1)  # serving processes on one port (> 1 needs storage.redis_url)


class StorageSettings(_Strict):
    database_url: str = "sqlite+aiosqlite:///relaygate.db"
    redis_url: str | None = None


class ToolPolicyMode(StrEnum):
    ALLOW_ALL = "allow_all"
    ALLOW_LIST = "allow_list"
    DENY_LIST = "deny_list"


class ToolPolicySettings(_Strict):
    """Which tools a tenant or key may use; dangerous tools only when named in `allow`."""

    mode: ToolPolicyMode = ToolPolicyMode.ALLOW_ALL
    allow: list[str] = Field(default_factory=list)  # names or globs ("docs_*")
    deny: list[str] = Field(default_factory=list)


class McpServerSettings(_Strict):
    """A remote MCP server (Streamable HTTP) whose tools join a tenant's registry."""

    name: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    prefix: str | None = None  # defaults to "<name>_"
    dangerous: bool = False
    timeout_seconds: float = 30.0
    refresh_seconds: float = 300.0  # list the server's tools again this often (0: never)


class SandboxSettings(_Strict):
    enabled: bool = True
    allow_unsandboxed: bool = False  # run bash/python without bubblewrap (logged as a warning)
    timeout_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_mb: int = 512
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 64
    tmp_size_mb: int = 64
    output_bytes: int = 64 * 1024
    uid: int = 65534


class ToolLoopSettings(_Strict):
    max_steps: int = 8
    time_budget_seconds: float = 120.0


class DelegationSettings(_Strict):
    """Agents calling agents (`agent:<name>`, `a2a:<alias>` tools): how deep a chain may go."""

    max_depth: int = Field(default=3, ge=0, le=16)  # a run started directly is depth 0
    timeout_seconds: float = Field(default=120.0, gt=0)  # one delegated run, at most


class A2ARemoteSettings(_Strict):
    """A remote A2A agent a local agent may call as the tool `a2a:<alias>`."""

    url: str  # the agent's base URL: its card is at <url>/.well-known/agent-card.json
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. Authorization
    description: str | None = None  # the tool's description (default: the alias)
    timeout_seconds: float = Field(default=120.0, gt=0)


class A2ASettings(_Strict):
    remotes: dict[str, A2ARemoteSettings] = Field(default_factory=dict)  # by alias
    # an ended task (completed, failed, cancelled, rejected) is deleted this long after its
    # last change (its run, a session, keeps its own TTL)
    task_ttl_seconds: float = Field(default=7 * 24 * 3600.0, gt=0)


class ToolsSettings(_Strict):
    default_policy: ToolPolicySettings = Field(default_factory=ToolPolicySettings)
    tenants: dict[str, ToolPolicySettings] = Field(default_factory=dict)
    keys: dict[str, ToolPolicySettings] = Field(default_factory=dict)  # by key name
    custom: list[str] = Field(default_factory=list)  # "module:function"
    mcp_servers: dict[str, list[McpServerSettings]] = Field(default_factory=dict)  # by tenant
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    loop: ToolLoopSettings = Field(default_factory=ToolLoopSettings)
    workspace_root: str | None = None  # default: <tmp>/relaygate-workspaces
    max_file_bytes: int = 1024 * 1024
    workspace_max_bytes: int = Field(default=256 * 1024 * 1024, gt=0)  # all files of one workspace
    workspace_max_files: int = Field(default=10_000, gt=0)  # entries of one workspace, dirs too
    workspace_ttl_seconds: float = Field(default=7 * 24 * 3600, ge=0)  # 0: never removed
    workspace_sweep_interval_seconds: float = Field(default=3600.0, gt=0)
    default_timeout_seconds: float = 10.0
    weather_backend: str | None = None  # "module:factory"; default the offline demo
    search_backend: str | None = None


class SessionSettings(_Strict):
    """Sessions: expiry, limits, memory budget, the live stream."""

    default_ttl_seconds: int = 24 * 3600  # sliding: every use of a session extends it
    max_ttl_seconds: int = 30 * 24 * 3600
    sweep_interval_seconds: float = 60.0
    tombstone_seconds: int = 7 * 24 * 3600  # how long an expired id still says "expired"
    max_message_bytes: int = 256 * 1024
    default_context_window: int = 128_000  # when neither session nor model gives one
    reply_tokens: int = 4096  # held back from the window for the reply
    keepalive_seconds: float = 15.0  # SSE comment on idle streams
    retry_ms: int = 3000  # SSE `retry:` hint


class RealtimeSettings(_Strict):
    """WebSocket chat: heartbeat, per-client send queue, the agent-turn worker pool."""

    ping_interval_seconds: float = 30.0  # the server pings every peer this often
    idle_timeout_seconds: float = 60.0  # a peer silent this long is dropped (close 4408)
    send_queue_size: int = 256  # frames waiting for one client; overflow → close 4429
    close_timeout_seconds: float = 5.0  # how long a close frame may wait on a stuck peer
    max_message_bytes: int = 256 * 1024
    workers: int = 8  # agent turns running at once (per process)
    turn_queue_size: int = 64  # turns waiting for a worker; full → `busy` error at once
    turn_timeout_seconds: float = 30.0
    default_model: str | None = None  # default: the first configured model


class HookPoint(StrEnum):
    AUTH = "auth"  # header values -> tenant, or refuse
    BEFORE_REQUEST = "before_request"  # read or change the Call, or refuse
    AFTER_RESPONSE = "after_response"  # read the outcome event
    ON_ERROR = "on_error"  # read the outcome event of a failed upstream call


class HookSettings(_Strict):
    """One hook: `call` names a function as `package.module:function` (docs/hooks.md)."""

    on: HookPoint
    call: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, value: Any) -> Any:
        """YAML 1.1 reads an unquoted `on:` key as the boolean true: take it as `on`."""
        if isinstance(value, dict) and True in value:
            value = {("on" if key is True else key): item for key, item in value.items()}
        return value


class ResponsesSettings(_Strict):
    """Background responses: each run is held under a lease that its gateway process renews
    every third of `lease_seconds`; a run whose lease ran out (its process is gone) is
    ended `failed` by whichever instance notices first."""

    lease_seconds: float = Field(default=15.0, gt=0)


class Settings(_Strict):
    server: ServerSettings = Field(default_factory=ServerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    models: list[ModelSettings] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)
    rewrites: list[RewriteSettings] = Field(default_factory=list)
    keys: list[KeySettings] = Field(default_factory=list)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    hooks: list[HookSettings] = Field(default_factory=list)
    responses: ResponsesSettings = Field(default_factory=ResponsesSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    budgets: BudgetsSettings = Field(default_factory=BudgetsSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    prompts: PromptsSettings = Field(default_factory=PromptsSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    guardrails: dict[str, GuardSettings] = Field(default_factory=dict)  # named guards, in order
    guardrail_policy: GuardPolicySettings = Field(default_factory=GuardPolicySettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    agents: dict[str, AgentSpec] = Field(default_factory=dict)  # named agents
    workflows: dict[str, WorkflowSpec] = Field(default_factory=dict)  # checked at start
    delegation: DelegationSettings = Field(default_factory=DelegationSettings)
    a2a: A2ASettings = Field(default_factory=A2ASettings)  # remote A2A agents as delegates


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


def deployment_ids(settings: Settings) -> list[str]:
    """Each `models:` entry's deployment id, in order (see ModelSettings.id)."""
    sizes: dict[str, int] = {}
    for model in settings.models:
        sizes[model.name] = sizes.get(model.name, 0) + 1
    return [
        model.id or (model.name if sizes[model.name] == 1
                     else f"{model.provider}/{model.model or model.name}")
        for model in settings.models
    ]


def _check_deployments(settings: Settings, source: str, node: yaml.Node | None) -> None:
    """Entries with one name are one group's deployments: each needs an id of its own."""
    first_index: dict[str, int] = {}
    for index, deployment in enumerate(deployment_ids(settings)):
        if deployment not in first_index:
            first_index[deployment] = index
            continue
        first = first_index[deployment]
        line = _line_of(node, ("models", index))
        raise ConfigError(
            f"{source}: line {line}: models.{index}: duplicate deployment id {deployment!r} "
            f"(also models.{first}, line {_line_of(node, ('models', first))}); give one of "
            "them an `id:`"
        )


def _check_routing(settings: Settings, source: str, node: yaml.Node | None) -> None:
    groups = {model.name for model in settings.models}
    problems = [
        f"{source}: line {_line_of(node, ('routing', *loc))}: routing."
        f"{'.'.join(str(part) for part in loc)}: {message}"
        for loc, message in routing_problems(settings.routing, groups, deployment_ids(settings))
    ]
    if problems:
        raise ConfigError("\n".join(problems))


def _check_references(settings: Settings, source: str, node: yaml.Node | None) -> None:
    _check_deployments(settings, source, node)
    _check_routing(settings, source, node)
    for loc, name in settings.guardrail_policy.references():
        if name not in settings.guardrails:
            line = _line_of(node, ("guardrail_policy", *loc))
            raise ConfigError(
                f"{source}: line {line}: guardrail_policy.{'.'.join(map(str, loc))}: unknown "
                f"guard {name!r} (defined in guardrails: {sorted(settings.guardrails)})"
            )
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


def config_warnings(settings: Settings) -> list[str]:
    """What a valid configuration probably did not mean (`config check` and start-up say it)."""
    if settings.models or not settings.providers:
        return []
    example = f"{sorted(settings.providers)[0]}:<upstream model>"
    return [
        "no `models:` configured: every model name a client sends is 404 model_not_found "
        f"unless it names a provider, as `{example}`; add a `models:` list "
        "(entries of name, provider, model) to serve names of your own"
    ]


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
    if environ.get("RELAYGATE_ADMIN_KEY"):
        try:
            settings.admin = AdminSettings(key=environ["RELAYGATE_ADMIN_KEY"])
        except ValidationError as exc:
            raise ConfigError("RELAYGATE_ADMIN_KEY must be at least 16 characters") from exc
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
