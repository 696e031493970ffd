"""AG Grid tables in the house style: dark theme, zh-CN/en grid text, sort, filter, pages, CSV."""
from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from layouts.i18n import norm_lang, t

EXPORT_SUFFIX = "-export"  # the id of a grid's CSV button: f"{grid_id}{EXPORT_SUFFIX}"
FILTER_SUFFIX = "-filter"  # and of its quick filter box
SPEC_SUFFIX = "-spec"  # the store holding a grid until AG Grid's script has loaded
SLOT_SUFFIX = "-slot"  # and the place the grid is drawn in then (dashboard/grids.py)


def column(field: str, header: str, **kw: Any) -> dict[str, Any]:
    """One column: its field, its header text (from the catalogue), any other AG Grid option."""
    return {"field": field, "headerName": header, **kw}


def hidden(field: str, header: str, **kw: Any) -> dict[str, Any]:
    """A column the grid sorts or exports by but does not show."""
    return column(field, header, hide=True, suppressColumnsToolPanel=True, **kw)


def grid(grid_id: str, rows: list[dict[str, Any]], columns: list[dict[str, Any]], lang: str,
         page_size: int, csv: dict[str, Any] | None = None, **options: Any) -> html.Div:
    """A grid of `rows` (each with an "id"; field text is rendered as text by AG Grid), sortable,
    filterable, paged, with the grid's own text in the page's language (assets/grid.js)."""
    return deferred(table(grid_id, rows, columns, lang, page_size, csv, **options))


def deferred(grid_: dag.AgGrid) -> html.Div:
    """A grid drawn once the page has loaded AG Grid's script, which only pages with a grid do
    (dashboard/app.py keeps it out of the index, assets/grid.js loads it): maps and walls never."""
    return html.Div([dcc.Store(id=f"{grid_.id}{SPEC_SUFFIX}", data=grid_.to_plotly_json()),
                     html.Div(id=f"{grid_.id}{SLOT_SUFFIX}", className="gw-grid-slot")])


def table(grid_id: str, rows: list[dict[str, Any]], columns: list[dict[str, Any]], lang: str,
          page_size: int, csv: dict[str, Any] | None = None, **options: Any) -> dag.AgGrid:
    """The AG Grid component itself, in the house style."""
    lang = norm_lang(lang)
    return dag.AgGrid(
        id=grid_id, rowData=rows, columnDefs=columns, getRowId="params.data.id",
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 64,
                       "suppressHeaderMenuButton": True},
        columnSize="responsiveSizeToFit", className=f"gw-grid gw-grid-{lang}",
        csvExportParams={"processCellCallback": {"function": "gwCsvCell(params)"}, **(csv or {})},
        style={"width": "100%"},
        dashGridOptions={
            "theme": {"function": "gwTheme(themeQuartz)"},
            "getLocaleText": {"function": f"gwLocaleText(params, '{lang}')"},
            "pagination": True, "paginationPageSize": page_size,
            "paginationPageSizeSelector": False, "domLayout": "autoHeight",
            "animateRows": False, "suppressCellFocus": False,
            "enableCellTextSelection": True, "ensureDomOrder": True, **options})


def quick_filter(grid_id: str, lang: str) -> dcc.Input:
    """A box that filters the grid's rows on any column's text (assets/grid.js finds the grid
    by the box's id)."""
    return dcc.Input(type="search", id=f"{grid_id}{FILTER_SUFFIX}", autoComplete="off",
                     placeholder=t("list.filter", lang), className="gw-quick-filter")


def tools(grid_id: str, lang: str) -> html.Div:
    """The row above a grid: its quick filter and its CSV button."""
    return html.Div([quick_filter(grid_id, lang), export_button(grid_id, lang)],
                    className="gw-grid-tools")


def export_button(grid_id: str, lang: str) -> html.Button:
    """A labelled CSV button; dashboard/grids.py makes it run the grid's exportDataAsCsv."""
    return html.Button(t("list.export", lang), id=f"{grid_id}{EXPORT_SUFFIX}", n_clicks=0,
                       className="gw-btn gw-export", type="button", **{"data-grid": grid_id})
