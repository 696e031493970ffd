"""Callbacks of the AG Grid tables: a click on a case row opens the case, CSV buttons export."""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import Input, Output

from layouts import ids
from layouts.grid import EXPORT_SUFFIX

CASE_GRIDS = (ids.CASE_TABLE, ids.QUEUE_TABLE)

# The grid's own CSV export (its csvExportParams say which columns and the file name).
EXPORT_JS = "function (n) { return n ? true : window.dash_clientside.no_update; }"


def register(app: dash.Dash, url: str) -> None:
    """Wire every grid's CSV button, and case rows to the `url` location."""
    for grid_id in CASE_GRIDS:  # the audit log exports on the server: audited, complete
        app.clientside_callback(EXPORT_JS, Output(grid_id, "exportDataAsCsv"),
                                Input(f"{grid_id}{EXPORT_SUFFIX}", "n_clicks"),
                                prevent_initial_call=True)
    for n, grid_id in enumerate(CASE_GRIDS):
        app.callback(Output(url, "pathname", allow_duplicate=n > 0),
                     Input(grid_id, "cellClicked"), prevent_initial_call=True)(open_case)


def open_case(cell: dict | None) -> str:
    """The case page of the clicked row (row ids are case ids: getRowId)."""
    row_id = (cell or {}).get("rowId")
    if not row_id:
        raise dash.exceptions.PreventUpdate
    return f"/case/{quote(str(row_id), safe='')}"  # a path: always our own origin
