"""Business-grid overlays on the map: a layers control with one dashed-outline layer each."""
from __future__ import annotations

import html
import re
from typing import Any

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from layouts.i18n import catalogue, norm_lang

# Leaflet pane of the overlay outlines: above the regions (overlayPane, 400), below officers
# (610), labels (630) and cases (640). Its SVG never takes the pointer (assets/overlays.css).
PANE_OVERLAYS = "gwOverlays"
PANE_OVERLAYS_Z = 605
LAYERS_CONTROL = "gw-overlay-control"
# Outline colour of the first, second ... layer: violets and pinks that read on dark navy and
# differ from the alert colours (red, yellow, green) and the cyan of officers.
PALETTE = ("#c18cff", "#ff7ad9", "#9fa8ff", "#e6b3ff")
SVG_CLASS = "gw-ov-unit"  # class of every outline path (plus gw-ov-<layer id>)

_NS = Namespace("gridwatch", "overlay")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def overlay_id(layer_id: str) -> str:
    """The Dash id of a layer's dl.GeoJSON (its dl.Overlay gets the same id + '-toggle')."""
    return "gw-overlay-" + _SAFE_ID.sub("_", layer_id)


def overlay_hideout(layer_id: str, title: str, lang: str, index: int = 0) -> dict[str, Any]:
    """What the JS style and tooltip functions read: layer, title, colour, language, labels."""
    lang = norm_lang(lang)
    return {"layer": _SAFE_ID.sub("_", layer_id), "title": title, "lang": lang,
            "color": PALETTE[index % len(PALETTE)],
            "labels": catalogue(lang, ("overlay.",))}


def overlay_geojson(layer_id: str, title: str, data: dict[str, Any], lang: str,
                    index: int = 0) -> dl.GeoJSON:
    """One layer's units as dashed outlines with a hover tooltip; it never takes clicks."""
    return dl.GeoJSON(
        id=overlay_id(layer_id), data=data, pane=PANE_OVERLAYS,
        hideout=overlay_hideout(layer_id, title, lang, index),
        style=_NS("style"), onEachFeature=_NS("each"),
        # Not interactive: clicks and hovers reach the regions below; the JS shows the
        # tooltip from a map mousemove handler instead (assets/overlays.js).
        interactive=False, bubblingMouseEvents=True, zoomToBoundsOnClick=False,
        disableDefaultEventHandlers=True)


def overlay_layers(overlays: list[tuple[str, str, dict[str, Any]]], lang: str,
                   collapsed: bool = False) -> list[Any]:
    """Map children for business-grid layers: their pane and a layers control (top right).

    `overlays` holds (layer_id, display name, FeatureCollection) per layer; every layer starts
    hidden (checked=False) and is switched on from the control. [] when there is none.
    """
    if not overlays:
        return []
    toggles = []
    for i, (layer_id, title, data) in enumerate(overlays):
        # Leaflet writes control labels with innerHTML: escape, so a name is shown as text.
        toggles.append(dl.Overlay(
            overlay_geojson(layer_id, title, data, lang, i), id=overlay_id(layer_id) + "-toggle",
            name=html.escape(title), checked=False))
    return [dl.Pane(name=PANE_OVERLAYS, style={"zIndex": PANE_OVERLAYS_Z}),
            dl.LayersControl(toggles, id=LAYERS_CONTROL, position="topright",
                             collapsed=collapsed, sortLayers=False)]
