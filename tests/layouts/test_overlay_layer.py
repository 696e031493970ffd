"""Pure tests of the business-grid overlay layers: control, panes, JS hooks, escaped names."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash_leaflet as dl
from dash.development.base_component import Component

from layouts import ids
from layouts.overlay_layer import (
    LAYERS_CONTROL,
    PALETTE,
    PANE_OVERLAYS,
    PANE_OVERLAYS_Z,
    SVG_CLASS,
    overlay_id,
    overlay_layers,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
JS = (ASSETS / "overlays.js").read_text(encoding="utf-8")
CSS = (ASSETS / "overlays.css").read_text(encoding="utf-8")


def square(code: str, name: str, lon: float) -> dict[str, Any]:
    """One unit feature."""
    ring = [[lon, 23.0], [lon + 0.01, 23.0], [lon + 0.01, 23.01], [lon, 23.01], [lon, 23.0]]
    return {"type": "Feature", "properties": {"code": code, "name": name, "name_en": "",
                                              "grid_count": 2},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def fc(*features: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection."""
    return {"type": "FeatureCollection", "features": list(features)}


BEATS = fc(square("V-01", "东城第1社区警区1", 113.7), square("V-02", "东城第1社区警区2", 113.71))
FIRE = fc(square("F-1", "消防片区1", 113.7))


def walk(node: Any) -> Iterator[Component]:
    """Every component in a tree, depth first."""
    if isinstance(node, Component):
        yield node
        node = getattr(node, "children", None)
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
    elif isinstance(node, Component):
        yield from walk(node)


def of_type(tree: Any, kind: type) -> list[Any]:
    """Components of one type."""
    return [c for c in walk(tree) if isinstance(c, kind)]


def test_no_layers_no_components() -> None:
    assert overlay_layers([], "zh") == []


def test_a_pane_then_a_layers_control_with_one_hidden_overlay_per_layer() -> None:
    out = overlay_layers([("police_beats", "警务网格", BEATS), ("fire", "消防网格", FIRE)], "zh")
    pane, control = out
    assert isinstance(pane, dl.Pane) and pane.name == PANE_OVERLAYS
    assert pane.style == {"zIndex": PANE_OVERLAYS_Z}
    assert isinstance(control, dl.LayersControl) and control.id == LAYERS_CONTROL
    assert control.position == "topright" and control.collapsed is False
    toggles = of_type(control, dl.Overlay)
    assert [t.name for t in toggles] == ["警务网格", "消防网格"]
    assert all(t.checked is False for t in toggles)
    layers = of_type(control, dl.GeoJSON)
    assert [g.id for g in layers] == [overlay_id("police_beats"), overlay_id("fire")]
    assert layers[0].data is BEATS and layers[1].data is FIRE


def test_the_pane_sits_between_regions_and_the_live_layers() -> None:
    assert 400 < PANE_OVERLAYS_Z < 610  # overlayPane < it < officers, labels, cases
    assert PANE_OVERLAYS not in (ids.PANE_LABELS, ids.PANE_OFFICERS, ids.PANE_INCIDENTS)


def test_outlines_never_take_clicks_and_use_the_js_functions() -> None:
    [layer] = of_type(overlay_layers([("police_beats", "警务网格", BEATS)], "en"), dl.GeoJSON)
    assert layer.interactive is False and layer.zoomToBoundsOnClick is False
    assert layer.disableDefaultEventHandlers is True
    assert layer.pane == PANE_OVERLAYS
    assert layer.style == {"variable": "gridwatch.overlay.style"}
    assert layer.onEachFeature == {"variable": "gridwatch.overlay.each"}
    assert layer.hideout == {"layer": "police_beats", "title": "警务网格", "lang": "en",
                             "color": PALETTE[0],
                             "labels": {"overlay.grids": {"one": "{n} base grid",
                                                          "other": "{n} base grids"}}}


def test_each_layer_gets_its_own_colour_and_language() -> None:
    layers = of_type(overlay_layers([("a", "A", BEATS), ("b", "B", FIRE)], "xx"), dl.GeoJSON)
    assert [g.hideout["color"] for g in layers] == list(PALETTE[:2])
    assert all(g.hideout["lang"] == "zh" for g in layers)  # unknown language: the default
    assert layers[0].hideout["labels"]["overlay.grids"] == {"other": "{n} 个基础网格"}


def test_names_are_escaped_for_the_leaflet_control_and_ids_are_safe() -> None:
    evil = "<img src=x onerror=alert(1)>警务"
    out = overlay_layers([("po lice/1", evil, BEATS)], "zh")
    [toggle] = of_type(out, dl.Overlay)
    assert toggle.name == "&lt;img src=x onerror=alert(1)&gt;警务"
    [layer] = of_type(out, dl.GeoJSON)
    assert layer.id == "gw-overlay-po_lice_1" and toggle.id == "gw-overlay-po_lice_1-toggle"
    assert layer.hideout["title"] == evil  # the JS shows it with textContent


def test_the_js_defines_the_functions_and_never_uses_inner_html() -> None:
    assert "window.gridwatch = window.gridwatch || {}" in JS
    assert re.search(r"GW\.overlay = \{style: style, each: each", JS)
    assert "innerHTML" not in JS and "insertAdjacentHTML" not in JS
    assert "textContent" in JS
    assert f"'{SVG_CLASS}" in JS  # the class the CSS and the browser test look for


def test_the_css_keeps_the_pane_from_taking_the_pointer() -> None:
    assert f".leaflet-{PANE_OVERLAYS}-pane > svg {{ pointer-events: none;" in CSS
    assert ".gw-ovtip" in CSS and ".leaflet-control-layers" in CSS
