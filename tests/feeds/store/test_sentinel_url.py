"""redis+sentinel:// URLs: their parts, and bad ones stopping start-up with the part named."""
from __future__ import annotations

import pytest

from feeds.store.sentinel_url import SentinelURL, is_sentinel_url, parse_sentinel_url


def test_a_sentinel_url_gives_its_sentinels_service_db_and_logins():
    u = parse_sentinel_url("redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380,"
                           "sentinel-3/mymaster/2?sentinel_password=watch")
    assert u == SentinelURL(sentinels=(("10.0.0.1", 26379), ("10.0.0.2", 26380),
                                       ("sentinel-3", 26379)),
                            service="mymaster", db=2, username=None, password="s@cret",
                            sentinel_password="watch")
    assert parse_sentinel_url("redis+sentinel://h/gw") == SentinelURL((("h", 26379),), "gw")
    assert parse_sentinel_url("redis+sentinel://app:pw@[::1]:5000/gw/0").sentinels == (
        ("::1", 5000),)
    assert parse_sentinel_url("redis+sentinel://app:pw@h/gw").username == "app"
    assert is_sentinel_url("redis+sentinel://h/gw") and not is_sentinel_url("redis://h:6379")


@pytest.mark.parametrize(("url", "part"), [
    ("redis+sentinel://h1:26379", "service"),
    ("redis+sentinel://h1:26379/", "service"),
    ("redis+sentinel:///mymaster/0", "hosts"),
    ("redis+sentinel://h1:26379,/mymaster", "hosts"),
    ("redis+sentinel://h1:99999/mymaster", "hosts"),
    ("redis+sentinel://h1:port/mymaster", "hosts"),
    ("redis+sentinel://h1/mymaster/x", "db"),
    ("redis+sentinel://h1/mymaster/16", "db"),
    ("redis+sentinel://h1/mymaster/0/extra", "path"),
    ("redis+sentinel://h1/my master", "service"),
    ("redis+sentinel://h1/mymaster?password=x", "query"),
])
def test_a_bad_sentinel_url_names_the_part_that_is_wrong(url, part):
    with pytest.raises(ValueError, match=rf"^redis\+sentinel URL {part}: .*shape: "):
        parse_sentinel_url(url)

