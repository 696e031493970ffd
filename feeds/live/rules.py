"""Configuration: one validated pydantic tree per file, loaded once and passed down."""
from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.alerts import AlertLevel, CategoryRule

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A config file is invalid; the message names the file, field and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryConfig(_Strict):
    """Rules of one case category."""

    name: str = Field(min_length=1, max_length=40, description="Chinese name")
    name_en: str = Field(min_length=1, max_length=60, description="English name")
    base_level: AlertLevel = Field(description="level a new case starts at")
    dispatch_sla_min: float = Field(gt=0, le=60 * 24 * 30, description="minutes to dispatch")
    resolve_sla_min: float = Field(gt=0, le=60 * 24 * 90, description="minutes to resolve")
    yellow_share: float | None = Field(default=None, gt=0, lt=1,
                                       description="share of a deadline that turns yellow")
    sensitive: bool = Field(default=False, description="visible only to cleared roles")


class RulesConfig(_Strict):
    """The alert-rules file: categories and how often open cases are re-levelled."""

    yellow_share: float = Field(default=0.5, gt=0, lt=1,
                                description="default share of a deadline that turns yellow")
    relevel_interval_s: float = Field(default=5, ge=0.1, le=3600,
                                      description="seconds between re-levelling passes")
    categories: dict[str, CategoryConfig] = Field(min_length=1)

    def rules(self, time_scale: float = 1.0) -> dict[str, CategoryRule]:
        """The categories as domain rules, keyed by code; `time_scale` > 1 (compressed time,
        live.time_scale) divides their deadlines."""
        return {
            code: CategoryRule(
                code=code, name=c.name, name_en=c.name_en, base_level=c.base_level,
                dispatch_sla_s=c.dispatch_sla_min * 60 / time_scale,
                resolve_sla_s=c.resolve_sla_min * 60 / time_scale,
                yellow_share=c.yellow_share or self.yellow_share, sensitive=c.sensitive)
            for code, c in self.categories.items()
        }


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def load_rules(path: Path | None = None) -> RulesConfig:
    """Load and validate an alert-rules YAML file (the bundled one by default)."""
    if path is None:
        text = resources.files("feeds.live").joinpath("rules.yaml").read_text("utf-8")
        where = "bundled rules.yaml"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
        where = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    try:
        return RulesConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{where}: {_describe(e)}") from None
