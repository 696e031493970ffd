"""Message catalogue: Chinese (zh, default) and English (en) UI text; t(key, lang)."""
from __future__ import annotations

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

LEVELS = ("green", "yellow", "red")
CATEGORIES = ("dispute", "safety_hazard", "rental_housing", "fire", "work_safety", "food_drug",
              "public_order", "mental_health", "community_correction", "environment")
STATUSES = ("reported", "acknowledged", "dispatched", "on_scene", "resolved", "closed")

# key: (zh, en)
_MESSAGES: dict[str, tuple[str, str]] = {
    # case page, lists and actions
    "case.title": ("案件", "Case"),
    "case.category": ("类别", "Category"),
    "case.status": ("状态", "Status"),
    "case.level": ("预警", "Level"),
    "case.reported": ("上报时间", "Reported"),
    "case.reporter": ("上报人", "Reported by"),
    "case.assignee": ("处置人", "Assigned to"),
    "case.unassigned": ("未派遣", "Unassigned"),
    "case.deadline": ("时限", "Deadline"),
    "case.left": ("剩余", "left"),
    "case.overdue": ("超期", "overdue"),
    "case.description": ("描述", "Description"),
    "case.grid": ("网格", "Grid"),
    "case.timeline": ("处置时间线", "Timeline"),
    "case.audit": ("审计记录", "Audit trail"),
    "case.nearest": ("附近在岗网格员", "Nearest officers on duty"),
    "case.cameras": ("附近摄像头", "Nearest cameras"),
    "case.no_cameras": ("暂无摄像头登记", "No cameras registered nearby"),
    "case.no_officers": ("附近暂无在岗网格员", "No officer on duty nearby"),
    "case.actions": ("处置操作", "Actions"),
    "case.not_found": ("没有这个案件", "No such case"),
    "case.read_only": ("您的角色只能查看", "Your role can only view"),
    "case.sent": ("已提交，等待处理…", "Sent, being applied…"),
    "case.note_placeholder": ("填写备注…", "Write a note…"),
    "case.pick_officer": ("选择网格员", "Pick an officer"),
    "ev.reported": ("上报", "Reported"),
    "ev.status": ("状态变更", "Status"),
    "ev.level": ("预警变更", "Level"),
    "ev.assign": ("派遣", "Assigned"),
    "ev.escalate": ("升级", "Escalated"),
    "ev.note": ("备注", "Note"),
    "ev.refused": ("操作未执行", "Not applied"),
    "act.acknowledge": ("受理", "Acknowledge"),
    "act.assign": ("派遣", "Assign"),
    "act.escalate": ("升级", "Escalate"),
    "act.note": ("添加备注", "Add note"),
    "act.resolve": ("办结", "Resolve"),
    "act.close": ("结案", "Close"),
    "act.reopen": ("重新打开", "Reopen"),
    "list.cases": ("案件列表", "Cases"),
    "list.queue": ("调度队列", "Dispatch queue"),
    "list.queue_hint": ("未派遣与超期案件优先", "Unassigned and overdue first"),
    "list.age": ("已历时", "Age"),
    "list.due": ("时限", "Due"),
    "list.export": ("导出CSV", "Export CSV"),
    "list.empty": ("暂无未结案件", "No open cases"),
    "nav.stats": ("统计分析", "Statistics"),
    "audit.video.flag": ("标记视频研判", "Flagged for video review"),
    "audit.video.view": ("查看录像", "Watched a clip"),
    "audit.video.live": ("查看实时视频", "Watched live video"),
    "audit.video.review": ("完成研判", "Reviewed the video"),
    "audit.deadletter.resubmit": ("重新提交死信", "Resubmitted a refused message"),
    "audit.login": ("登录", "Signed in"),
    "audit.login.failed": ("登录失败", "Failed sign-in"),
    "audit.login.limited": ("登录受限（失败过多）", "Sign-in paused (too many failures)"),
    "audit.logout": ("退出登录", "Signed out"),
    "audit.audit.export": ("导出审计日志", "Exported the audit log"),
    "case.track": ("案发前后轨迹回放 →", "Who was near: track playback →"),
    "app.title": ("网格化指挥中心", "Gridwatch"),
    "app.subtitle": ("网格化指挥中心", "Grid Command Centre"),
    # region levels
    "region.city": ("市", "City"),
    "region.town": ("镇街", "Town"),
    "region.village": ("村（社区）", "Village"),
    "region.grid": ("网格", "Grid"),
    "nav.breadcrumbs": ("层级导航", "Breadcrumbs"),
    "nav.lang_switch": ("English", "中文"),
    "nav.lang_switch_title": ("切换到英文", "Switch to Chinese"),
    # alert levels (三色预警)
    "level.green": ("绿色", "Green"),
    "level.yellow": ("黄色", "Yellow"),
    "level.red": ("红色", "Red"),
    "level.none": ("无未结案件", "No open cases"),
    # categories
    "cat.dispute": ("矛盾纠纷", "Dispute"),
    "cat.safety_hazard": ("安全隐患", "Safety hazard"),
    "cat.rental_housing": ("出租屋", "Rental housing"),
    "cat.fire": ("消防", "Fire"),
    "cat.work_safety": ("安全生产", "Work safety"),
    "cat.food_drug": ("食品药品", "Food and drug"),
    "cat.public_order": ("治安", "Public order"),
    "cat.mental_health": ("精神障碍", "Mental health"),
    "cat.community_correction": ("社区矫正", "Community correction"),
    "cat.environment": ("环境卫生", "Environment"),
    # case statuses
    "status.reported": ("已上报", "Reported"),
    "status.acknowledged": ("已受理", "Acknowledged"),
    "status.dispatched": ("已派遣", "Dispatched"),
    "status.on_scene": ("已到场", "On scene"),
    "status.resolved": ("已办结", "Resolved"),
    "status.closed": ("已结案", "Closed"),
    # KPI strip
    "kpi.open_red": ("红色预警", "Open red"),
    "kpi.open_yellow": ("黄色预警", "Open yellow"),
    "kpi.open_green": ("绿色预警", "Open green"),
    "kpi.new_today": ("今日新增", "New today"),
    "kpi.overdue": ("超期未办", "Overdue"),
    "kpi.officers": ("在岗网格员", "Officers on duty"),
    "kpi.officers_total": ("总数", "total"),
    # connection and data freshness
    "conn.connecting": ("连接中", "Connecting"),
    "conn.open": ("已连接", "Live"),
    "conn.closed": ("已断开", "Disconnected"),
    "clock.as_of": ("数据时间", "Data as of"),
    "clock.stale": ("数据延迟", "Data delayed"),
    # map, legend and popups
    "map.label": ("态势地图", "Situation map"),
    "legend.title": ("图例", "Legend"),
    "legend.officer_on": ("在岗网格员", "Officer on duty"),
    "legend.officer_off": ("离岗网格员", "Officer off duty"),
    "legend.cluster": ("网格员聚合（人数）", "Officer cluster (count)"),
    "popup.category": ("类别", "Category"),
    "popup.status": ("状态", "Status"),
    "popup.age": ("已历时", "Age"),
    "popup.level": ("预警", "Alert"),
    "popup.grid": ("网格", "Grid"),
    "officer.on_duty": ("在岗", "On duty"),
    "officer.off_duty": ("离岗", "Off duty"),
    "age.just_now": ("刚刚", "just now"),
    "age.minutes": ("{n} 分钟", "{n} min"),
    "age.hours": ("{n} 小时", "{n} h"),
    "age.days": ("{n} 天", "{n} d"),
}


def norm_lang(lang: str | None) -> str:
    """The supported language for a requested one (zh unless it is en)."""
    return "en" if (lang or "").lower().startswith("en") else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The text of a message key in a language; the key itself if it is unknown."""
    pair = _MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if norm_lang(lang) == "en" else pair[0]


def level_name(level: str | None, lang: str = DEFAULT_LANG) -> str:
    """The display name of an alert level (or of "no open cases" for None)."""
    return t(f"level.{level}" if level else "level.none", lang)


def category_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a case category; the code itself for one not in the catalogue."""
    key = f"cat.{code}"
    return t(key, lang) if key in _MESSAGES else code


def status_name(code: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a case status; the code itself for one not in the catalogue."""
    key = f"status.{code}"
    return t(key, lang) if key in _MESSAGES else code


def keys() -> list[str]:
    """Every message key in the catalogue."""
    return list(_MESSAGES)


def catalogue(lang: str, prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """All messages of a language (only keys starting with one of prefixes, if given)."""
    return {k: t(k, lang) for k in _MESSAGES if not prefixes or k.startswith(prefixes)}
