"""Pure tests of the statistics page: charts, handling times, hotspots, both languages."""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import plotly
import pytest
from dash import dcc, html
from dash.development.base_component import Component

from layouts.stats_model import HotspotRow, StatsView, TimeRow, Timing
from layouts.stats_view import (
    BACK_LINK,
    CHART_CATEGORY,
    CHART_LEVEL,
    HOT_LONG,
    HOT_SHORT,
    TIMES,
    stats_page,
)

EVIL = "<script>alert('x')</script><img src=x onerror=alert(1)>"
DATES = ["2025-11-24", "2025-11-25", "2025-11-26"]


def view(**over: Any) -> StatsView:
    """A town's statistics over three days; keyword arguments override fields."""
    base: dict[str, Any] = dict(
        region_code="441900101", region_name="莞城街道", region_level="town",
        as_of=1764144000.0, dates=DATES,
        by_category={"dispute": [3, 0, 2], "fire": [1, 1, 0], "environment": [0, 0, 0],
                     EVIL: [0, 1, 0]},
        by_level={"green": [2, 0, 1], "yellow": [1, 1, 1], "red": [1, 1, 0]},
        overall=TimeRow("", 9, Timing(8, 12.5, 40.0, 0.75), Timing(6, 150.0, 400.0, 0.5)),
        times=[TimeRow("dispute", 5, Timing(5, 20.0, 45.0, 0.6), Timing(4, 100.0, 230.0, 1.0),
                       dispatch_sla_min=30.0, resolve_sla_min=240.0),
               TimeRow("fire", 2, Timing(2, 3.0, 4.5, 1.0), Timing(0), 5.0, 60.0)],
        hotspots_short=[
            HotspotRow("441900101001003", "莞城第1社区3号网格", "莞城第1社区 · 莞城街道", 6, 0.5,
                       red=2, top_category="fire", top_title=EVIL),
            HotspotRow("441900101002001", "莞城第2社区1号网格", "莞城第2社区 · 莞城街道", 3, 0.25,
                       top_category="dispute", top_title="邻里噪音纠纷")],
        hotspots_long=[
            HotspotRow("441900101002001", "莞城第2社区1号网格", "莞城第2社区 · 莞城街道", 7,
                       7 / 12, top_category="dispute", top_title="邻里噪音纠纷")],
        total_cases=9, open_cases=2, red_cases=3, days=3)
    base.update(over)
    return StatsView(**base)


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


def texts(node: Any) -> list[str]:
    """Every string shown as text in a tree."""
    out = []
    for c in walk(node):
        kids = getattr(c, "children", None)
        for k in kids if isinstance(kids, list | tuple) else [kids]:
            if isinstance(k, str | int | float) and not isinstance(k, bool):
                out.append(str(k))
    return out


def by_id(tree: Component) -> dict[str, Component]:
    return {c.id: c for c in walk(tree) if getattr(c, "id", None)}


def rows_of(table: Component) -> list[list[str]]:
    """The body rows of a table as lists of their cells' text."""
    body = next(c for c in walk(table) if isinstance(c, html.Tbody))
    return [[" ".join(texts(td)) for td in tr.children] for tr in body.children]


def test_level_chart_stacks_green_yellow_red_by_day_in_their_colours():
    fig = by_id(stats_page(view()))[CHART_LEVEL].figure
    assert fig.layout.barmode == "stack"
    assert [t.name for t in fig.data] == ["绿色", "黄色", "红色"]
    assert [t.marker.color for t in fig.data] == ["#1fd17a", "#ffc53d", "#ff3d3d"]
    assert [list(t.y) for t in fig.data] == [[2, 0, 1], [1, 1, 1], [1, 1, 0]]
    assert list(fig.data[0].x) == DATES
    assert fig.data[2].marker.pattern.shape  # red also differs by pattern, not colour alone


def test_category_chart_has_the_busy_categories_busiest_first():
    fig = by_id(stats_page(view()))[CHART_CATEGORY].figure
    names = [t.name for t in fig.data]
    assert names[:2] == ["矛盾纠纷", "消防"]  # 5 disputes, then 2 fires
    assert "环境卫生" not in names  # no environment case in the window
    assert [sum(t.y) for t in fig.data] == [5, 2, 1]


def test_charts_are_dark_large_and_without_the_plotly_logo():
    page = stats_page(view())
    for gid in (CHART_CATEGORY, CHART_LEVEL):
        g = by_id(page)[gid]
        assert isinstance(g, dcc.Graph)
        assert g.config["displaylogo"] is False
        layout = g.figure.layout
        assert layout.template.layout.paper_bgcolor == "rgb(17,17,17)"  # plotly_dark
        assert layout.font.size >= 14 and layout.legend.font.size >= 14
        assert layout.xaxis.tickfont.size >= 14 and layout.yaxis.tickfont.size >= 14


