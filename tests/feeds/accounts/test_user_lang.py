"""A user's preferred language, kept with the user record in a real Redis."""
from __future__ import annotations

import pytest

from domain.access import Role
from feeds.accounts import auth
from feeds.store.client import sync_client


def test_language_is_saved_with_the_user_and_changed_atomically(redis_url):
    client = sync_client(redis_url)
    auth.add_user(client, "li", "password-1", Role.DUTY, "441900101")
    auth.add_user(client, "amy", "password-2", Role.VIEWER, "441900", lang="en")
    assert auth.user_lang(client, "li") == "zh" and auth.user_lang(client, "amy") == "en"
    assert auth.user_langs(client) == {"li": "zh", "amy": "en"}
    assert auth.set_user_lang(client, "li", "en") is True
    assert auth.user_lang(client, "li") == "en"
    user = auth.authenticate(client, "li", "password-1")  # the record survived the change
    assert user is not None and user.role is Role.DUTY and user.scope == "441900101"
    assert auth.set_user_lang(client, "nobody", "en") is False
    assert auth.user_lang(client, "nobody") is None
    with pytest.raises(ValueError):  # a language code (the web app offers its locales)
        auth.set_user_lang(client, "li", "fr<script>")
    with pytest.raises(ValueError):
        auth.add_user(client, "x", "password-3", Role.VIEWER, "441900", lang="German")
    assert auth.set_user_lang(client, "li", "fr") is True  # a locale added as a new .po
    assert auth.user_lang(client, "li") == "fr"
    client.close()
