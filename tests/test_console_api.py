"""schemathesis against the console's OpenAPI document, on the real daemon: every operation,
generated inputs (ids, filters, bodies, dates, amounts), signed in as an operator with the
CSRF token — not one server error, and every answer as the document says. Bounded: a few
examples per operation, no deadline (the machine is shared)."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
import schemathesis
from console_support import PASSWORDS, Console, running_console
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with running_console(tmp_path_factory.mktemp("api")) as running:
        yield running


def sign_in(url: str, user: str) -> tuple[str, str]:
    """(session cookie, CSRF token) for ``user``, through the login form like a browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{url}/login").read().decode()
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)[1]
    body = {"username": user, "password": PASSWORDS[user], "login_csrf": token, "next": "/"}
    opener.open(f"{url}/login", urllib.parse.urlencode(body).encode())
    cookie = next(c.value for c in jar if c.name == "gateway_session")
    request = urllib.request.Request(f"{url}/api/session",
                                     headers={"Cookie": f"gateway_session={cookie}"})
    with opener.open(request) as answer:
        return cookie, json.load(answer)["csrf_token"]


@pytest.fixture(scope="module")
def operator_session(console: Console) -> dict[str, str]:
    cookie, csrf = sign_in(console.url, "olga")
    return {"Cookie": f"gateway_session={cookie}", "X-CSRF-Token": csrf}


def test_no_server_error_and_answers_as_documented(console, operator_session):
    schema = schemathesis.openapi.from_url(f"{console.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15  # every page's question and every action is in the API

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(base_url=console.url, headers=operator_session,
                                   checks=[not_a_server_error, response_schema_conformance])

        exercise()


def test_the_api_needs_a_session(console):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{console.url}/api/dashboard", timeout=10)
    assert refused.value.code == 401


def test_session_cookie_flags_and_login_throttling(console):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def attempt(password: str) -> int:
        form = opener.open(f"{console.url}/login").read().decode()
        token = re.search(r'name="login_csrf" value="([^"]+)"', form)[1]
        body = {"username": "vera", "password": password, "login_csrf": token, "next": "/"}
        request = urllib.request.Request(f"{console.url}/login",
                                         urllib.parse.urlencode(body).encode())
        try:
            with opener.open(request) as answer:
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    form = urllib.request.urlopen(f"{console.url}/login", timeout=10)
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.read().decode())[1]
    login_cookie = form.headers["Set-Cookie"].split(";")[0]
    body = urllib.parse.urlencode({"username": "vera", "password": PASSWORDS["vera"],
                                   "login_csrf": token}).encode()
    request = urllib.request.Request(f"{console.url}/login", body,
                                     headers={"Cookie": login_cookie})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request)
    assert answer.value.code == 303
    flags = answer.value.headers["Set-Cookie"].lower()
    assert "gateway_session=" in flags and "httponly" in flags and "samesite=strict" in flags

    assert [attempt("wrong password!") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORDS["vera"]) == 429  # even the right one, until the window passes
