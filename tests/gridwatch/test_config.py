"""The config tree: defaults, env nesting, the documented flat names, YAML, *_FILE secrets,
flags, bad values naming the field and the reason, and the tree handed to child processes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from gridwatch.cli import main, overrides, parser
from gridwatch.config import (
    CONFIG_ENV,
    LEGACY_ENV,
    TREE_ENV,
    GridwatchConfig,
    absolute_paths,
    child_env,
    env_names,
    load_config,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No GRIDWATCH_… or REDIS_URL from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("GRIDWATCH_") or name == "REDIS_URL":
            monkeypatch.delenv(name)


def bad(overrides: dict | None = None, config_file: Path | None = None) -> str:
    with pytest.raises(SystemExit) as e:
        load_config(overrides, config_file)
    return str(e.value)


def test_without_any_source_the_tree_is_its_defaults():
    cfg = load_config()
    assert cfg == GridwatchConfig().replace("store", data_dir=Path.cwd().resolve() / "data")
    assert (cfg.web.port, cfg.ingest.gateway_port, cfg.push.port, cfg.ingest.osmand_port,
            cfg.video.capture_port, cfg.sim.camsim_port) == (8050, 8765, 8766, 5055, 8767, 8768)
    assert cfg.store.redis_url is None


def test_relative_paths_are_resolved_once_against_the_working_directory(tmp_path, monkeypatch):
    """`make demo` runs `gridwatch demo --data-dir data`: every process and Flask's send_file
    (which resolves a relative path against its package) must get <cwd>/data."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.yaml").write_text("{}\n")
    cfg = load_config({"store": {"data_dir": "data"}, "live": {"rules_file": "rules.yaml"},
                       "video": {"cameras_file": "../cams.csv"}})
    assert cfg.store.data_dir == tmp_path.resolve() / "data"
    assert cfg.store.city_file == tmp_path.resolve() / "data" / "city.geojson"
    assert cfg.live.rules_file == tmp_path.resolve() / "rules.yaml"
    assert cfg.video.cameras_file == tmp_path.resolve().parent / "cams.csv"
    env = child_env(cfg, {})
    monkeypatch.chdir(tmp_path.parent)  # a child elsewhere still gets the same directory
    monkeypatch.setenv(TREE_ENV, env[TREE_ENV])
    assert load_config().store.data_dir == tmp_path.resolve() / "data"


def test_every_field_is_described_and_bounded():
    for section, info in GridwatchConfig.model_fields.items():
        model = info.annotation
        assert issubclass(model, BaseModel) and model.__doc__, section
        for name, field in model.model_fields.items():
            where = f"{section}.{name}"
            assert field.description, where
            kinds = {type(m).__name__ for m in field.metadata}
            text = str(field.annotation)
            if "int" in text or "float" in text:
                assert {"Ge", "Le"} <= kinds, where
            elif "str" in text.lower() and "Path" not in text:
                assert kinds & {"MaxLen", "_PydanticGeneralMetadata"}, where


