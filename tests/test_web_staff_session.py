"""The staff session cookie and CSRF token (pure): any change to a cookie is no session, tokens are bound to
their session, the login throttle counts per address, and the staff texts exist in both languages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indikera.web.staff import session
from indikera.web.staff.texts import TEXTS
from indikera.web.staff.throttle import FailedLogins

KEY = b"k" * 32


@given(st.integers(0, 10_000), st.sampled_from("ABCxyz019-_.="))
def test_any_changed_character_makes_the_cookie_worthless(position, char):
    s, value = session.issue(KEY, "anna", "token", now=1000)
    i = position % len(value)
    forged = value[:i] + char + value[i + 1:]
    got = session.read(KEY, forged, now=1001)
    # never another session: a change is refused, or (unused base64 padding bits) decodes to the same bytes
    assert got is None or got == s


def test_expiry_and_keys():
    s, value = session.issue(KEY, "anna", "token", now=1000)
    assert session.read(KEY, value, now=1000 + session.LIFETIME_SECONDS - 1) == s
    assert session.read(KEY, value, now=1000 + session.LIFETIME_SECONDS) is None
    assert session.read(b"other" * 8, value, now=1001) is None
    for bad in (None, "", ".", "a.b", "x" * 2000, value + "." + value):
        assert session.read(KEY, bad, now=1001) is None


def test_csrf_token_is_bound_to_the_session():
    a, _ = session.issue(KEY, "anna", "token")
    b, _ = session.issue(KEY, "anna", "token")
    assert session.csrf_ok(KEY, a, session.csrf_token(KEY, a))
    assert not session.csrf_ok(KEY, a, session.csrf_token(KEY, b))
    assert not session.csrf_ok(KEY, a, None) and not session.csrf_ok(KEY, a, "")
    assert not session.csrf_ok(b"other" * 8, a, session.csrf_token(KEY, a))


def test_throttle_per_address_and_window():
    t = FailedLogins(limit=3, window=60)
    for i in range(3):
        assert not t.blocked("1.2.3.4", now=i)
        t.failed("1.2.3.4", now=i)
    assert t.blocked("1.2.3.4", now=10) and not t.blocked("5.6.7.8", now=10)
    assert not t.blocked("1.2.3.4", now=63)


def test_staff_texts_exist_in_both_languages():
    assert TEXTS["sv"].keys() == TEXTS["en"].keys()
