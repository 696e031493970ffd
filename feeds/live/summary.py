"""Pure summaries of a region: case counts by level, KPIs and child stats."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from domain.alerts import LEVELS, AlertLevel, worst
from domain.regions import Hierarchy, above_town, is_within, town_of
from feeds.live.state import SENSITIVE_MARK, OfficerState

ONLINE_S = 300.0
KINDS = (*LEVELS, "overdue", "new")


class WithoutSensitive(Mapping[str, int]):
    """One town's counts minus its sensitive cases, computed per key on reading."""

    def __init__(self, counts: Mapping[str, int]):
        self.counts = counts

    def __getitem__(self, key: str) -> int:
        if key.startswith(SENSITIVE_MARK):
            raise KeyError(key)
        return self.counts[key] - self.counts.get(SENSITIVE_MARK + key, 0)

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.counts if not k.startswith(SENSITIVE_MARK))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def visible_counts(counts: Mapping[str, Mapping[str, int]], cleared: bool
                   ) -> Mapping[str, Mapping[str, int]]:
    """The counts a reader may see: all cases if cleared for sensitive categories, else the
    counts without the sensitive cases (the worker counts those apart as well)."""
    if cleared:
        return counts
    return {t: WithoutSensitive(c) for t, c in counts.items()}


def region_counts(code: str, counts: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """Open cases by level, overdue and new-today for a region and everything below it."""
    if above_town(code):  # the sum of the shard-level regions below it
        shards = [(t, c) for t, c in counts.items() if is_within(t, code)]
        return {k: sum(c.get(f"{t}|{k}", 0) for t, c in shards) for k in KINDS}
    town = counts.get(town_of(code), {})
    return {k: town.get(f"{code}|{k}", 0) for k in KINDS}


def officer_counts(code: str, officers: Iterable[OfficerState], now: float) -> dict[str, int]:
    """Officers of a region (by home grid): total, on duty, online (reported recently)."""
    total = on_duty = online = 0
    for o in officers:
        if is_within(o.home, code):
            total += 1
            on_duty += o.on_duty
            online += o.ts >= now - ONLINE_S
    return {"officers": total, "on_duty": on_duty, "online": online}


def kpi(code: str, counts: Mapping[str, Mapping[str, int]], officers: Iterable[OfficerState],
        now: float) -> dict[str, Any]:
    """The KPI strip of a region in the push channel's wire form."""
    c = region_counts(code, counts)
    o = officer_counts(code, officers, now)
    return {"open": {lv: c[lv] for lv in LEVELS},
            "new_today": c["new"], "overdue": c["overdue"], "on_duty": o["on_duty"],
            "officers": o["officers"]}


def child_stats(code: str, hierarchy: Hierarchy,
                counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, Any]]:
    """Open cases by level and worst level of each child of a region."""
    out = {}
    for child in hierarchy.children_of(code):
        c = region_counts(child, counts)
        top = worst(AlertLevel(lv) for lv in LEVELS if c[lv])
        out[child] = {**{lv: c[lv] for lv in LEVELS}, "level": top.value if top else None}
    return out