def test_nested_env_names_set_fields(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_WALL__DWELL_S", "45")
    monkeypatch.setenv("GRIDWATCH_INGEST__GATEWAY_PORT", "9999")
    monkeypatch.setenv("GRIDWATCH_web__lang", "en")  # as pydantic-settings: any case
    monkeypatch.setenv("GRIDWATCH_PROCESSES", "4")  # Compose's variable, not a section
    cfg = load_config()
    assert cfg.wall.dwell_s == 45 and cfg.ingest.gateway_port == 9999 and cfg.web.lang == "en"
    assert cfg.processes.count == 1


LEGACY_VALUES = {
    "REDIS_URL": ("redis://r:6379/0", "redis://r:6379/0"),
    "GRIDWATCH_REDIS_CLUSTER": ("1", True),
    "GRIDWATCH_ADMIN_PASSWORD": ("pa55word", "pa55word"),
    "GRIDWATCH_TERMINAL_TOKEN": ("t0ken", "t0ken"),
    "GRIDWATCH_WORKER_NAME": ("worker-7", "worker-7"),
    "GRIDWATCH_CAPTURE_URL": ("https://cams.example.cn", "https://cams.example.cn"),
    "GRIDWATCH_MOTION": ("off", False),
    "GRIDWATCH_MOTION_ZONES": ("/etc/zones.csv", Path("/etc/zones.csv")),
    "GRIDWATCH_OPEN311_KEY": ("k3y", "k3y"),
    "GRIDWATCH_PUBLIC_URL": ("https://gw.example.cn/", "https://gw.example.cn"),
    "GRIDWATCH_PROXY_HOPS": ("1", 1),
    "GRIDWATCH_TILE_URL": ("https://t/{z}/{x}/{y}.png", "https://t/{z}/{x}/{y}.png"),
    "GRIDWATCH_TILES": ("{tmp}/city.mbtiles", "{tmp}/city.mbtiles"),  # an archive made below
    "GRIDWATCH_TILES_DATUM": ("GCJ-02", "gcj02"),
    "GRIDWATCH_WALL_ROTATE": ("red", "red"),
    "GRIDWATCH_WALL_DWELL": ("33", 33),
    "GRIDWATCH_WALL_STALE": ("44", 44),
    "GRIDWATCH_LOG_FORMAT": ("json", "json"),
}


def plain(value):
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@pytest.mark.parametrize("name", sorted(LEGACY_ENV))
def test_the_documented_flat_names_keep_working(monkeypatch, tmp_path, name):
    raw, expected = LEGACY_VALUES[name]
    if "{tmp}" in raw:  # a path that must exist: a real (tiny) tile archive
        from tests.feeds.geo.tile_archives import make_mbtiles
        raw, expected = raw.format(tmp=tmp_path), Path(expected.format(tmp=tmp_path))
        make_mbtiles(expected, [(0, 0, 0)])
    monkeypatch.setenv(name, raw)
    section, field = LEGACY_ENV[name]
    assert plain(getattr(getattr(load_config(), section), field)) == expected


def test_every_documented_gridwatch_name_is_known():
    """Each GRIDWATCH_… name the README, docs/ and docker/ mention is read (or is no setting)."""
    import re

    root = Path(__file__).resolve().parents[2]
    text = " ".join(p.read_text() for p in [root / "README.md", *(root / "docs").glob("*.md"),
                                             *(root / "docker").rglob("*.y*ml")])
    known = {n for n, _ in env_names()} | {f"{n}_FILE" for n, _ in env_names()}
    not_settings = {"GRIDWATCH_TEST_REDIS", "GRIDWATCH_PROCESSES", "GRIDWATCH_TREE",
                    "GRIDWATCH_CONFIG", "GRIDWATCH_PUBLIC_URL", "GRIDWATCH_TILES",
                    "GRIDWATCH_TILES_DATUM", "GRIDWATCH_METRICS_TOKEN_FILE",
                    "GRIDWATCH_GRAFANA_PASSWORD"}  # Compose's own variables
    named = set(re.findall(r"\bGRIDWATCH_[A-Z0-9_]*[A-Z0-9]", text))
    assert named - known - not_settings == set()


def test_nested_names_win_over_flat_ones_and_flags_over_both(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_WALL_DWELL", "30")
    monkeypatch.setenv("GRIDWATCH_WALL__DWELL_S", "40")
    assert load_config().wall.dwell_s == 40
    assert load_config({"wall": {"dwell_s": "50"}}).wall.dwell_s == 50


def test_a_yaml_file_by_flag_or_env_under_the_environment(tmp_path, monkeypatch):
    f = tmp_path / "gridwatch.yaml"
    f.write_text("server: {host: 0.0.0.0}\nwall:\n  dwell_s: 25\n  rotate: here,red\n"
                 "store: {redis_url: 'redis://yaml:6379/0'}\n")
    cfg = load_config(config_file=f)
    assert (cfg.server.host, cfg.wall.dwell_s, cfg.wall.rotate) == ("0.0.0.0", 25, "here,red")
    monkeypatch.setenv(CONFIG_ENV, str(f))
    monkeypatch.setenv("REDIS_URL", "redis://env:6379/0")
    cfg = load_config()
    assert cfg.wall.dwell_s == 25 and cfg.store.redis_url == "redis://env:6379/0"


def test_secrets_from_files_by_flat_and_nested_names(tmp_path, monkeypatch):
    (tmp_path / "token").write_text("file-token\n")
    (tmp_path / "key").write_text("file-key")
    monkeypatch.setenv("GRIDWATCH_TERMINAL_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("GRIDWATCH_WEB__OPEN311_KEY_FILE", str(tmp_path / "key"))
    cfg = load_config()
    assert cfg.ingest.terminal_token.get_secret_value() == "file-token"
    assert cfg.web.open311_key.get_secret_value() == "file-key"
    assert "file-token" not in repr(cfg) and "file-token" not in str(cfg)
    monkeypatch.setenv("GRIDWATCH_TERMINAL_TOKEN", "env-token")  # the value itself wins
    assert load_config().ingest.terminal_token.get_secret_value() == "env-token"
    monkeypatch.setenv("GRIDWATCH_WEB__OPEN311_KEY_FILE", str(tmp_path / "missing"))
    assert bad().startswith("gridwatch: bad settings: web.open311_key: cannot read "
                            "GRIDWATCH_WEB__OPEN311_KEY_FILE=")


def test_a_bad_environment_value_names_the_field_and_the_reason(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_WALL_DWELL", "1")
    assert bad() == ("gridwatch: bad settings: wall.dwell_s: Input should be greater than or "
                     "equal to 3")
    monkeypatch.delenv("GRIDWATCH_WALL_DWELL")
    monkeypatch.setenv("GRIDWATCH_WEB__TIMEZONE", "Mars/Olympus")
    assert bad() == ("gridwatch: bad settings: web.timezone: Value error, unknown time zone "
                     "'Mars/Olympus'")
    monkeypatch.delenv("GRIDWATCH_WEB__TIMEZONE")
    monkeypatch.setenv("REDIS_URL", "http://not-redis")
    assert bad().startswith("gridwatch: bad settings: store.redis_url: String should match")


def test_a_bad_yaml_value_names_the_field_and_the_reason(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("ingest: {gateway_port: 70000}\n")
    assert bad(config_file=f) == ("gridwatch: bad settings: ingest.gateway_port: Input should "
                                  "be less than or equal to 65535")
    f.write_text("wall: {dwell: 20}\n")
    assert bad(config_file=f) == "gridwatch: bad settings: wall.dwell: Extra inputs are not " \
                                 "permitted"
    f.write_text("wall: [\n")
    assert bad(config_file=f).startswith(f"gridwatch: bad settings: config file {f}: ")
    assert bad(config_file=tmp_path / "none.yaml") == (
        f"gridwatch: bad settings: config file {tmp_path / 'none.yaml'}: no such file")


def test_flags_set_the_tree_and_bad_ones_stop_start_up(capsys):
    args = parser().parse_args(["demo", "--port", "9050", "--no-sim", "--history-days", "0",
                                "--redis-url", "redis://h:1/0", "--rules", "r.yaml"])
    assert overrides(args) == {"web": {"port": "9050"}, "sim": {"simulate": False,
                               "history_days": "0"}, "store": {"redis_url": "redis://h:1/0"},
                               "live": {"rules_file": "r.yaml"}}
    assert parser().parse_args(["demo"]).__dict__.keys() == {"cmd", "config"}  # no defaults
    with pytest.raises(SystemExit, match=r"^gridwatch: bad settings: web.port: Input should "
                                         r"be less than or equal to 65535$"):
        main(["demo", "--port", "70000"])
    with pytest.raises(SystemExit, match=r"^gridwatch: bad settings: processes: Value error, "
                                         r"process index 2 must be below the number of "
                                         r"processes 2$"):
        main(["run", "worker", "--processes", "2", "--process-index", "2"])
    with pytest.raises(SystemExit, match=r"^gridwatch: bad settings: sim.position_interval_s: "):
        main(["run", "simulate", "--position-interval", "0"])


def test_a_child_runs_with_the_parents_tree_not_its_own_environment(tmp_path):
    parent = load_config({"web": {"port": 9123}, "ingest": {"terminal_token": "s3cret"},
                          "store": {"data_dir": str(tmp_path)}, "processes": {"count": 2}})
    env = child_env(parent, {**os.environ, "GRIDWATCH_WEB__PORT": "1", "REDIS_URL": "x"})
    assert json.loads(env[TREE_ENV])["ingest"]["terminal_token"] == "s3cret"
    code = ("from gridwatch.config import load_config; "
            "print(load_config({'processes': {'index': '1'}}).tree_json())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout
    child = GridwatchConfig.model_validate_json(out)
    assert child == parent.replace("processes", index=1)
    assert child.ingest.terminal_token.get_secret_value() == "s3cret"


def _path_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()
                 ) -> list[tuple[str, ...]]:
    """Every field of a model (at any depth) that holds a Path."""
    out = []
    for name, field in model.model_fields.items():
        for kind in typing.get_args(field.annotation) or (field.annotation,):
            if kind is Path:
                out.append((*prefix, name))
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                out += _path_fields(kind, (*prefix, name))
    return out


def test_every_path_of_the_tree_comes_back_absolute(tmp_path):
    """The data dir and every other path of the tree (clips, posters, media, metrics, tiles,
    rules … derive from them) set relative, as `make demo` sets `--data-dir data`, come back
    resolved against the working directory; absolute_paths resolves the sections' own
    fields, so a path deeper in a section would be missed."""
    fields = _path_fields(GridwatchConfig)
    assert ("store", "data_dir") in fields and ("ops", "metrics_dir") in fields
    assert all(len(where) == 2 for where in fields), fields  # a section's own fields
    cfg = GridwatchConfig()
    for section, name in fields:
        cfg = cfg.replace(section, **{name: Path(name)})
    cfg = absolute_paths(cfg, tmp_path)
    for section, name in fields:
        assert getattr(getattr(cfg, section), name) == tmp_path.resolve() / name
    assert cfg.metrics_dir() == tmp_path.resolve() / "metrics_dir"
    assert cfg.dashboard().store.data_dir / "clips" == tmp_path.resolve() / "data_dir" / "clips"


def test_a_bad_sentinel_url_stops_start_up_naming_the_field(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379")
    with pytest.raises(SystemExit) as stop:
        load_config()
    assert str(stop.value).startswith(
        "gridwatch: bad settings: store.redis_url: Value error, redis+sentinel URL service: "
        "the service name (the sentinels' master name) is missing")
    monkeypatch.setenv("REDIS_URL", "redis+sentinel://10.0.0.1:26379,10.0.0.2/mymaster/0")
    assert load_config().store.redis_url == "redis+sentinel://10.0.0.1:26379,10.0.0.2/mymaster/0"
