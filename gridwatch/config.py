"""The one config tree of Gridwatch and its loader: flags, environment, a YAML file, secrets.

Loaded once here (the only place that reads the environment) and passed down as typed
sections. Sources, highest first: command-line flags; then either the tree a parent process
handed down (`GRIDWATCH_TREE`, JSON) or, in a process started by hand: `GRIDWATCH_<SECTION>__
<FIELD>`, the documented flat names (`REDIS_URL`, `GRIDWATCH_TERMINAL_TOKEN` …, see
LEGACY_ENV), `<NAME>_FILE` for any of those names (a secret read from a file), the YAML file
(`--config FILE` or `GRIDWATCH_CONFIG`), the defaults written in the section models.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from dashboard.config import DashboardConfig, FieldConfig, PushConfig, WallConfig, WebConfig
from feeds.accounts.config import AccountsConfig
from feeds.geo.basemap import BasemapConfig
from feeds.ingest.config import IngestConfig
from feeds.live.config import LiveConfig
from feeds.ops.config import OpsConfig
from feeds.store.config import StoreConfig
from feeds.video.config import VideoConfig

try:  # the demo's fakes are optional: the product runs on a real city without feeds/sim
    from feeds.sim.config import DemoConfig
except ModuleNotFoundError:  # pragma: no cover (tests/gridwatch/test_without_sim.py)
    class DemoConfig(BaseModel):  # type: ignore[no-redef]
        """Stands in for the `sim` section where feeds/sim is not installed."""

        model_config = ConfigDict(extra="allow", frozen=True)

log = logging.getLogger(__name__)

ENV_PREFIX = "GRIDWATCH_"
TREE_ENV = "GRIDWATCH_TREE"  # the resolved tree, JSON, set by a supervisor for its children
CONFIG_ENV = "GRIDWATCH_CONFIG"  # the YAML file, when --config is not given
# Documented environment names (contracts, README and docs/deployment.md) → field of the tree.
LEGACY_ENV: dict[str, tuple[str, str]] = {
    "REDIS_URL": ("store", "redis_url"),
    "GRIDWATCH_REDIS_CLUSTER": ("store", "redis_cluster"),
    "GRIDWATCH_ADMIN_PASSWORD": ("accounts", "admin_password"),
    "GRIDWATCH_TERMINAL_TOKEN": ("ingest", "terminal_token"),
    "GRIDWATCH_WORKER_NAME": ("live", "worker_name"),
    "GRIDWATCH_CAPTURE_URL": ("video", "public_url"),
    "GRIDWATCH_MOTION": ("video", "motion"),
    "GRIDWATCH_MOTION_ZONES": ("video", "motion_zones"),
    "GRIDWATCH_OPEN311_KEY": ("web", "open311_key"),
    "GRIDWATCH_PUBLIC_URL": ("web", "public_url"),
    "GRIDWATCH_PROXY_HOPS": ("web", "proxy_hops"),
    "GRIDWATCH_TILE_URL": ("web", "tile_url"),
    "GRIDWATCH_TILES": ("basemap", "tiles"),
    "GRIDWATCH_TILES_DATUM": ("basemap", "tiles_datum"),
    "GRIDWATCH_WALL_ROTATE": ("wall", "rotate"),
    "GRIDWATCH_WALL_DWELL": ("wall", "dwell_s"),
    "GRIDWATCH_WALL_STALE": ("wall", "stale_s"),
    "GRIDWATCH_LOG_FORMAT": ("ops", "log_format"),
}
FROZEN = ConfigDict(extra="forbid", frozen=True)
_YAML_FILE: ContextVar[Path | None] = ContextVar("gridwatch_yaml_file", default=None)


class BadSettings(ValueError):
    """A setting that cannot be read (its file is missing, the YAML does not parse)."""


class ServerConfig(BaseModel):
    """Where the servers listen (each section has its own port)."""

    model_config = FROZEN

    host: str = Field(default="127.0.0.1", min_length=1, max_length=253,
                      description="address every server listens on")


class ProcessesConfig(BaseModel):
    """How many processes of the gateway, worker, push channel and dashboard run."""

    model_config = FROZEN

    count: int = Field(default=1, ge=1, le=64,
                       description="processes of gateway, worker, push and web each; servers "
                                   "share their port (SO_REUSEPORT), workers split the towns")
    index: int | None = Field(default=None, ge=0, le=63,
                              description="which of those this process is (0-based); set by "
                                          "the supervisor for its children")

    @model_validator(mode="after")
    def _index_below_count(self) -> ProcessesConfig:
        if self.index is not None and self.index >= self.count:
            raise ValueError(f"process index {self.index} must be below the number of "
                             f"processes {self.count}")
        return self


class GridwatchConfig(BaseModel):
    """The whole tree: one section per subsystem."""

    model_config = FROZEN

    server: ServerConfig = ServerConfig()
    store: StoreConfig = StoreConfig()
    accounts: AccountsConfig = AccountsConfig()
    ingest: IngestConfig = IngestConfig()
    live: LiveConfig = LiveConfig()
    push: PushConfig = PushConfig()
    video: VideoConfig = VideoConfig()
    web: WebConfig = WebConfig()
    basemap: BasemapConfig = BasemapConfig()
    wall: WallConfig = WallConfig()
    field: FieldConfig = FieldConfig()
    sim: DemoConfig = DemoConfig()
    processes: ProcessesConfig = ProcessesConfig()
    ops: OpsConfig = OpsConfig()

    def dashboard(self) -> DashboardConfig:
        """The sections the web app reads."""
        return DashboardConfig(web=self.web, wall=self.wall, push=self.push, video=self.video,
                               store=self.store, ingest=self.ingest, field=self.field,
                               ops=self.ops, basemap=self.basemap)

    def metrics_dir(self) -> Path:
        """Where every process of this tree writes its Prometheus files."""
        return self.ops.metrics_dir or self.store.data_dir / "metrics"

    def replace(self, section: str, **values: Any) -> GridwatchConfig:
        """A copy with some fields of one section set (values already of the field's type)."""
        part = getattr(self, section).model_copy(update=values)
        return self.model_copy(update={section: part})

    def tree_json(self) -> str:
        """The tree as JSON with its secrets in clear: only for a child's environment."""
        return json.dumps(_plain(self.model_dump()))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    return value


def child_env(cfg: GridwatchConfig, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: the parent's, plus the tree it is to run with."""
    return dict(os.environ if base is None else base, **{TREE_ENV: cfg.tree_json()})


def env_names() -> Iterator[tuple[str, tuple[str, str]]]:
    """Every environment name of a field, nested ones first, then the documented flat ones."""
    for section, info in GridwatchConfig.model_fields.items():
        for field in info.annotation.model_fields:  # type: ignore[union-attr]
            yield f"{ENV_PREFIX}{section.upper()}__{field.upper()}", (section, field)
    yield from LEGACY_ENV.items()


class SectionEnvSource(EnvSettingsSource):
    """GRIDWATCH_<SECTION>__<FIELD>. A bare GRIDWATCH_<SECTION> is no section (the Compose
    variable GRIDWATCH_PROCESSES, say, is not a JSON `processes` section), and
    GRIDWATCH_<SECTION>__<FIELD>_FILE names a file (NamedEnvSource reads it), not a field."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        files = {f"{name}_FILE".lower() for name, _ in env_names()}
        return {k: v for k, v in super()._load_env_vars().items() if k.lower() not in files}

    def prepare_field_value(self, field_name: str, field: FieldInfo, value: Any,
                            value_is_complex: bool) -> Any:
        return super().prepare_field_value(field_name, field, None, value_is_complex)


class NamedEnvSource(PydanticBaseSettingsSource):
    """The documented flat names, and `<NAME>_FILE` for every name (read when NAME is unset;
    nested names win over flat ones). Empty values count as unset."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for name, (section, field) in env_names():
            if field in out.get(section, {}):
                continue
            value = os.environ.get(name) if name in LEGACY_ENV else None
            if not value and os.environ.get(f"{name}_FILE"):
                value = _read_secret(f"{name}_FILE", section, field)
            if value:
                out.setdefault(section, {})[field] = value
        return out


def _read_secret(name: str, section: str, field: str) -> str:
    path = Path(os.environ[name])
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as e:
        raise BadSettings(f"{section}.{field}: cannot read {name}={path}: {e.strerror}") from None


class _FromEnvironment(GridwatchConfig, BaseSettings):
    """The tree as pydantic-settings collects it from a process's own environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      env_ignore_empty=True, extra="forbid", frozen=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, SectionEnvSource(settings_cls), NamedEnvSource(settings_cls),
                YamlConfigSettingsSource(settings_cls, yaml_file=_YAML_FILE.get()))


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `top` laid over it, section by section."""
    out = dict(base)
    for k, v in top.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(
            out.get(k), Mapping) else v
    return out


def describe(e: ValidationError) -> str:
    """Each error of a validation as `field: reason`."""
    return "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())


def _load(overrides: dict[str, Any], config_file: Path | None) -> GridwatchConfig:
    tree = os.environ.get(TREE_ENV)
    if tree:
        return GridwatchConfig.model_validate(deep_merge(json.loads(tree), overrides))
    file = config_file or os.environ.get(CONFIG_ENV) or None
    if file is not None and not Path(file).is_file():
        raise BadSettings(f"config file {file}: no such file")
    token = _YAML_FILE.set(Path(file) if file else None)
    try:
        loaded = _FromEnvironment(**overrides)
    except yaml.YAMLError as e:
        raise BadSettings(f"config file {file}: {' '.join(str(e).split())}") from None
    finally:
        _YAML_FILE.reset(token)
    return GridwatchConfig(**{name: getattr(loaded, name)
                              for name in GridwatchConfig.model_fields})


def absolute_paths(cfg: GridwatchConfig, cwd: Path | None = None) -> GridwatchConfig:
    """The tree with every relative path (the data dir, the rules, camera and zone files)
    resolved once against the working directory the command was started in: each consumer
    (Flask's send_file resolves against its package, a child may change directory) then
    gets the same absolute path."""
    base = Path.cwd() if cwd is None else cwd
    for section in GridwatchConfig.model_fields:
        part = getattr(cfg, section)
        paths = {k: (base / v.expanduser()).resolve() for k, v in part if isinstance(v, Path)
                 and not v.expanduser().is_absolute()}
        if paths:
            cfg = cfg.replace(section, **paths)
    return cfg


def load_config(overrides: Mapping[str, Any] | None = None,
                config_file: Path | None = None) -> GridwatchConfig:
    """The tree, loaded once per process; `overrides` are the flags given, by section. A bad
    value stops start-up: `gridwatch: bad settings: <field>: <reason>`. Relative paths come
    back resolved against the working directory."""
    try:
        return absolute_paths(_load(dict(overrides or {}), config_file))
    except ValidationError as e:
        raise SystemExit(f"gridwatch: bad settings: {describe(e)}") from None
    except BadSettings as e:
        raise SystemExit(f"gridwatch: bad settings: {e}") from None
