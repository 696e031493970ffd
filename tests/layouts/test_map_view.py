"""Pure tests of the live map page layout, the i18n catalogue and the ids the JS relies on."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dash.development.base_component import Component

from domain.alerts import CASE_ZOOM
from layouts import i18n, ids
from layouts.map_view import cases_at_zoom, label_point, map_page
from layouts.viewmodels import IncidentMarker, Kpi, MapView, RegionStat

ASSETS = Path(__file__).resolve().parents[2] / "assets"
JS = "\n".join((ASSETS / name).read_text(encoding="utf-8") for name in ("gridwatch.js", "live.js"))
EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def square(lon: float, lat: float, d: float = 0.1) -> dict[str, Any]:
    """A square polygon geometry."""
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def view(**over: Any) -> MapView:
    """A small city view-model; keyword arguments override fields."""
    children = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "441900101", "name": "莞城街道"},
         "geometry": square(113.7, 23.0)},
        {"type": "Feature", "properties": {"code": "441900102", "name": "南城街道"},
         "geometry": square(113.8, 23.0)}]}
    base: dict[str, Any] = dict(
        region_code="441900", region_name="东莞市", region_level="city", children=children,
        child_stats={"441900101": RegionStat(red=2, yellow=1), "441900102": RegionStat()},
        incidents=[IncidentMarker("I-1", 113.75, 23.05, "red", "fire", EVIL, "reported",
                                  1764150000.0, "441900101001")],
        kpi=Kpi(open_green=3, open_yellow=5, open_red=7, new_today=11, overdue=2, on_duty=1234,
                officers=9756),
        centre=(23.02, 113.75), zoom=11, live_url="ws://127.0.0.1:8766/live?region=441900",
        as_of=1764150000.0, breadcrumbs=[("441900", "东莞市")])
    base.update(over)
    return MapView(**base)


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


def by_id(tree: Component) -> dict[str, Component]:
    """Components by id."""
    return {c.id: c for c in walk(tree) if getattr(c, "id", None)}


def texts(tree: Component) -> list[str]:
    """Every string child in the tree."""
    out: list[str] = []
    for c in walk(tree):
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list) else [kids]:
            if isinstance(k, str | int):
                out.append(str(k))
    return out


def text_of(c: Component) -> str:
    """The concatenated text of a component."""
    return "".join(texts(c))


def test_every_id_is_present_once() -> None:
    """All ids the callbacks and the JS use are in the page, each exactly once."""
    tree = map_page(view())
    seen = [c.id for c in walk(tree) if getattr(c, "id", None)]
    assert len(seen) == len(set(seen))
    wanted = {ids.ROOT, ids.TITLE, ids.REGION_NAME, ids.BREADCRUMBS, ids.LANG_LINK, ids.MAP,
              ids.KPI_STRIP, ids.LEGEND, *ids.LIVE_IDS}
    assert wanted <= set(seen)


def test_root_tells_js_where_to_connect() -> None:
    """The root carries the live URL, language and time zone as data attributes."""
    root = map_page(view()).to_plotly_json()["props"]
    assert root["data-live-url"] == "ws://127.0.0.1:8766/live?region=441900"
    assert root["data-lang"] == "zh" and root["data-tz"] == "Asia/Shanghai"
    assert root["id"] == ids.ROOT and "gw-desk" in root["className"]


def test_kpi_values_have_their_own_elements() -> None:
    """Each KPI value is its own element holding just the number."""
    c = by_id(map_page(view()))
    values = {ids.KPI_RED: "7", ids.KPI_YELLOW: "5", ids.KPI_GREEN: "3", ids.KPI_NEW_TODAY: "11",
              ids.KPI_OVERDUE: "2", ids.KPI_ON_DUTY: "1234", ids.KPI_OFFICERS: "9756"}
    for key, value in values.items():
        assert c[key].children == value
    strip = text_of(c[ids.KPI_STRIP])
    for key in ("kpi.open_red", "kpi.open_yellow", "kpi.open_green", "kpi.new_today",
                "kpi.overdue", "kpi.officers"):
        assert i18n.t(key, "zh") in strip


def test_header_zh() -> None:
    """Chinese header: title, region, connection state, data time in Asia/Shanghai."""
    c = by_id(map_page(view()))
    assert c[ids.TITLE].children == "网格化指挥中心"
    assert c[ids.REGION_NAME].children == "东莞市"
    assert "连接中" in text_of(c[ids.CONN]) and "gw-conn--connecting" in c[ids.CONN].className
    assert c[ids.ASOF].children == "17:40:00"  # 1764150000 = 09:40:00 UTC
    assert c[ids.LANG_LINK].href == "/lang/en" and c[ids.LANG_LINK].children == "English"


def test_header_en() -> None:
    """English page: every fixed label comes from the en catalogue."""
    tree = map_page(view(lang="en"))
    c = by_id(tree)
    assert c[ids.TITLE].children == "Gridwatch"
    assert c[ids.LANG_LINK].href == "/lang/zh" and c[ids.LANG_LINK].children == "中文"
    all_text = texts(tree)
    for word in ("Open red", "Open yellow", "Open green", "New today", "Overdue",
                 "Officers on duty", "Connecting", "Live", "Disconnected", "Data as of", "Red"):
        assert word in all_text
    assert tree.to_plotly_json()["props"]["lang"] == "en"
    assert not any(re.search(r"[\u4e00-\u9fff]", s) for s in all_text if s not in ("东莞市",
                                                                                  "中文"))


def test_untrusted_text_stays_text() -> None:
    """A <script> title or region name is a plain string child or data, never HTML."""
    tree = map_page(view(region_name=EVIL))
    c = by_id(tree)
    assert c[ids.REGION_NAME].children == EVIL
    feature = c[ids.INCIDENTS].data["features"][0]
    assert feature["properties"]["title"] == EVIL
    for comp in walk(tree):
        props = comp.to_plotly_json()["props"]
        assert "dangerously_allow_html" not in props
        assert comp._type not in ("Script", "Iframe", "Markdown")
    # the JS builds popups and labels with textContent only
    assert not re.search(r"innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write", JS)
    assert "textContent" in JS


def test_map_layers_and_hideout() -> None:
    """Regions carry codes and drill-down links; the hideout holds per-region counts."""
    c = by_id(map_page(view()))
    regions = c[ids.REGIONS]
    props = [f["properties"] for f in regions.data["features"]]
    assert [p["href"] for p in props] == ["/town/441900101", "/town/441900102"]
    stats = regions.hideout["stats"]
    assert stats["441900101"] == {"green": 0, "yellow": 1, "red": 2, "level": "red"}
    assert stats["441900102"]["level"] is None
    assert c[ids.LABELS].hideout == regions.hideout
    labels = c[ids.LABELS].data["features"]
    assert [f["properties"]["name"] for f in labels] == ["莞城街道", "南城街道"]
    officers = c[ids.OFFICERS]
    # officers come from the push channel, clustered for the viewport: the page carries none
    assert officers.cluster is False and officers.data["features"] == []
    assert officers.pointToLayer == {"variable": "gridwatch.map.officerOrCluster"}
    assert c[ids.INCIDENTS].data["features"][0]["properties"]["level"] == "red"


def test_js_functions_and_ids_exist() -> None:
    """Every Namespace function the page names is defined in gridwatch.js or live.js, and every
    live id."""
    tree = map_page(view())
    names = set()
    for comp in walk(tree):
        for value in comp.to_plotly_json()["props"].values():
            found = [value] + (list(value.values()) if isinstance(value, dict) else [])
            for v in found:
                if isinstance(v, dict) and "variable" in v:
                    names.add(v["variable"])
    assert {"gridwatch.map.regionStyle", "gridwatch.map.labelPoint",
            "gridwatch.map.officerOrCluster", "gridwatch.map.incidentPoint",
            "gridwatch.map.moveEnd"} <= names
    for name in names:
        fn = name.split(".")[-1]
        assert re.search(rf"\b{fn}: {fn}\b", JS), fn
    for value in (ids.ROOT, ids.MAP, *ids.LIVE_IDS):
        assert f"'{value}'" in JS, value


def test_drill_links_keep_language_and_wall() -> None:
    """A town view in English: villages link to /village/<code>?lang=en; crumbs go up."""
    vm = view(region_code="441900101", region_name="Guancheng", region_level="town",
              lang="en", breadcrumbs=[("441900", "Dongguan"), ("441900101", "Guancheng")])
    c = by_id(map_page(vm))
    hrefs = [f["properties"]["href"] for f in c[ids.REGIONS].data["features"]]
    assert hrefs[0] == "/village/441900101?lang=en"
    crumbs = [k for k in walk(c[ids.BREADCRUMBS]) if k._type == "A"]
    assert [(k.children, k.href) for k in crumbs] == [("Dongguan", "/?lang=en")]


def test_breadcrumbs_of_a_village() -> None:
    """Breadcrumbs that stop at the parent still get the right levels."""
    vm = view(region_code="441900101001", region_name="某村", region_level="village",
              breadcrumbs=[("441900", "东莞市"), ("441900101", "莞城街道")])
    c = by_id(map_page(vm))
    crumbs = [(k.children, k.href) for k in walk(c[ids.BREADCRUMBS]) if k._type == "A"]
    assert crumbs == [("东莞市", "/"), ("莞城街道", "/town/441900101")]
    hrefs = [f["properties"]["href"] for f in c[ids.REGIONS].data["features"]]
    assert hrefs[0] == "/grid/441900101"


def test_wall_mode() -> None:
    """Wall: no breadcrumbs or language link, wall class, no zoom control; title and clock stay."""
    tree = map_page(view(wall=True))
    c = by_id(tree)
    assert ids.BREADCRUMBS not in c and ids.LANG_LINK not in c
    assert ids.TITLE in c and ids.ASOF in c and ids.CONN in c and ids.KPI_RED in c
    assert "gw-wall" in tree.className
    assert c[ids.MAP].zoomControl is False
    hrefs = [f["properties"]["href"] for f in c[ids.REGIONS].data["features"]]
    assert hrefs[0] == "/town/441900101?wall=1"


def test_grid_view_has_no_drill_links() -> None:
    """Below grids there is nothing to drill into."""
    vm = view(region_code="441900101001001", region_level="grid")
    c = by_id(map_page(vm))
    assert all("href" not in f["properties"] for f in c[ids.REGIONS].data["features"])


def test_map_page_does_not_mutate_the_view_model() -> None:
    """The children FeatureCollection is copied, not changed."""
    vm = view()
    map_page(vm)
    assert vm.children["features"][0]["properties"] == {"code": "441900101", "name": "莞城街道"}


def test_label_point_is_the_centroid() -> None:
    """A square's label sits at its centre; a label_point property wins."""
    lon, lat = label_point({"geometry": square(113.7, 23.0)})
    assert lon == pytest.approx(113.75) and lat == pytest.approx(23.05)
    multi = {"geometry": {"type": "MultiPolygon", "coordinates": [
        square(0, 0, 0.01)["coordinates"], square(10, 10, 1)["coordinates"]]}}
    assert label_point(multi) == pytest.approx((10.5, 10.5))
    assert label_point({"properties": {"label_point": [1, 2]}, "geometry": None}) == (1.0, 2.0)
    assert label_point({"geometry": None}) is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalogue_complete(lang: str) -> None:
    """Every key has text in both languages; levels, categories and statuses are named."""
    for key in i18n.keys():
        assert i18n.t(key, lang).strip()
    assert i18n.t("no.such.key", lang) == "no.such.key"
    for code in i18n.CATEGORIES:
        assert i18n.category_name(code, lang) != code
    for code in i18n.STATUSES:
        assert i18n.status_name(code, lang) != code
    assert i18n.category_name("drone", lang) == "drone"


