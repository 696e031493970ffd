"""The AG Grid tables as built (pure): field text as text, the CSV's columns, zh/en grid text."""
from __future__ import annotations

from types import SimpleNamespace

from layouts import ids
from layouts.admin_view import deadletter_page
from layouts.audit_view import AUDIT_TABLE, entries_table
from layouts.case_list import CSV_COLUMNS, case_panel
from layouts.viewmodels import IncidentMarker

NOW = 1_800_000_000.0
TITLE = '<img src=x onerror="alert(1)">楼道堆物'


def marker(case_id: str, level: str, assignee: str = "", due_min: int | None = 30
           ) -> IncidentMarker:
    return IncidentMarker(incident_id=case_id, lon=113.7, lat=23.0, level=level,
                          category="dispute", title=TITLE, status="new",
                          reported_ts=NOW - 600, grid="g",
                          due_ts=None if due_min is None else NOW + due_min * 60,
                          assignee=assignee)


def grids(node: object) -> dict[str, object]:
    """Every AgGrid in a component tree, by id."""
    out: dict[str, object] = {}
    if type(node).__name__ == "AgGrid":
        out[node.id] = node
    if type(node).__name__ == "Store" and node.data.get("type") == "AgGrid":  # drawn once the
        return {node.data["props"]["id"]: SimpleNamespace(**node.data["props"])}  # script is in
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            out |= grids(child)
    return out


def test_case_grids_show_text_and_export_the_minutes():
    panel = case_panel([marker("A", "red", "O1"), marker("B", "green", due_min=-5),
                        marker("C", "yellow", due_min=None)], "town", "zh", NOW)
    found = grids(panel)
    assert set(found) == {ids.CASE_TABLE, ids.QUEUE_TABLE}
    cases, queue = found[ids.CASE_TABLE], found[ids.QUEUE_TABLE]
    assert [r["id"] for r in queue.rowData] == ["B", "C"]  # unassigned or overdue
    assert cases.rowData[0]["title"] == TITLE  # as typed, drawn as text by the grid
    assert cases.getRowId == "params.data.id"
    for grid in (cases, queue):
        assert not getattr(grid, "dangerously_allow_code", False)
        assert all("cellRenderer" not in c for c in grid.columnDefs)  # no HTML renderers
        heads = {c.get("colId", c["field"]): c["headerName"] for c in grid.columnDefs}
        assert grid.csvExportParams["columnKeys"] == CSV_COLUMNS
        assert set(CSV_COLUMNS) <= set(heads)
        assert (heads["age_min"], heads["due_min"]) == ("已历时（分）", "时限（分）")
    assert "gwLocaleText(params, 'zh')" in cases.dashGridOptions["getLocaleText"]["function"]
    by_id = {r["id"]: r for r in cases.rowData}
    assert (by_id["B"]["late"], by_id["B"]["due_min"], by_id["C"]["due_sort"]) == (1, -5, 10**9)


def test_english_page_gets_english_grid_text():
    [grid] = grids(case_panel([marker("A", "red")], "village", "en", NOW)).values()
    assert "gwLocaleText(params, 'en')" in grid.dashGridOptions["getLocaleText"]["function"]
    assert {c["headerName"] for c in grid.columnDefs} >= {"Level", "Age (min)"}


def test_audit_and_dead_letter_lists_are_grids():
    entry = {"id": "1-0", "ts": str(NOW), "user": "<b>x</b>", "action": "case.acknowledge",
             "target": "A", "region": "", "detail": TITLE}
    [audit] = grids(entries_table([entry], "zh")).values()
    assert audit.id == AUDIT_TABLE and audit.rowData[0]["detail"] == TITLE
    assert audit.rowData[0]["action"] == "受理" and audit.rowData[0]["region"] == "—"
    page = deadletter_page([{"id": "2-0", "ts": str(NOW), "msg_id": "m1", "reason": TITLE,
                             "source": "s", "raw": "{}"}], {"2-0"}, "en")
    [dl] = grids(page).values()
    assert dl.rowData[0]["reason"] == TITLE and dl.rowData[0]["done"] == "Resubmitted"
