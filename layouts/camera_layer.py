"""Cameras on the map: a clustered dl.GeoJSON with health state (colour, shape and text) and a
popup with the snapshot and a link to the live stream (assets/video.js builds it as DOM)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from layouts.i18n import t

CAMERAS = "gw-cameras"  # Dash id of the camera layer
PANE_CAMERAS = "gwCameras"
PANE_CAMERAS_Z = 620  # above officers (610), below region labels (630) and cases (640)
STATES = ("online", "stale", "offline")
CUE = {"online": "●", "stale": "▲", "offline": "✕"}

_NS = Namespace("gridwatch", "video")
LABEL_KEYS = ("state.online", "state.stale", "state.offline", "live", "snapshot", "camera",
              "grid", "legend")


def camera_features(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Camera rows ({id or camera_id, name, lon, lat, grid, state, kind}) → FeatureCollection
    (the live link: the MJPEG re-stream, or the live page of an HLS / FLV camera)."""
    feats = []
    for r in rows:
        cid = str(r.get("id") or r.get("camera_id"))
        state = r.get("state") if r.get("state") in STATES else "offline"
        q = quote(cid, safe="")
        feats.append({"type": "Feature",
                      "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                      "properties": {"id": cid, "name": str(r.get("name", cid)),
                                     "grid": str(r.get("grid", "")), "state": state,
                                     "stream": f"/video/live/{q}" if r.get("kind")
                                     in ("hls", "flv") else f"/video/camera/{q}.mjpg",
                                     "snapshot": f"/video/camera/{q}.jpg"}})
    return {"type": "FeatureCollection", "features": feats}


def camera_hideout(lang: str) -> dict[str, Any]:
    """What the JS point, cluster and popup functions read: labels and cues."""
    return {"labels": {k: t(f"cam.{k}", lang) for k in LABEL_KEYS}, "cue": dict(CUE)}


def camera_geojson(data: dict[str, Any], lang: str, cluster: bool = True) -> dl.GeoJSON:
    """The cameras' (clustered) GeoJSON layer, drawn in PANE_CAMERAS."""
    return dl.GeoJSON(id=CAMERAS, data=data, cluster=cluster, zoomToBoundsOnClick=True,
                      superClusterOptions={"radius": 50, "maxZoom": 15},
                      pointToLayer=_NS("cameraPoint"), clusterToLayer=_NS("cameraCluster"),
                      hideout=camera_hideout(lang), pane=PANE_CAMERAS)


def camera_layer(data: dict[str, Any], lang: str, cluster: bool = True) -> list[Any]:
    """Map children: the cameras' pane holding their clustered layer (add to dl.Map)."""
    return [dl.Pane(name=PANE_CAMERAS, style={"zIndex": PANE_CAMERAS_Z},
                    children=camera_geojson(data, lang, cluster))]


def camera_overlay(data: dict[str, Any], lang: str, checked: bool = True) -> dl.Overlay:
    """The camera layer as a switchable entry of a dl.LayersControl."""
    return dl.Overlay(camera_layer(data, lang), name=t("cam.legend", lang),
                      checked=checked, id=CAMERAS + "-toggle")
