"""The track playback page, pure: controls, paths, stats, near list, text stays text."""
from __future__ import annotations

import json

from layouts.track_view import TrackView, track_page


def vm(**kw) -> TrackView:
    base = dict(subject="网格1", back_href="/grid/441900101001001", t0=1000.0, t1=4600.0,
                tracks={"O1": [[1000, 113.7, 23.0], [1600, 113.71, 23.0]]},
                names={"O1": "<b>张三</b>"},
                stats={"O1": {"fixes": 2, "km": 1.02, "stops": 0, "avg_kmh": 6.1}},
                stops=[], incident={"id": "I1", "title": "<img src=x>", "lon": 113.7,
                                    "lat": 23.0, "ts": 1300.0, "level": "red"},
                near=[{"officer_id": "O1", "name": "<b>张三</b>", "dist_m": 12.0}])
    base.update(kw)
    return TrackView(**base)


def dump(c) -> str:
    return json.dumps(c.to_plotly_json(), default=lambda o: o.to_plotly_json(),
                      ensure_ascii=False)


def test_page_has_controls_paths_and_stats_in_both_languages():
    for lang, word in (("zh", "轨迹回放"), ("en", "Track playback")):
        text = dump(track_page(vm(lang=lang)))
        assert word in text and "gw-track-play" in text and "gw-track-speed" in text
        assert "gw-track-slider" in text and "gw-track-follow" in text
        assert "1.02" in text and "12 m" in text
        data = json.loads(next(c for c in [track_page(vm(lang=lang))]).to_plotly_json()[
            "props"]["data-track"])
        assert data["tracks"]["O1"][1] == [1600, 113.71, 23.0]


def test_field_text_is_passed_as_text_and_empty_periods_say_so():
    text = dump(track_page(vm()))
    assert "<b>张三</b>" in text and "<img src=x>" in text  # as strings, never as markup
    assert "dangerously" not in text
    empty = dump(track_page(vm(tracks={}, stats={}, incident=None, near=[])))
    assert "该时段没有定位记录" in empty
