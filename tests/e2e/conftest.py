"""Browser tests: Debian's Chromium driven by Playwright against a live server.

The server is the test app, served by werkzeug in a background thread on 127.0.0.1 (it
shares the test database, which the ``app`` fixture empties after each test).  Screenshots
go to ``test-output/screenshots/`` (``shot(page, "name")``).  Under CI=true a missing
Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def live_server(_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# How Chromium and htmx report an HTTP error status on the console.
_STATUS_MESSAGES = (re.compile(r"^Failed to load resource: the server responded with a status "
                               r"of (\d{3})"),
                    re.compile(r"^Response Status Error Code (\d{3}) from "))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "http_errors(*statuses): the test expects htmx answers with these HTTP "
        "statuses (a form refused with 422, say), whose console messages are not failures")


def _expected(text: str, statuses: tuple[int, ...]) -> bool:
    for pattern in _STATUS_MESSAGES:
        match = pattern.match(text)
        if match:
            return int(match.group(1)) in statuses
    return False


@pytest.fixture
def page(browser: Any, live_server: str, app: Flask, request: pytest.FixtureRequest
         ) -> Iterator[Any]:
    """A fresh browser page (own cookies) whose relative URLs go to the live server.

    Any console error fails the test, except the HTTP statuses a test declares with
    ``@pytest.mark.http_errors(422)`` (htmx swaps a refused form's 4xx answer in place, and
    the browser and htmx log each such answer as an error)."""
    marker = request.node.get_closest_marker("http_errors")
    statuses = tuple(marker.args) if marker else ()
    context = browser.new_context(base_url=live_server, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(20_000)  # generous: CI machines are slow and noisy
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not _expected(msg.text, statuses) else None)
    try:
        yield page
    finally:
        context.close()
    errors = _without_aborted_requests(errors)
    assert not errors, f"browser errors: {errors}"


def _without_aborted_requests(errors: list[str]) -> list[str]:
    """The errors less htmx's reports of a request it aborted because a swap replaced the
    element that sent it (a picker's suggestions asked for while its form is re-rendered):
    htmx logs ``htmx:sendAbort`` and the ``htmx:afterRequest`` of that element as errors,
    but nothing failed.  Only an element with a ``sendAbort`` is forgiven its
    ``afterRequest``."""
    aborted = {text.partition(", ")[2] for text in errors if text.startswith("htmx:sendAbort, ")}
    return [text for text in errors
            if not (text.startswith(("htmx:sendAbort, ", "htmx:afterRequest, "))
                    and text.partition(", ")[2] in aborted)]


def shot(page: Any, name: str) -> Path:
    """Save a full-page PNG screenshot under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def htmx_idle(page: Any) -> None:
    """Wait until htmx has finished its requests, swaps and settling, so that controls it
    just swapped in have their triggers (acting in between is a race no user can win)."""
    from playwright.sync_api import expect

    for state in ("htmx-request", "htmx-swapping", "htmx-settling", "htmx-added"):
        expect(page.locator(f".{state}")).to_have_count(0)
