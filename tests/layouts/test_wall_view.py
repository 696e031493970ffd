"""Wall chrome layout and its URL parameter parsing (pure)."""
from __future__ import annotations

import json

from layouts.wall_view import (
    WALL,
    WALL_AGE,
    WALL_BANNER,
    WallView,
    clamp,
    parse_rotate,
    wall_chrome,
)


def ids(node, out=None) -> list[str]:  # noqa: ANN001
    """Every component id in a tree."""
    out = [] if out is None else out
    if getattr(node, "id", None):
        out.append(node.id)
    kids = getattr(node, "children", None)
    for k in kids if isinstance(kids, list) else [kids] if kids is not None else []:
        ids(k, out)
    return out


def test_rotate_keeps_known_kinds_in_order_and_can_be_switched_off():
    assert parse_rotate(None, "here,children,red") == ("here", "children", "red")
    assert parse_rotate("red, here,bogus", "here") == ("red", "here")
    assert parse_rotate("off", "here,red") == ()
    assert parse_rotate("", "here") == ()


def test_numbers_from_the_url_are_bounded():
    assert clamp(None, 20, 3, 3600) == 20
    assert clamp("5", 20, 3, 3600) == 5
    assert clamp("0.1", 20, 3, 3600) == 3
    assert clamp("1e9", 20, 3, 3600) == 3600
    assert clamp("nan", 20, 3, 3600) == 20
    assert clamp("x", 20, 3, 3600) == 20


def test_chrome_carries_its_settings_and_labels_in_both_languages():
    w = WallView("441900101", "石碣镇", ("here", "red"), 12.0, 30.0, "Asia/Shanghai")
    for lang, title in (("zh", "数据已停止更新"), ("en", "DATA NOT UPDATING")):
        c = wall_chrome(w, lang)
        attrs = c.to_plotly_json()["props"]
        assert attrs["data-home"] == "441900101"
        assert attrs["data-rotate"] == "here,red"
        assert float(attrs["data-dwell"]) == 12 and float(attrs["data-stale"]) == 30
        labels = json.loads(attrs["data-labels"])
        assert labels["wall.stale_title"] == title
        assert labels["cat.fire"]
        assert {WALL, WALL_BANNER, WALL_AGE} <= set(ids(c))
