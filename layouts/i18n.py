"""Message catalogue: Chinese (zh, default) and English (en) UI text; t(key, lang)."""
from __future__ import annotations

import json
import logging

from domain.alerts import LEVELS
from domain.model import CATEGORIES, STATUSES
from layouts.i18n_field import FIELD_MESSAGES

log = logging.getLogger(__name__)

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

__all__ = ["CATEGORIES", "LEVELS", "STATUSES"]  # the domain's codes, re-exported for layouts

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
    "case.photos": ("现场照片", "Photos from the field"),
    "case.no_photos": ("暂无照片", "No photos yet"),
    "case.photo_alt": ("现场照片", "Photo from the field"),
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
    # the downlink: tasks on the officers' phones (issue 13)
    "act.on_scene": ("到达现场", "On scene"),
    "act.accept": ("网格员接单", "Accepted by the officer"),
    "ev.accepted": ("接单", "Accepted"),
    "ev.task_delivered": ("已送达终端", "Delivered to phone"),
    "ev.task_acked": ("终端已确认", "Acknowledged on phone"),
    "ev.photo": ("现场照片", "Photo from the field"),
    "task.unassign": ("改派", "reassigned"),
    "task.assign": ("派遣", "dispatch"),
    "task.escalate": ("升级", "escalation"),
    "task.note": ("备注", "note"),
    "case.delivery.pending": ("未送达", "not yet delivered"),
    "case.delivery.delivered": ("已送达，待确认", "delivered, not yet acknowledged"),
    "case.delivery.acked": ("终端已确认", "acknowledged on the phone"),
    "list.cases": ("案件列表", "Cases"),
    "list.queue": ("调度队列", "Dispatch queue"),
    "list.queue_hint": ("未派遣与超期案件优先", "Unassigned and overdue first"),
    "list.age": ("已历时", "Age"),
    "list.due": ("时限", "Due"),
    "list.export": ("导出CSV", "Export CSV"),
    "list.filter": ("筛选…", "filter…"),
    # Plotly's buttons on the statistics charts (layouts/stats_view.graph_config)
    "plot.download": ("下载图片（PNG）", "Download plot as a png"),
    "plot.zoom": ("框选放大", "Zoom"),
    "plot.pan": ("平移", "Pan"),
    "plot.zoom_in": ("放大", "Zoom in"),
    "plot.zoom_out": ("缩小", "Zoom out"),
    "plot.autoscale": ("自动缩放", "Autoscale"),
    "plot.reset": ("重置坐标轴", "Reset axes"),
    "plot.double_click": ("双击恢复原始比例", "Double-click to zoom back out"),
    # the texts of a dcc.Dropdown (dropdown_labels)
    "dd.search": ("搜索", "Search"),
    "dd.clear_search": ("清除搜索", "Clear search"),
    "dd.clear_selection": ("清除选择", "Clear selection"),
    "dd.no_options_found": ("没有可选项", "No options found"),
    "dd.select_all": ("全选", "Select all"),
    "dd.deselect_all": ("全不选", "Deselect all"),
    "dd.selected_count": ("已选 {num_selected} 项", "{num_selected} selected"),
    "list.empty": ("暂无未结案件", "No open cases"),
    "nav.stats": ("统计分析", "Statistics"),
    "auditlog.title": ("审计日志", "Audit log"),
    "auditlog.hint": ("登录、失败登录、操作与视频查看记录，最新在前。",
                      "Sign-ins, failed sign-ins, actions and video views, newest first."),
    "auditlog.user": ("用户", "User"),
    "auditlog.kind": ("类别", "Kind"),
    "auditlog.kind.all": ("全部", "All"),
    "auditlog.kind.login": ("登录", "Sign-ins"),
    "auditlog.kind.logout": ("退出", "Sign-outs"),
    "auditlog.kind.case": ("案件操作", "Case actions"),
    "auditlog.kind.video": ("视频", "Video"),
    "auditlog.kind.deadletter": ("死信", "Dead letters"),
    "auditlog.since": ("开始时间", "From"),
    "auditlog.until": ("结束时间", "Until"),
    "auditlog.time_hint": ("YYYY-MM-DD HH:MM（本地时间）", "YYYY-MM-DD HH:MM (local time)"),
    "auditlog.apply": ("筛选", "Filter"),
    "auditlog.csv": ("导出CSV", "Export CSV"),
    "auditlog.when": ("时间", "When"),
    "auditlog.action": ("操作", "Action"),
    "auditlog.target": ("对象", "Target"),
    "auditlog.region": ("区域", "Region"),
    "auditlog.detail": ("详情", "Detail"),
    "auditlog.empty": ("没有符合条件的记录", "No entries match"),
    "auditlog.shown": ("显示 {n} 条", "Entries shown: {n}"),
    "auditlog.back": ("← 返回地图", "← Back to the map"),
    "auditlog.scope": ("范围", "Scope"),
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
    "cat.mental_health": ("精神障碍", "Mental-health risk"),
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
    # administration: dead letters
    "admin.title": ("死信队列 · 被拒消息", "Dead letters · refused messages"),
    "admin.hint": ("每条被网关拒绝的消息都保存在此，附原因与来源。修改后可重新提交。",
                   "Every message the gateway refused is kept here with its reason and source. "
                   "Fix one and resubmit it."),
    "admin.reason": ("原因", "Reason"),
    "admin.source": ("来源", "Source"),
    "admin.resubmit": ("重新提交", "Resubmit"),
    "admin.done": ("已重新提交", "Resubmitted"),
    "admin.empty": ("没有被拒消息", "No refused messages"),
    "admin.back": ("← 返回地图", "← Back to the map"),
    "admin.nav.audit": ("审计日志", "Audit log"),
    "admin.nav.deadletters": ("死信队列", "Dead letters"),
    "admin.nav.logout": ("退出登录", "Sign out"),
    # track playback
    "track.title": ("轨迹回放", "Track playback"),
    "track.play": ("播放", "Play"),
    "track.pause": ("暂停", "Pause"),
    "track.speed": ("速度", "Speed"),
    "track.follow": ("跟随", "Follow"),
    "track.officer": ("网格员", "Officer"),
    "track.fixes": ("定位点", "Fixes"),
    "track.km": ("里程(公里)", "Distance (km)"),
    "track.stops": ("停留", "Stops"),
    "track.avg": ("均速(公里/时)", "Avg speed (km/h)"),
    "track.period": ("时段", "Period"),
    "track.near": ("案发时附近网格员", "Officers near the case then"),
    "track.none": ("该时段没有定位记录", "No fixes in this period"),
    "track.case": ("案件", "Case"),
    "track.back": ("← 返回", "← Back"),
    # video review
    "video.title.queue": ("视频研判", "Video review"),
    "video.title.event": ("事件视频", "Event video"),
    "video.nav.map": ("态势地图", "Map"),
    "video.nav.queue": ("待研判队列", "Review queue"),
    "video.col.level": ("预警", "Level"),
    "video.col.case": ("案件", "Case"),
    "video.col.category": ("类别", "Category"),
    "video.col.flagged": ("标记时间", "Flagged"),
    "video.col.reason": ("来源", "Source"),
    "video.col.clips": ("视频", "Clips"),
    "video.col.review": ("研判", "Review"),
    "video.col.open": ("查看", "Open"),
    "video.reason.red": ("转红自动标记", "Turned red"),
    "video.reason.manual": ("人工标记", "Flagged by"),
    "video.reason.motion": ("移动侦测", "Motion detected"),
    "video.event.motion": ("摄像头移动侦测", "Camera motion"),
    "video.event.no_case": ("无关联案件", "No case attached"),
    "video.status.pending": ("等待录制", "Waiting"),
    "video.status.recording": ("录制中", "Recording"),
    "video.status.ready": ("已生成", "Ready"),
    "video.status.no_cameras": ("附近无摄像头", "No camera near"),
    "video.status.failed": ("无可用画面", "No footage"),
    "video.review.todo": ("待研判", "To review"),
    "video.review.done": ("已研判", "Reviewed"),
    "video.review.button": ("标记为已研判", "Mark reviewed"),
    "video.review.note": ("研判意见（可选）…", "Review note (optional)…"),
    "video.review.saved": ("已保存研判结果", "Review saved"),
    "video.review.read_only": ("仅研判员和管理员可标记研判",
                               "Only reviewers and admins can review"),
    "video.queue.empty": ("暂无被标记的事件", "No flagged events"),
    "video.event.case": ("关联案件", "Case"),
    "video.case.status": ("案件状态", "Case status"),
    "video.case.reported": ("上报时间", "Reported"),
    "video.case.grid": ("网格", "Grid"),
    "video.event.open_case": ("打开案件页", "Open case page"),
    "video.event.clips": ("周边摄像头录像", "Nearby camera clips"),
    "video.event.flagged_at": ("标记时刻", "Flagged at"),
    "video.event.window": ("录像区间", "Window"),
    "video.event.by": ("标记人", "Flagged by"),
    "video.event.status": ("视频状态", "Clip status"),
    "video.event.no_clips": ("暂无录像", "No clips"),
    "video.event.wait": ("录像将在 {t} 后生成，请稍后刷新",
                         "Clips are ready after {t}; reload then"),
    "video.event.reload": ("刷新", "Reload"),
    "video.event.expired": ("录像已过期或未生成", "Clip expired or not made"),
    "video.clip.live": ("实时", "Live"),
    "video.clip.out": ("该时段无画面", "No footage at this time"),
    "video.timeline.hint": ("拖动或播放任一画面，其余同步",
                            "Scrub or play any clip; all follow"),
    "video.case.video": ("视频研判", "Video review"),
    "video.case.flag": ("标记视频研判", "Flag for video review"),
    "video.case.flagged": ("已标记，事件 {id}", "Flagged as event {id}"),
    "video.case.no_events": ("尚未标记", "Not flagged yet"),
    # statistics page
    "stats.page": ("统计分析", "Statistics"),
    "stats.back": ("← 返回地图", "← Back to map"),
    "stats.window": ("近{n}天", "Last {n} days"),
    "stats.as_of": ("统计截至", "As of"),
    "stats.kpi.cases": ("案件总数", "Cases"),
    "stats.kpi.open": ("尚未办结", "Still open"),
    "stats.kpi.red": ("达到红色预警", "Reached red"),
    "stats.kpi.dispatch": ("平均派遣用时", "Mean to dispatch"),
    "stats.kpi.dispatch_p90": ("派遣用时 P90", "P90 to dispatch"),
    "stats.kpi.resolve": ("平均办结用时", "Mean to resolve"),
    "stats.chart.by_category": ("每日案件 · 按类别", "Cases per day by category"),
    "stats.chart.by_level": ("每日案件 · 按预警等级", "Cases per day by alert level"),
    "stats.chart.cases": ("案件数", "Cases"),
    "stats.chart.empty": ("该时段暂无案件", "No cases in this period"),
    "stats.times.title": ("处置用时 · 从上报起算", "Handling times · from report"),
    "stats.times.category": ("类别", "Category"),
    "stats.times.all": ("全部类别", "All categories"),
    "stats.times.dispatch": ("至派遣", "To dispatch"),
    "stats.times.resolve": ("至办结", "To resolve"),
    "stats.times.n": ("件数", "n"),
    "stats.times.mean": ("平均", "Mean"),
    "stats.times.p90": ("P90", "P90"),
    "stats.times.on_time": ("按时率", "On time"),
    "stats.times.sla": ("时限", "SLA"),
    "stats.times.over": ("超过时限", "Over the SLA"),
    "stats.hot.title": ("高发网格 · 近{n}天", "Hotspot grids · last {n} days"),
    "stats.hot.rank": ("#", "#"),
    "stats.hot.grid": ("网格", "Grid"),
    "stats.hot.count": ("案件", "Cases"),
    "stats.hot.share": ("占比", "Share"),
    "stats.hot.red": ("红色", "Red"),
    "stats.hot.category": ("主要类别", "Main category"),
    "stats.hot.top_title": ("常见事项", "Most frequent"),
    "stats.hot.empty": ("该时段无案件", "No cases in this period"),
    "stats.unit.min": ("{n} 分钟", "{n} min"),
    "stats.unit.h": ("{n} 小时", "{n} h"),
    "stats.unit.d": ("{n} 天", "{n} d"),
    # cameras on the map
    "cam.state.online": ("在线", "Online"),
    "cam.state.stale": ("画面延迟", "Stale"),
    "cam.state.offline": ("离线", "Offline"),
    "cam.live": ("实时画面", "Live stream"),
    "cam.snapshot": ("快照", "Snapshot"),
    "cam.camera": ("摄像头", "Camera"),
    "cam.grid": ("网格", "Grid"),
    "cam.legend": ("摄像头", "Cameras"),
    # business-grid overlays
    "overlay.grids": ("{n} 个基础网格", "{n} base grids"),
    "overlay.grid": ("{n} 个基础网格", "{n} base grid"),
    # durations (layouts.format.duration and assets/cases.js)
    "dur.s": ("{s}秒", "{s} s"),
    "dur.m": ("{m}分", "{m} min"),
    "dur.h": ("{h}小时", "{h} h"),
    "dur.hm": ("{h}小时{m}分", "{h} h {m} min"),
    "dur.d": ("{d}天", "{d} d"),
    "dur.dh": ("{d}天{h}小时", "{d} d {h} h"),
    "list.minutes": ("（分）", " (min)"),
    "video.timeline": ("时间轴", "Timeline"),
    "video.play": ("播放", "Play"),
    # full-page messages (not found, forbidden)
    "msg.not_found": ("404 · 未找到", "404 · Not found"),
    "msg.forbidden": ("403 · 无权访问", "403 · Forbidden"),
    "msg.back": ("← 返回首页", "← Back to the start page"),
    "msg.no_page": ("没有这个页面", "No such page"),
    "msg.no_region": ("没有这个区域", "No such region"),
    "msg.no_case": ("没有这个案件", "No such case"),
    "msg.no_event": ("没有这个事件", "No such event"),
    "msg.no_track": ("没有这个网格员或网格", "No such officer or grid"),
    "msg.out_of_scope": ("超出您的权限范围", "Outside your scope"),
    "msg.admins_only": ("仅限管理员", "Administrators only"),
    # sign-in page
    "login.title": ("网格化指挥中心 · 登录", "Gridwatch · Sign in"),
    "login.user": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.limited": ("登录失败次数过多，请在 {s} 秒后再试",
                      "Too many failed sign-ins; try again in {s} seconds"),
    "login.csrf": ("登录表单已过期，请刷新页面后重试", "The sign-in form expired; reload the page"),
    "nav.sign_out": ("退出", "Sign out"),
    # refused actions (shown after a button press)
    "err.not_now": ("案件当前状态不允许此操作", "Not possible in the case's current status"),
    "err.need_officer": ("请先选择网格员", "Pick an officer first"),
    "err.need_note": ("请填写备注内容", "Write the note first"),
    "err.not_permitted": ("您的角色无权执行此操作", "Your role may not do this"),
    "err.out_of_scope": ("超出您的权限范围", "Outside your scope"),
    "err.not_found": ("未找到", "Not found"),
    # wall mode (assets/wall.js)
    "wall.stale_title": ("数据已停止更新", "DATA NOT UPDATING"),
    "wall.stale_since": ("最后一次更新", "Last update"),
    "wall.stale_hint": ("画面内容可能已过时", "What this screen shows may be out of date"),
    "wall.ago": ("{t}前", "{t} ago"),
    "wall.sec": ("{n} 秒", "{n} s"),
    "wall.min": ("{n} 分 {s} 秒", "{n} min {s} s"),
    "wall.hour": ("{n} 小时 {m} 分", "{n} h {m} min"),
    "wall.next": ("{n} 秒后切换", "next in {n} s"),
    "wall.new_red": ("新红色预警", "NEW RED CASE"),
    "wall.red_case": ("红色预警案件", "Red case"),
    "wall.reported": ("上报时间", "Reported"),
    "wall.grid": ("网格", "Grid"),
    "wall.category": ("类别", "Category"),
    # Open311 GeoReport v2 (dashboard/open311.py): service texts and public status notices
    "o311.service_desc": ("市民可上报的{name}问题，由网格员处置",
                          "{name} problems citizens can report; grid officers handle them"),
    "o311.received": ("已收到您的{name}诉求，将尽快受理", "Your {name} request was received"),
    "o311.notice.reported": ("已收到，等待受理", "Received, awaiting review"),
    "o311.notice.acknowledged": ("已受理，正在安排处置", "Accepted, being scheduled"),
    "o311.notice.dispatched": ("已派遣网格员处置", "An officer has been sent"),
    "o311.notice.on_scene": ("网格员已到场处置", "An officer is on site"),
    "o311.notice.resolved": ("已办结", "Resolved"),
    "o311.notice.closed": ("已结案", "Closed"),
}
_MESSAGES.update(FIELD_MESSAGES)  # the field terminal's texts (m.*), kept in their own module


