"""The rules file is validated at start-up: errors name the file, field and reason."""
from __future__ import annotations

import pytest

from feeds.live.rules import ConfigError, load_rules


def test_bundled_rules_cover_every_protocol_category():
    from domain.model import CATEGORIES

    rules = load_rules().rules()
    assert set(CATEGORIES) <= set(rules)
    assert rules["mental_health"].sensitive and not rules["dispute"].sensitive
    assert rules["fire"].dispatch_sla_s == 300


@pytest.mark.parametrize(("text", "expected"), [
    ("categories: {fire: {name: 消防, name_en: Fire, base_level: purple, dispatch_sla_min: 5, "
     "resolve_sla_min: 60}}", "categories.fire.base_level"),
    ("categories: {fire: {name: 消防, name_en: Fire, base_level: red, dispatch_sla_min: -5, "
     "resolve_sla_min: 60}}", "categories.fire.dispatch_sla_min"),
    ("categories: {}\nfoo: 1", "foo"),
    ("yellow_share: 2\ncategories: {x: {name: a, name_en: b, base_level: red, "
     "dispatch_sla_min: 1, resolve_sla_min: 1}}", "yellow_share"),
    ("[1, 2", "not valid YAML"),
])
def test_bad_rules_file_names_field_and_reason(tmp_path, text, expected):
    f = tmp_path / "rules.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_rules(f)
    assert str(f) in str(err.value) and expected in str(err.value)
