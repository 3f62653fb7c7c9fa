"""Dashboard sign-in through a fake Entra ID over HTTPS: who gets in, and every forgery refused."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
import pytest
from backends.idp_fake import FakeIdentityProvider, FakeUser
from backends.web_app import (
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET,
    TENANT,
    client,
    dashboard,
    example_config,
    make_app,
    running,
    sign_in,
    through_idp,
)

from bot.clock import LONDON, FixedClock
from bot.config import DashboardSettings
from bot.views.web.auth import SignInConfigError
from bot.views.web.gate import safe_next
from bot.views.web.staff import StaffDirectory, staff_directory
from bot.views.web.tokens import identity_addresses

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=LONDON)
JANE = FakeUser("jane.smith@council.example", "Jane Smith", email="jane.smith@council.example")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def idp(tmp_path: Path, clock: FixedClock) -> Iterator[FakeIdentityProvider]:
    fake = FakeIdentityProvider(
        tmp_path / "idp",
        clock.now,
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[CALLBACK],
    ).start()
    fake.user = JANE
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCBOT_TEST_DASHBOARD_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CCBOT_TEST_SESSION_SECRET", SESSION_SECRET)


def settings_for(idp: FakeIdentityProvider, **sign_in: Any) -> DashboardSettings:
    return dashboard({"authority": idp.authority, "ca_bundle": str(idp.tls.ca_file), **sign_in})


def test_a_member_of_staff_signs_in_and_lands_on_the_page_they_asked_for(
    idp: FakeIdentityProvider, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    web = client(make_app(settings_for(idp), clock))
    asked = web.get("/cases/CC-2026-0007")
    assert (asked.status_code, asked.headers["location"]) == (303, "/sign-in")

    with caplog.at_level(logging.DEBUG):
        done = sign_in(web, idp.tls.ca_file, start="/cases/CC-2026-0007")

    assert (done.status_code, done.headers["location"]) == (303, "/cases/CC-2026-0007")
    page = web.get("/cases/CC-2026-0007")
    assert page.text == "case CC-2026-0007 for Jane Smith"
    assert "Jane Smith|jane.smith@council.example|cmo" in web.get("/").text
    # The code was redeemed with its PKCE verifier, and nobody's name reached the logs.
    assert idp.counts[f"/{TENANT}/oauth2/v2.0/token"] == 1
    assert "jane" not in caplog.text.lower()
    assert "sign-in accepted" in caplog.text


def test_the_session_cookie_is_httponly_and_samesite_lax_not_secure_on_plain_loopback(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp), clock))
    done = sign_in(web, idp.tls.ca_file)
    cookie = done.headers["set-cookie"]
    assert cookie.startswith("ccbot-session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags
    assert "jane" not in cookie.lower()  # the cookie holds an id, not the address in clear


def test_someone_not_in_the_directory_is_refused_and_told_who_to_ask(
    idp: FakeIdentityProvider, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    idp.user = FakeUser("temp.worker@council.example", "Temp Worker")
    web = client(make_app(settings_for(idp), clock))
    with caplog.at_level(logging.INFO):
        refused = sign_in(web, idp.tls.ca_file)
    assert refused.status_code == 403
    assert "temp.worker@council.example" in refused.text
    assert "Peter Jones (peter.jones@council.example)" in refused.text  # the admin
    assert web.get("/").status_code == 303  # still not signed in
    assert "temp.worker" not in caplog.text and "not a member of staff" in caplog.text


def test_a_referrer_in_the_directory_is_not_staff_and_is_refused(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    idp.user = FakeUser("sam.ward@council.example", "Sam Ward")
    web = client(make_app(settings_for(idp), clock))
    assert sign_in(web, idp.tls.ca_file).status_code == 403
    assert web.get("/").status_code == 303


def test_a_guest_whose_unverified_email_matches_staff_is_refused(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    idp.user = FakeUser(
        "jane@elsewhere.example",
        "Not Jane",
        email="jane.smith@council.example",
        home_issuer="https://sts.windows.net/another-tenant/",
    )
    web = client(make_app(settings_for(idp), clock))
    assert sign_in(web, idp.tls.ca_file).status_code == 403


def test_a_member_whose_sign_in_name_differs_is_found_by_their_email(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    idp.user = FakeUser(
        "jsmith@council.onmicrosoft.example", "Jane", email="Jane.Smith@council.example"
    )
    web = client(make_app(settings_for(idp), clock))
    assert sign_in(web, idp.tls.ca_file).status_code == 303
    assert web.get("/").text.startswith("<p>Jane Smith|")


@pytest.mark.parametrize(
    ("signing", "claims"),
    [
        ("tampered", {}),
        ("foreign", {}),
        ("none", {}),
        ("own", {"aud": "00000000-0000-4000-8000-000000000bad"}),
        ("own", {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0"}),
        ("own", {"exp": int((NOW - timedelta(minutes=10)).timestamp())}),
        ("own", {"iat": int((NOW + timedelta(hours=1)).timestamp())}),
        ("own", {"iat": int((NOW - timedelta(hours=2)).timestamp())}),
        ("own", {"nonce": "not-the-nonce-of-this-sign-in"}),
        ("own", {"nonce": None}),
    ],
    ids=[
        "tampered",
        "foreign-key",
        "unsigned",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "issued-in-future",
        "stale",
        "wrong-nonce",
        "no-nonce",
    ],
)
def test_an_id_token_that_fails_a_check_is_refused(
    idp: FakeIdentityProvider,
    clock: FixedClock,
    signing: str,
    claims: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    idp.signing, idp.claims = signing, claims
    web = client(make_app(settings_for(idp), clock))
    with caplog.at_level(logging.WARNING):
        refused = sign_in(web, idp.tls.ca_file)
    assert refused.status_code == 403, refused.text
    assert "did not confirm who you are" in refused.text
    assert web.get("/").status_code == 303
    assert "sign-in refused" in caplog.text


def test_the_same_token_rules_pass_a_good_token_from_this_fake(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    """The refusals above are not a fake that always fails: expiry within leeway still passes."""
    idp.claims = {"exp": int((NOW - timedelta(seconds=60)).timestamp())}
    web = client(make_app(settings_for(idp), clock))
    assert sign_in(web, idp.tls.ca_file).status_code == 303


def test_a_response_with_another_state_is_refused_before_any_code_is_redeemed(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp), clock))
    start = web.get("/sign-in")
    back = through_idp(start.headers["location"], idp.tls.ca_file)
    params = dict(parse_qsl(urlsplit(back).query))
    forged = web.get("/auth/callback?" + urlencode({**params, "state": "someone-elses-state"}))
    assert forged.status_code == 400
    assert idp.counts[f"/{TENANT}/oauth2/v2.0/token"] == 0
    # Another browser (an attacker who captured the URL) has no such sign-in under way.
    other = client(make_app(settings_for(idp), clock))
    assert other.get(back).status_code == 400
    # The real browser completes; the same response again redeems nothing.
    assert web.get(back).status_code == 303
    assert web.get(back).status_code == 303
    assert idp.counts[f"/{TENANT}/oauth2/v2.0/token"] == 1


def test_a_cancelled_sign_in_is_not_a_sign_in(idp: FakeIdentityProvider, clock: FixedClock) -> None:
    idp.user = None  # the person closes the Microsoft page: access_denied
    web = client(make_app(settings_for(idp), clock))
    assert sign_in(web, idp.tls.ca_file).status_code == 403
    assert web.get("/").status_code == 303


def test_two_tabs_signing_in_at_once_both_end_signed_in(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp), clock))
    first = through_idp(web.get("/sign-in").headers["location"], idp.tls.ca_file)
    second = through_idp(web.get("/sign-in").headers["location"], idp.tls.ca_file)
    assert web.get(first).status_code == 303  # the older sign-in is still known
    assert web.get(second).headers["location"] == "/"  # already in: nothing more redeemed
    assert idp.counts[f"/{TENANT}/oauth2/v2.0/token"] == 1


def test_a_sign_in_ends_after_its_hours_by_the_clock(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp, session_hours=8), clock))
    sign_in(web, idp.tls.ca_file)
    clock.set(NOW + timedelta(hours=7, minutes=59))
    assert web.get("/").status_code == 200
    clock.set(NOW + timedelta(hours=8, minutes=1))
    assert web.get("/").headers["location"] == "/sign-in"


def test_taking_someone_out_of_the_directory_locks_them_out_at_once(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    settings = settings_for(idp)
    web = client(make_app(settings, clock))
    sign_in(web, idp.tls.ca_file)
    config = example_config()
    without_jane = StaffDirectory(
        tuple(p for p in config.people if p.id != "jsmith"), staff_directory(config).ask
    )
    later = client(make_app(settings, clock, without_jane))
    later.cookies = web.cookies
    assert later.get("/").status_code == 303


def test_signing_out_needs_the_form_token_and_ends_the_session(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp), clock))
    sign_in(web, idp.tls.ca_file)
    form = web.get("/sign-out")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert web.post("/sign-out", data={}).status_code == 403
    out = web.post("/sign-out", data={"csrf_token": token})
    assert (out.status_code, out.headers["location"]) == (303, "/signed-out")
    assert "expires=thu, 01 jan 1970" in out.headers["set-cookie"].lower()
    assert web.get("/signed-out").status_code == 200
    assert web.get("/").status_code == 303


def test_sign_in_says_so_when_microsoft_cannot_be_reached(
    idp: FakeIdentityProvider, clock: FixedClock
) -> None:
    web = client(make_app(settings_for(idp), clock))
    idp.stop()
    assert web.get("/sign-in").status_code == 503


def test_a_missing_client_secret_stops_the_dashboard_with_the_variable_named(
    idp: FakeIdentityProvider, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CCBOT_TEST_DASHBOARD_SECRET")
    with pytest.raises(SignInConfigError, match="CCBOT_TEST_DASHBOARD_SECRET"):
        make_app(settings_for(idp), clock)
    monkeypatch.setenv("CCBOT_TEST_DASHBOARD_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CCBOT_TEST_SESSION_SECRET", "too-short")
    with pytest.raises(SignInConfigError, match="at least 32 characters"):
        make_app(settings_for(idp), clock)


def test_only_paths_on_this_site_are_returned_to() -> None:
    assert safe_next("/cases/CC-1") == "/cases/CC-1"
    for hostile in ("//evil.example/x", "https://evil.example", "/\\evil.example", "x", None):
        assert safe_next(hostile) == "/"


def test_which_addresses_a_token_vouches_for() -> None:
    iss = f"https://login.microsoftonline.com/{TENANT}/v2.0"
    member = {"iss": iss, "preferred_username": "A@x.example", "email": "b@x.example"}
    assert identity_addresses(member) == ("a@x.example", "b@x.example")
    guest = {**member, "idp": "https://sts.windows.net/other/"}
    assert identity_addresses(guest) == ("a@x.example",)
    assert identity_addresses({**guest, "xms_edov": True}) == ("a@x.example", "b@x.example")
    assert identity_addresses({"iss": iss, "preferred_username": "not-an-address"}) == ()


def test_a_real_http_round_trip_through_uvicorn_and_the_fake(
    tmp_path: Path, clock: FixedClock
) -> None:
    """As a browser does it: real sockets, cookies on 127.0.0.1, redirects between servers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until uvicorn takes them
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    fake = FakeIdentityProvider(
        tmp_path / "idp",
        clock.now,
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{base}/auth/callback"],
    ).start()
    fake.user = JANE
    settings = settings_for(fake, redirect_url=f"{base}/auth/callback")
    trust = ssl.create_default_context(cafile=str(fake.tls.ca_file))
    try:
        with running(make_app(settings, clock), sock), httpx2.Client(
            verify=trust, follow_redirects=True, timeout=10
        ) as browser:
            page = browser.get(f"{base}/cases/CC-2026-0001")
            assert page.status_code == 200
            assert page.text == "case CC-2026-0001 for Jane Smith"
            assert [str(r.url).split("?")[0] for r in page.history] == [
                f"{base}/cases/CC-2026-0001",
                f"{base}/sign-in",
                f"{fake.authority}/oauth2/v2.0/authorize",
                f"{base}/auth/callback",
            ]
            assert "content-security-policy" in page.headers
    finally:
        fake.stop()
        sock.close()
