"""Component id constants shared by layouts, callbacks and assets/gridwatch.js, live.js."""
from __future__ import annotations

# The page root; carries data-live-url, data-lang, data-tz, data-view for the JS push client.
ROOT = "gw-root"

# Header
TITLE = "gw-title"
REGION_NAME = "gw-region-name"
BREADCRUMBS = "gw-breadcrumbs"
LANG_LINK = "gw-lang-link"
CONN = "gw-conn"  # className gw-conn--connecting | gw-conn--open | gw-conn--closed
CLOCK = "gw-clock"  # container of the as-of time; className gains gw-stale when data is old
ASOF = "gw-asof"  # text: local time of the data (HH:MM:SS)

# KPI strip: one id per value element, so the push client can set each one
KPI_STRIP = "gw-kpis"
KPI_RED = "gw-kpi-red"
KPI_YELLOW = "gw-kpi-yellow"
KPI_GREEN = "gw-kpi-green"
KPI_NEW_TODAY = "gw-kpi-new-today"
KPI_OVERDUE = "gw-kpi-overdue"
KPI_ON_DUTY = "gw-kpi-on-duty"
KPI_OFFICERS = "gw-kpi-officers"

# Map and its layers
MAP = "gw-map"
REGIONS = "gw-regions"  # dl.GeoJSON of child regions; hideout {"stats": {code: stat}}
LABELS = "gw-region-labels"  # dl.GeoJSON of label points; same hideout as REGIONS
OFFICERS = "gw-officers"  # clustered dl.GeoJSON of officers
INCIDENTS = "gw-incidents"  # dl.GeoJSON of open cases
LEGEND = "gw-legend"

# Leaflet panes (names, not Dash ids)
PANE_LABELS = "gwLabels"
PANE_OFFICERS = "gwOfficers"
PANE_INCIDENTS = "gwIncidents"

# Every id the push client in assets/live.js updates with set_props.
LIVE_IDS = (CONN, CLOCK, ASOF, KPI_RED, KPI_YELLOW, KPI_GREEN, KPI_NEW_TODAY, KPI_OVERDUE,
            KPI_ON_DUTY, KPI_OFFICERS, REGIONS, LABELS, OFFICERS, INCIDENTS)

# Case page
CASE_STORE = "gw-case-store"  # dcc.Store: the whole case (pushed by the JS on every change)
CASE_DETAILS = "gw-case-details"
CASE_TIMELINE = "gw-case-timeline"
CASE_ACTIONS = "gw-case-actions"
CASE_ACTIONS_SIG = "gw-case-actions-sig"  # dcc.Store: what the action panel was drawn from
CASE_AUDIT = "gw-case-audit"
CASE_PHOTOS = "gw-case-photos"
CASE_DELIVERY = "gw-case-delivery"  # the assignee's phone: not yet delivered, delivered, acked
ACTION_BUTTON = "gw-act"  # pattern-matching type: {"type": ACTION_BUTTON, "action": name}
ASSIGN_OFFICER = "gw-assign-officer"
NOTE_TEXT = "gw-note"
ACTION_MESSAGE = "gw-action-msg"

# Case lists on region pages
CASE_TABLE = "gw-case-table"
QUEUE_TABLE = "gw-queue-table"
