"""Browser tests: Debian's Chromium driven by Playwright against a live server.

Every page is opened as a Chinese merchant's browser asks for it
(Accept-Language zh-CN); `Steps.shot` keeps a full-page screenshot of each step
under var/test-artifacts/ and fails on English interface words (see
`tests.browser.chinese`). Nothing downloads a browser: without /usr/bin/chromium
(or the one CHROMIUM names) or without Playwright, these tests skip and say why
(CI sets REQUIRE_CHROMIUM and fails instead).
The live server reads and writes the test database, so data a test builds is
seen by the pages: PostgreSQL, through `transactional_db`.
"""

import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.browser.chinese import english_words

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}


def _missing() -> str | None:
    """Why this machine cannot run the browser tests, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright (pip install -r requirements.lock)"
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        return f"needs Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason and os.environ.get("REQUIRE_CHROMIUM"):
        raise pytest.UsageError(
            f"REQUIRE_CHROMIUM is set but the browser tests cannot run: {reason}"
        )
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.postgres)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    """A free port in BROWSER_TEST_PORTS ("9100-9199"), else one the system picks."""
    spec = os.environ.get("BROWSER_TEST_PORTS", "")
    match = re.fullmatch(r"(\d+)-(\d+)", spec)
    candidates = range(int(match[1]), int(match[2]) + 1) if match else [0]
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in BROWSER_TEST_PORTS={spec}")


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, on 127.0.0.1 only and on a port this machine allows."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(f"127.0.0.1:{_free_port()}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own
    # database calls are still synchronous, so Django is told they are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        # No sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
        # The browser's own words (a file input's button) in Chinese, as a Chinese
        # merchant's browser shows them: Chromium takes its interface language from
        # LANGUAGE, with the zh-CN strings of the chromium-l10n package.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--lang=zh-CN"],
            env={**os.environ, "LANGUAGE": "zh_CN:zh"},
        )
        yield launched
        launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Steps:
    """One scenario's pages: screenshots numbered in order, each page checked for English."""

    def __init__(self, browser, base_url: str, folder: Path):
        self.browser = browser
        self.base_url = base_url
        self.folder = folder
        self.count = 0
        self.contexts: list = []
        self.allowed: set[str] = set()

    def person(self):
        """A fresh browser (own cookies) for one person, asking for Chinese pages."""
        context = self.browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=VIEWPORT,
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
            base_url=self.base_url,
        )
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        return context.new_page()

    def allow(self, *typed: str) -> None:
        """Data people typed (names, usernames, e-mail addresses): theirs, not our words."""
        self.allowed.update(t for t in typed if t)

    def shot(self, page, name: str) -> None:
        """Keep a full-page screenshot of this step, then fail on English interface words."""
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)
        # literals in <code> (a column's name, a key) are data, as typed
        literals = page.eval_on_selector_all("code", "els => els.map(e => e.innerText)")
        words = english_words(visible_text(page), allowed=self.allowed | set(literals))
        assert not words, f"English on {page.url} (step {name}): {sorted(words)}"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def visible_text(page) -> str:
    """What a person reads: the rendered text, plus button labels and placeholders."""
    return page.evaluate(
        """() => {
            const extra = [];
            for (const el of document.querySelectorAll(
                'input[type=submit], input[type=button], input[type=reset], [placeholder]'
            )) {
                if (!el.checkVisibility || el.checkVisibility()) {
                    extra.push(el.value || '', el.getAttribute('placeholder') || '');
                }
            }
            return [document.title, document.body.innerText, ...extra].join('\\n');
        }"""
    )


@pytest.fixture
def steps(request, browser, live_server, transactional_db, settings) -> Iterator[Steps]:
    settings.LANGUAGE_CODE = "zh-hans"
    settings.JOIN_THROTTLE_RATE = "1000/hour"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    name = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / "browser" / name
    if folder.exists():
        shutil.rmtree(folder)
    run = Steps(browser, live_server.url, folder)
    yield run
    run.close()
    cache.clear()
