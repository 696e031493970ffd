"""Callbacks of the AG Grid tables: each drawn once AG Grid's script is in, a click on a case row
opens the case, CSV buttons export."""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import ClientsideFunction, Input, Output

from layouts import ids
from layouts.admin_view import DL_GRID
from layouts.audit_view import AUDIT_TABLE
from layouts.grid import EXPORT_SUFFIX, SLOT_SUFFIX, SPEC_SUFFIX

CASE_GRIDS = (ids.CASE_TABLE, ids.QUEUE_TABLE)
ALL_GRIDS = (*CASE_GRIDS, AUDIT_TABLE, DL_GRID)

# The grid's own CSV export (its csvExportParams say which columns and the file name).
EXPORT_JS = "function (n) { return n ? true : window.dash_clientside.no_update; }"


def register(app: dash.Dash, url: str) -> None:
    """Draw every grid when its script is in, wire its CSV button, case rows to `url`."""
    for grid_id in ALL_GRIDS:  # layouts/grid.py deferred, assets/grid.js gwGrid.draw
        app.clientside_callback(ClientsideFunction("gwGrid", "draw"),
                                Output(f"{grid_id}{SLOT_SUFFIX}", "children"),
                                Input(f"{grid_id}{SPEC_SUFFIX}", "data"))
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
