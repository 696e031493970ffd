"""Small text formats shared by pages: local times, ages and SLA countdowns."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from layouts.i18n import t

# China has kept UTC+8 without DST since 1991: a fixed offset keeps layouts free of I/O.
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_time(ts: float | None, with_date: bool = False) -> str:
    """Local (Asia/Shanghai) time of an epoch; '—' if missing."""
    if ts is None:
        return "—"
    dt = datetime.fromtimestamp(ts, UTC).astimezone(LOCAL_TZ)
    return dt.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def duration(seconds: float, lang: str) -> str:
    """A short human duration: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    s = int(abs(seconds))
    if s < 60:
        return t("dur.s", lang, s=s)
    m = s // 60
    if m < 60:
        return t("dur.m", lang, m=m)
    h, m = divmod(m, 60)
    if h < 48:
        return t("dur.hm", lang, h=h, m=m)
    d, h = divmod(h, 24)
    return t("dur.dh", lang, d=d, h=h)


def countdown(due_ts: float | None, now: float, lang: str) -> str:
    """Time left to an SLA deadline, or how far past it."""
    if due_ts is None:
        return "—"
    left = due_ts - now
    if left >= 0:
        return f"{t('case.left', lang)} {duration(left, lang)}"
    return f"{t('case.overdue', lang)} {duration(-left, lang)}"