def test_catalogue_names() -> None:
    """The names the brief fixes."""
    assert [i18n.level_name(x) for x in i18n.LEVELS] == ["绿色", "黄色", "红色"]
    assert [i18n.level_name(x, "en") for x in i18n.LEVELS] == ["Green", "Yellow", "Red"]
    zh = [i18n.category_name(c) for c in i18n.CATEGORIES]
    assert zh == ["矛盾纠纷", "安全隐患", "出租屋", "消防", "安全生产", "食品药品", "治安",
                  "精神障碍", "社区矫正", "环境卫生"]
    assert i18n.t("app.title") == "网格化指挥中心" and i18n.t("app.title", "en") == "Gridwatch"
    assert i18n.t("conn.open", "zh") == "已连接" and i18n.t("conn.closed", "zh") == "已断开"
    assert i18n.norm_lang("en-GB") == "en" and i18n.norm_lang("fr") == "zh"
    assert i18n.norm_lang(None) == "zh"


def test_at_city_zoom_the_page_draws_only_its_red_cases():
    """Below the case zoom the labels count the cases: green and yellow ones are no markers."""
    cases = [IncidentMarker(f"I{lv}", 113.75, 23.05, lv, "dispute", "t", "new", 0.0, "g")
             for lv in ("green", "yellow", "red")]
    assert [m.level for m in cases_at_zoom(cases, CASE_ZOOM - 1)] == ["red"]
    assert cases_at_zoom(cases, CASE_ZOOM) == cases
    for zoom, levels in ((10, ["red"]), (CASE_ZOOM, ["green", "yellow", "red"])):
        drawn = by_id(map_page(view(incidents=cases, zoom=zoom)))[ids.INCIDENTS]
        assert [f["properties"]["level"] for f in drawn.data["features"]] == levels
    js = (Path(__file__).resolve().parents[2] / "assets" / "citymap.js").read_text("utf-8")
    assert f"var CASE_ZOOM = {CASE_ZOOM};" in js  # the page script draws the same cases