def norm_lang(lang: str | None) -> str:
    """The supported language for a requested one (zh unless it is en)."""
    return "en" if (lang or "").lower().startswith("en") else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The text of a message key in a language ({name} fields filled from fmt); the key itself
    if it is unknown."""
    pair = _MESSAGES.get(key)
    if pair is None:
        log.warning("no message %s in the catalogue", key)
        return key
    text = pair[1] if norm_lang(lang) == "en" else pair[0]
    return text.format(**fmt) if fmt else text


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


def pick_lang(url: str | None, saved: str | None, default: str | None) -> str:
    """The language of a page: the URL's ?lang= first, then the user's saved choice, then the
    settings' default."""
    for lang in (url, saved, default):
        if lang:
            return norm_lang(lang)
    return DEFAULT_LANG


def switch_href(lang: str) -> str:
    """The language switch's link: to the other language, remembered for the user
    (dashboard/lang.py answers it and goes back to the page)."""
    return "/lang/" + ("zh" if norm_lang(lang) == "en" else "en")


POPUP_KEYS = ("cat.", "status.", "level.", "popup.", "age.", "dur.", "officer.")  # markers, popups
# what the page scripts write: cases.js's countdowns, gridwatch.js's own case markers
JS_KEYS = ("dur.", "case.left", "case.overdue", *POPUP_KEYS)


def js_texts(lang: str) -> str:
    """The JSON blob of texts the page's scripts write (the root's data-i18n attribute)."""
    return json.dumps(catalogue(lang, JS_KEYS), ensure_ascii=False)


FIELD_KEYS = ("m.", "cat.", "status.", "level.", "nav.lang_switch")  # the field terminal's


def field_texts(lang: str) -> dict[str, str]:
    """The texts the field terminal /m/ shows (served to it as JSON, kept for offline use)."""
    return catalogue(lang, FIELD_KEYS)


def dropdown_labels(lang: str) -> dict[str, str]:
    """The texts a dcc.Dropdown shows itself (search, clear, none found ...)."""
    return {k[3:]: v for k, v in catalogue(lang, ("dd.",)).items()}


def has(key: str) -> bool:
    """Whether the catalogue holds a message key."""
    return key in _MESSAGES


def keys() -> list[str]:
    """Every message key in the catalogue."""
    return list(_MESSAGES)


def catalogue(lang: str, prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """All messages of a language (only keys starting with one of prefixes, if given)."""
    return {k: t(k, lang) for k in _MESSAGES if not prefixes or k.startswith(prefixes)}