def test_header_names_the_region_and_links_back_to_its_map():
    page = stats_page(view())
    shown = texts(page)
    assert "莞城街道" in shown and "统计分析" in shown and "近3天" in shown
    assert by_id(page)[BACK_LINK].href == "/town/441900101"
    for level, code, path in (("city", "441900", "/"), ("village", "441900101001",
                                                        "/village/441900101001"),
                              ("grid", "441900101001003", "/grid/441900101001003")):
        vm = view(region_level=level, region_code=code)
        assert by_id(stats_page(vm))[BACK_LINK].href == path
    assert by_id(stats_page(view(lang="en")))[BACK_LINK].href == "/town/441900101?lang=en"


def test_kpis_show_totals_and_times():
    shown = texts(stats_page(view()))
    assert {"9", "2", "3"} <= set(shown)
    assert "12 分钟" in shown and "40 分钟" in shown and "2.5 小时" in shown


def test_times_table_lists_each_category_and_marks_times_over_the_sla():
    table = by_id(stats_page(view()))[TIMES]
    rows = rows_of(table)
    assert rows[0][0] == "全部类别"
    dispute = rows[1]
    assert dispute[0] == "矛盾纠纷"
    # dispatch: n, mean, p90 (45 min > 30 min SLA), on time, SLA; then resolve
    assert dispute[1:6] == ["5", "20 分钟", "▲ 45 分钟", "60.0%", "30 分钟"]
    assert dispute[6:11] == ["4", "1.7 小时", "3.8 小时", "100.0%", "4.0 小时"]
    fire = rows[2]
    assert fire[6:11] == ["0", "—", "—", "—", "1.0 小时"]
    over = [c for c in walk(table) if getattr(c, "className", None) == "gw-over"]
    assert len(over) == 1 and over[0].title == "超过时限"


def test_hotspot_tables_list_grids_with_links_counts_and_shares():
    page = stats_page(view())
    short = rows_of(by_id(page)[HOT_SHORT])
    assert len(short) == 2
    assert short[0][:4] == ["1", "莞城第1社区3号网格 莞城第1社区 · 莞城街道", "6", "50.0%"]
    assert short[0][5] == "消防"
    long = rows_of(by_id(page)[HOT_LONG])
    assert long[0][2:4] == ["7", "58.3%"]
    links = [c.href for c in walk(by_id(page)[HOT_SHORT]) if isinstance(c, html.A)]
    assert links == ["/grid/441900101001003", "/grid/441900101002001"]
    assert "高发网格 · 近7天" in texts(page) and "高发网格 · 近30天" in texts(page)


def test_english_page():
    page = stats_page(view(lang="en", region_name="Guancheng"))
    shown = texts(page)
    for s in ("Statistics", "Guancheng", "Last 3 days", "Cases per day by category",
              "Hotspot grids · last 7 days", "All categories", "Dispute"):
        assert s in shown, s
    level = by_id(page)[CHART_LEVEL].figure
    assert [t.name for t in level.data] == ["Green", "Yellow", "Red"]
    assert page.lang == "en"


def test_hostile_category_and_title_are_text_not_markup():
    page = stats_page(view())
    assert EVIL in texts(by_id(page)[HOT_SHORT])  # a plain string child, escaped by React
    names = [t.name for t in by_id(page)[CHART_CATEGORY].figure.data]
    assert "&lt;script&gt;alert('x')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in names
    assert not any("<" in n for n in names)  # Plotly would read tags in a trace name
    for c in walk(page):
        assert not getattr(c, "dangerously_allow_html", False)


def test_no_cases_shows_empty_charts_and_tables_that_say_so():
    empty = view(by_category={"dispute": [0, 0, 0]}, by_level={}, times=[], total_cases=0,
                 open_cases=0, red_cases=0, hotspots_short=[], hotspots_long=[],
                 overall=TimeRow("", 0, Timing(), Timing()))
    page = stats_page(empty)
    cat = by_id(page)[CHART_CATEGORY].figure
    assert cat.data == () and cat.layout.annotations[0].text == "该时段暂无案件"
    assert [sum(t.y) for t in by_id(page)[CHART_LEVEL].figure.data] == [0, 0, 0]
    assert rows_of(by_id(page)[HOT_SHORT]) == [["该时段无案件"]]
    assert rows_of(by_id(page)[TIMES]) == [["该时段暂无案件"]]
    assert "—" in texts(page)  # no mean time to show


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_serialises_for_dash(lang):
    page = stats_page(view(lang=lang))
    assert json.loads(json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder))


def test_nan_times_never_show_as_nan():
    vm = view(overall=TimeRow("", 1, Timing(0, math.nan, math.nan), Timing()))
    assert not any("nan" in s.lower() for s in texts(stats_page(vm)))


def test_wall_mode_reads_from_afar_and_keeps_the_wall_on_links():
    desk, wall = stats_page(view()), stats_page(view(wall=True))
    assert "gw-wall" in wall.className and "gw-desk" in desk.className
    assert by_id(wall)[CHART_LEVEL].figure.layout.font.size > \
        by_id(desk)[CHART_LEVEL].figure.layout.font.size
    assert "English" in texts(desk) and "English" not in texts(wall)  # no chrome on the wall
    assert by_id(wall)[BACK_LINK].href == "/town/441900101?wall=1"
    grid_links = [c.href for c in walk(by_id(wall)[HOT_LONG]) if isinstance(c, html.A)]
    assert grid_links == ["/grid/441900101002001?wall=1"]
