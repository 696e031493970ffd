"""Small text formats shared by pages: local times, ages and SLA countdowns."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from layouts.i18n import t, tn

# China has kept UTC+8 without DST since 1991: a fixed offset keeps layouts free of I/O.
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_time(ts: float | None, with_date: bool = False) -> str:
    """Local (Asia/Shanghai) time of an epoch; '—' if missing."""
    if ts is None:
        return "—"
    dt = datetime.fromtimestamp(ts, UTC).astimezone(LOCAL_TZ)
    return dt.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def duration(seconds: float, lang: str) -> str:
    """A short human duration: 45秒 / 45 s, 12分, 2小时15分, 5小时, 3天4小时, 3天 (two units,
    each a plural message of the catalogue, joined by its dur.hm / dur.dh pattern)."""
    s = int(abs(seconds))
    if s < 60:
        return tn("dur.s", s, lang)
    m = s // 60
    if m < 60:
        return tn("dur.m", m, lang)
    h, m = divmod(m, 60)
    if h < 24:
        return t("dur.hm", lang, h=tn("dur.h", h, lang), m=tn("dur.m", m, lang)) if m else \
            tn("dur.h", h, lang)
    d, h = divmod(h, 24)
    return t("dur.dh", lang, d=tn("dur.d", d, lang), h=tn("dur.h", h, lang)) if h else \
        tn("dur.d", d, lang)


def minutes_text(minutes: int | None, lang: str) -> str:
    """A list's age or deadline cell from minutes: '3天4小时', '超期 5小时'; '—' if none."""
    if minutes is None:
        return "—"
    if minutes < 0:
        return f"{t('case.overdue', lang)} {duration(-minutes * 60, lang)}"
    return duration(minutes * 60, lang)


def countdown(due_ts: float | None, now: float, lang: str) -> str:
    """Time left to an SLA deadline, or how far past it."""
    if due_ts is None:
        return "—"
    left = due_ts - now
    if left >= 0:
        return f"{t('case.left', lang)} {duration(left, lang)}"
    return f"{t('case.overdue', lang)} {duration(-left, lang)}"
