"""Case lists beside the map: every open case (sortable, filterable, CSV) and the queue."""
from __future__ import annotations

import json
from typing import Any

from dash import html

from domain.alerts import AlertLevel
from layouts import ids
from layouts.format import minutes_text
from layouts.grid import column, grid, hidden, tools
from layouts.i18n import CATEGORIES, LEVELS, STATUSES, category_name, level_name, status_name, t
from layouts.viewmodels import IncidentMarker

CUE = {AlertLevel.RED: "◆", AlertLevel.YELLOW: "▲", AlertLevel.GREEN: "●"}
RANK = {lv: lv.rank + 1 for lv in AlertLevel}
NO_DUE = 10**9  # sorts a case without a deadline after every deadline


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
            "age_min": age, "due_min": due, "due_sort": NO_DUE if due is None else due,
            "late": int(due is not None and due < 0), "assignee": m.assignee, "grid": m.grid}


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst level first, then the nearest deadline."""
    return sorted(rows, key=lambda r: (-r["rank"], r["due_sort"]))


def queue_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dispatch queue: unassigned or overdue cases; overdue first, then by level, deadline."""
    q = [r for r in rows if not r["assignee"] or r["late"]]
    return sorted(q, key=lambda r: (not r["late"], -r["rank"], r["due_sort"]))


def _columns(lang: str, queue: bool) -> list[dict[str, Any]]:
    """Shown: level, category, title, status, age, due, assignee, grid, ID; the durations are
    sorted by their minutes and drawn with the catalogue's words (assets/grid.js); the minutes
    themselves are hidden columns that only the CSV carries."""
    minutes = t("list.minutes", lang)
    late = [hidden("late", t("case.overdue", lang), sort="desc", sortIndex=0)] if queue else []
    return late + [
        column("rank", t("case.level", lang), colId="level", sort="desc", sortIndex=1, minWidth=104,
               valueFormatter={"function": "params.data.level"},
               filterValueGetter={"function": "params.data.level"},
               cellClassRules={f"gw-lv-{lv}": {"function": f"params.data.rank === {RANK[lv]}"}
                               for lv in AlertLevel}),
        column("category", t("case.category", lang), minWidth=96),
        column("title", t("case.title", lang), minWidth=150),
        column("status", t("case.status", lang), minWidth=80),
        column("age_min", t("list.age", lang), colId="age", filter=False, minWidth=92,
               valueFormatter={"function": "gwMinutes(params.value)"}),
        column("due_sort", t("list.due", lang), colId="due", filter=False, sort="asc", minWidth=110,
               sortIndex=2, valueFormatter={"function": "gwMinutes(params.data.due_min)"},
               cellClassRules={"gw-late": {"function": "params.data.late === 1"}}),
        column("assignee", t("case.assignee", lang), minWidth=84),
        column("grid", t("case.grid", lang), minWidth=150),
        column("id", "ID", minWidth=110),
        hidden("age_min", t("list.age", lang) + minutes, colId="age_min"),
        hidden("due_min", t("list.due", lang) + minutes, colId="due_min")]


CSV_COLUMNS = ["level", "category", "title", "status", "age", "due", "assignee", "grid", "id",
               "age_min", "due_min"]


def table(table_id: str, rows: list[dict[str, Any]], lang: str, page_size: int) -> Any:
    """A dark, sortable, filterable AG Grid with CSV export; a click opens the case."""
    csv = {"fileName": f"{table_id.removeprefix('gw-')}.csv", "columnKeys": CSV_COLUMNS}
    return grid(table_id, rows, _columns(lang, table_id == ids.QUEUE_TABLE), lang, page_size,
                csv=csv, rowClass="gw-row-link")


def case_panel(markers: list[IncidentMarker], level: str, lang: str, now: float,
               dispatch_level: str = "town") -> html.Aside:
    """The side panel of a region page: the dispatch queue (at the level that dispatches,
    Dongguan's towns) and all open cases."""
    names = labels(lang)
    rows = sort_rows([case_row(m, names, now, lang) for m in markers])
    parts: list[Any] = []
    if level == dispatch_level:
        parts += [html.H2([t("list.queue", lang),
                           html.Span(t("list.queue_hint", lang), className="gw-hint")],
                          className="gw-card-title"),
                  tools(ids.QUEUE_TABLE, lang),
                  table(ids.QUEUE_TABLE, queue_rows(rows), lang, page_size=8)]
    parts += [html.H2(t("list.cases", lang), className="gw-card-title"),
              tools(ids.CASE_TABLE, lang),
              table(ids.CASE_TABLE, rows, lang, page_size=15)]
    return html.Aside(parts, className="gw-side",
                      **{"data-labels": json.dumps(names, ensure_ascii=False)})
