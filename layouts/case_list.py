"""Case lists beside the map: every open case (sortable, filterable, CSV) and the queue."""
from __future__ import annotations

import json
from typing import Any

from dash import dash_table, html

from domain.alerts import AlertLevel
from layouts import ids
from layouts.format import minutes_text
from layouts.i18n import CATEGORIES, LEVELS, STATUSES, category_name, level_name, status_name, t
from layouts.viewmodels import IncidentMarker

CUE = {AlertLevel.RED: "◆", AlertLevel.YELLOW: "▲", AlertLevel.GREEN: "●"}
RANK = {lv: lv.rank + 1 for lv in AlertLevel}


def labels(lang: str) -> dict[str, dict[str, str]]:
    """Names the browser needs to build rows (sent once in the page)."""
    return {"level": {lv: f"{CUE[lv]} {level_name(lv, lang)}" for lv in LEVELS},
            "cat": {c: category_name(c, lang) for c in CATEGORIES},
            "status": {s: status_name(s, lang) for s in STATUSES}}


def case_row(m: IncidentMarker, names: dict[str, dict[str, str]], now: float,
             lang: str) -> dict[str, Any]:
    """One table row of an open case (the same fields assets/cases.js builds): durations as
    people read them, the minutes beside them for the CSV."""
    age = int((now - m.reported_ts) // 60)
    due = None if m.due_ts is None else int((m.due_ts - now) // 60)
    return {"id": m.incident_id, "level": names["level"].get(m.level, m.level),
            "rank": RANK.get(m.level, 0), "category": names["cat"].get(m.category, m.category),
            "title": m.title, "status": names["status"].get(m.status, m.status),
            "age": minutes_text(age, lang), "due": minutes_text(due, lang),
            "age_min": age, "due_min": due, "assignee": m.assignee, "grid": m.grid}


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst level first, then the nearest deadline."""
    return sorted(rows, key=lambda r: (-r["rank"], r["due_min"] if r["due_min"] is not None
                                       else 10**9))


def queue_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dispatch queue: unassigned or overdue cases; overdue first, then by level, deadline."""
    q = [r for r in rows if not r["assignee"] or (r["due_min"] is not None and r["due_min"] < 0)]
    return sorted(q, key=lambda r: (not (r["due_min"] is not None and r["due_min"] < 0),
                                    -r["rank"], r["due_min"] if r["due_min"] is not None
                                    else 10**9))


def _columns(lang: str) -> list[dict[str, Any]]:
    return [{"name": t("case.level", lang), "id": "level"},
            {"name": t("case.category", lang), "id": "category"},
            {"name": t("case.title", lang), "id": "title"},
            {"name": t("case.status", lang), "id": "status"},
            {"name": t("list.age", lang), "id": "age"},
            {"name": t("list.due", lang), "id": "due"},
            {"name": t("case.assignee", lang), "id": "assignee"},
            {"name": t("case.grid", lang), "id": "grid"},
            {"name": "ID", "id": "id"},
            # hidden on screen, kept in the CSV (export_columns="all"): the numbers themselves
            {"name": t("list.age", lang) + t("list.minutes", lang), "id": "age_min",
             "type": "numeric"},
            {"name": t("list.due", lang) + t("list.minutes", lang), "id": "due_min",
             "type": "numeric"}]


def table(table_id: str, rows: list[dict[str, Any]], lang: str, page_size: int) -> Any:
    """A dark, sortable, filterable DataTable with CSV export; a click opens the case."""
    return dash_table.DataTable(
        id=table_id, data=rows, columns=_columns(lang), sort_action="native",
        filter_action="native", page_action="native", page_size=page_size,
        filter_options={"placeholder_text": t("list.filter", lang)},
        export_format="csv", export_headers="display", export_columns="all",
        hidden_columns=["age_min", "due_min"], cell_selectable=True,
        style_as_list_view=True, css=[{"selector": ".dash-spreadsheet-menu", "rule":
                                       "margin: 4px 0;"}],
        style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "#12233f", "color": "#cfe3ff", "fontWeight": 700,
                      "border": "none"},
        style_filter={"backgroundColor": "#0c1a30", "color": "#e8f1ff"},
        style_cell={"backgroundColor": "#0b1628", "color": "#e8f1ff", "border": "none",
                    "borderBottom": "1px solid #1d3357", "fontSize": "15px",
                    "fontFamily": "inherit", "padding": "6px 8px", "textAlign": "left",
                    "maxWidth": "220px", "overflow": "hidden", "textOverflow": "ellipsis"},
        style_data_conditional=[
            {"if": {"filter_query": "{rank} = 3", "column_id": "level"}, "color": "#ff6b6b",
             "fontWeight": 700},
            {"if": {"filter_query": "{rank} = 2", "column_id": "level"}, "color": "#ffd24d"},
            {"if": {"filter_query": "{rank} = 1", "column_id": "level"}, "color": "#4ee39a"},
            {"if": {"filter_query": "{due_min} < 0", "column_id": "due"},
             "color": "#ff6b6b", "fontWeight": 700},
            {"if": {"state": "active"}, "backgroundColor": "#17345f", "border": "none"},
        ],
        tooltip_duration=None,
    )


def export_button(table_id: str, lang: str) -> html.Button:
    """Our labelled CSV button; assets/cases.js presses the table's own (hidden) export."""
    return html.Button(t("list.export", lang), className="gw-btn gw-export", type="button",
                       **{"data-table": table_id})


def case_panel(markers: list[IncidentMarker], level: str, lang: str, now: float) -> html.Aside:
    """The side panel of a region page: the dispatch queue (towns) and all open cases."""
    names = labels(lang)
    rows = sort_rows([case_row(m, names, now, lang) for m in markers])
    parts: list[Any] = []
    if level == "town":
        parts += [html.H2([t("list.queue", lang),
                           html.Span(t("list.queue_hint", lang), className="gw-hint")],
                          className="gw-card-title"),
                  export_button(ids.QUEUE_TABLE, lang),
                  table(ids.QUEUE_TABLE, queue_rows(rows), lang, page_size=8)]
    parts += [html.H2(t("list.cases", lang), className="gw-card-title"),
              export_button(ids.CASE_TABLE, lang),
              table(ids.CASE_TABLE, rows, lang, page_size=15)]
    return html.Aside(parts, className="gw-side",
                      **{"data-labels": json.dumps(names, ensure_ascii=False)})
