"""Dashboard web security: CSRF on every form, headers, cookies, trusted hosts, where it listens."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from backends.web_app import (
    REPO,
    SESSION_SECRET,
    client,
    dashboard,
    example_directory,
    make_app,
)

from bot.clock import LONDON, FixedClock
from bot.config import ProblemsError, load_config
from bot.views.web.csrf import CSRF_FIELD
from bot.views.web.security import (
    CONTENT_SECURITY_POLICY,
    BindRefused,
    check_bind,
    server_options,
)
from bot.views.web.staff import OPERATOR_ROLES

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=LONDON)
HTTPS_SIGN_IN = {"redirect_url": "https://dashboard.council.example/auth/callback"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture(autouse=True)
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCBOT_TEST_DASHBOARD_SECRET", "unused-here")
    monkeypatch.setenv("CCBOT_TEST_SESSION_SECRET", SESSION_SECRET)


def token_from(html: str) -> str:
    return html.split(f'name="{CSRF_FIELD}" value="')[1].split('"')[0]


# -- local mode: no sign-in, this machine only ------------------------------------------


def test_without_sign_in_the_person_is_the_local_operator(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock))
    page = web.get("/")
    assert page.status_code == 200
    assert f"Local operator||{','.join(OPERATOR_ROLES)}" in page.text
    assert "referrer" not in OPERATOR_ROLES


def test_without_sign_in_a_named_person_may_be_the_local_user(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock, local_person="mbrown"))
    assert "Mary Brown|mary.brown@council.example|spo" in web.get("/").text
    with pytest.raises(ValueError, match="nobody"):
        make_app(dashboard(), clock, local_person="nobody")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_without_sign_in_loopback_addresses_are_allowed(host: str) -> None:
    check_bind(host, dashboard())


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "dashboard.council.example"])
def test_without_sign_in_any_other_address_is_refused_saying_why(host: str) -> None:
    with pytest.raises(BindRefused) as refused:
        check_bind(host, dashboard())
    message = str(refused.value)
    assert f"on {host} anyone who can reach this machine would see every case" in message
    assert "127.0.0.1" in message and "dashboard.sign_in" in message


def test_with_sign_in_over_https_the_dashboard_may_listen_on_the_network() -> None:
    check_bind("0.0.0.0", dashboard(HTTPS_SIGN_IN))
    with pytest.raises(BindRefused, match="plain http"):
        check_bind("0.0.0.0", dashboard({}))  # sign-in, but its return address is http


def test_the_server_options_check_the_address_and_keep_no_access_log() -> None:
    options = server_options("127.0.0.1", 8080, dashboard())
    assert options == {
        "host": "127.0.0.1", "port": 8080, "access_log": False, "server_header": False
    }
    with pytest.raises(BindRefused):
        server_options("0.0.0.0", 8080, dashboard())


def write_config(tmp_path: Path, section: str) -> Path:
    text = (REPO / "config.yaml").read_text(encoding="utf-8") + "\n" + section
    text = text.replace("  assets: assets ", f"  assets: {REPO / 'assets'} ", 1)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


def test_the_config_refuses_a_network_address_without_sign_in_at_its_line(
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, "dashboard:\n  port: 8443\n  bind_host: 0.0.0.0\n")
    with pytest.raises(ProblemsError) as refused:
        load_config(path)
    [problem] = refused.value.problems
    assert (problem.line, problem.key) == (line_of(path, "bind_host"), "dashboard.bind_host")
    assert "add dashboard.sign_in" in problem.fix


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("tenant_id", "common", "any organisation"),
        ("client_id", "my-app", "not an application (client) id"),
        ("redirect_url", "http://dashboard.council.example/auth/callback", "plain http"),
        ("redirect_url", "https://dashboard.council.example/", "ending in /auth/callback"),
        ("authority", "http://login.example/t", "not an https address"),
        ("client_secret_env", "the secret", "not an environment variable name"),
    ],
)
def test_the_config_names_the_line_and_fix_of_a_bad_sign_in_value(
    tmp_path: Path, key: str, value: str, says: str
) -> None:
    keys = {
        "tenant_id": "7d3c1c5e-0000-4000-8000-00000000c0c1",
        "client_id": "b1e5a9f0-0000-4000-8000-0000000da5b0",
        "client_secret_env": "CCBOT_DASHBOARD_SECRET",
        "session_secret_env": "CCBOT_DASHBOARD_SESSION_KEY",
        "redirect_url": "https://dashboard.council.example/auth/callback",
        key: value,
    }
    body = "".join(f"    {k}: {v}\n" for k, v in keys.items())
    path = write_config(tmp_path, f"dashboard:\n  sign_in:\n{body}")
    with pytest.raises(ProblemsError) as refused:
        load_config(path)
    [problem] = refused.value.problems
    assert problem.line == line_of(path, f"    {key}:")
    assert says in f"{problem.message} {problem.fix}"


def test_the_sign_in_example_is_a_valid_config(tmp_path: Path) -> None:
    example = (REPO / "examples" / "dashboard-sign-in.yaml").read_text(encoding="utf-8")
    config = load_config(write_config(tmp_path, example))
    assert config.dashboard.sign_in is not None
    check_bind(config.dashboard.bind_host, config.dashboard)


# -- CSRF -----------------------------------------------------------------------------------


def test_a_form_with_the_session_token_goes_through_with_its_fields(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock))
    token = token_from(web.get("/").text)
    done = web.post("/note", data={CSRF_FIELD: token, "text": "called the provider"})
    assert (done.status_code, done.text) == (200, "noted: called the provider")
    multipart = web.post("/note", data={CSRF_FIELD: token, "text": "x"}, files={"f": b"1"})
    assert multipart.text == "noted: x"


@pytest.mark.parametrize("sent", [None, "", "wrong-token-of-a-plausible-length-000000000000"])
def test_a_form_without_the_right_token_is_refused(clock: FixedClock, sent: str | None) -> None:
    web = client(make_app(dashboard(), clock))
    web.get("/")  # the session now has a token
    data = {"text": "forged"} if sent is None else {CSRF_FIELD: sent, "text": "forged"}
    refused = web.post("/note", data=data)
    assert refused.status_code == 403
    assert "noted" not in refused.text and "Nothing was changed" in refused.text


def test_a_token_from_another_session_is_refused(clock: FixedClock) -> None:
    app = make_app(dashboard(), clock)
    mine, theirs = client(app), client(app)
    their_token = token_from(theirs.get("/").text)
    mine.get("/")
    assert mine.post("/note", data={CSRF_FIELD: their_token}).status_code == 403


def test_a_form_posted_from_another_site_is_refused_even_with_the_token(
    clock: FixedClock,
) -> None:
    web = client(make_app(dashboard(), clock))
    token = token_from(web.get("/").text)
    for site in ("cross-site", "same-site"):
        sent = web.post("/note", data={CSRF_FIELD: token}, headers={"Sec-Fetch-Site": site})
        assert sent.status_code == 403
    same = web.post("/note", data={CSRF_FIELD: token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


def test_an_oversized_form_is_refused(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock))
    token = token_from(web.get("/").text)
    big = web.post("/note", data={CSRF_FIELD: token, "text": "x" * (3 * 1024 * 1024)})
    assert big.status_code == 413


def test_a_post_without_a_sign_in_is_refused_not_redirected(clock: FixedClock) -> None:
    web = client(make_app(dashboard(HTTPS_SIGN_IN), clock), "https://dashboard.council.example")
    assert web.post("/note", data={"text": "x"}).status_code == 403


# -- headers, cookies, hosts --------------------------------------------------------------


def test_every_answer_carries_the_security_headers(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock))
    token = token_from(web.get("/").text)
    answers = [web.get("/"), web.get("/no-such-page"), web.post("/note", data={}),
               web.post("/note", data={CSRF_FIELD: token})]
    for answer in answers:
        headers = answer.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers  # plain http on loopback
    policy = dict(p.split(" ", 1) for p in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_over_https_the_cookie_is_secure_and_host_only_and_hsts_is_sent(
    clock: FixedClock,
) -> None:
    web = client(make_app(dashboard(HTTPS_SIGN_IN), clock), "https://dashboard.council.example")
    asked = web.get("/cases/CC-2026-0001")
    assert (asked.status_code, asked.headers["location"]) == (303, "/sign-in")
    cookie = asked.headers["set-cookie"]
    assert cookie.startswith("__Host-ccbot-session=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert not any(flag.startswith("domain=") for flag in flags)
    assert asked.headers["strict-transport-security"] == "max-age=31536000"


def test_the_local_session_cookie_is_httponly_and_lax(clock: FixedClock) -> None:
    web = client(make_app(dashboard(), clock))
    cookie = web.get("/").headers["set-cookie"]
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax"} <= flags and "secure" not in flags


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io"])
def test_requests_for_another_host_name_are_refused(clock: FixedClock, host: str) -> None:
    """DNS rebinding: a hostile page whose name resolves to 127.0.0.1 must not read cases."""
    web = client(make_app(dashboard(), clock))
    assert web.get("/", headers={"Host": host}).status_code == 400
    assert web.get("/", headers={"Host": "localhost:8080"}).status_code == 200


def test_the_staff_directory_tells_a_refused_person_whom_to_ask() -> None:
    ask = example_directory().ask
    assert ask == (
        "Ask Peter Jones (peter.jones@council.example) to add you to the staff directory "
        "in the bot's config.yaml."
    )
