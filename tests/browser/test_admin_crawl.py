"""Every admin page a merchant's owner and an operator can reach, read as a Chinese browser does.

The pages are found, not listed: from the landing pages (/admin/ and the
operator's desk) every admin link; from each list its object tools and the
first row's page; from the other pages (the market, a statement, a desk
page) their links again. Pages are told apart by their path with the ids
taken out, so each kind of page is opened once per person: the crawl stays
bounded however many rows there are. Every page keeps a screenshot and is
checked for English interface words; every list is checked to fit a 1280 px
screen without scrolling sideways, its table inside its container.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.apps import apps
from django.db import models, transaction

from oversight.models import StatsSnapshot
from tests.browser.conftest import Steps
from tests.browser.pages import sign_in
from tests.browser.world import trading_world
from tests.factories.marketplace import delivered
from tests.factories.world import BUILDERS, load_all_builders

# Links that leave the HTML pages or change something when followed.
SKIPPED = re.compile(
    r"/(logout|password_change|history|delete|export|download|licence|bank-file|csv)"
    r"|/r/\d+/"  # "view on site" redirects
    r"|/jsi18n/"
)
CHANGELIST = re.compile(r"^/admin/\w+/\w+/$")
CHANGE = re.compile(r"^/admin/\w+/\w+/\d+/change/$")

# How far the page overflows: the page itself, and the result table past its container.
OVERFLOW = """() => {
    const root = document.documentElement;
    const table = document.querySelector('#result_list');
    const box = table ? table.parentElement : null;
    return {
        page: root.scrollWidth - root.clientWidth,
        table: table ? Math.ceil(table.getBoundingClientRect().width) - box.clientWidth : 0,
    };
}"""
LINKS = """(selector) => Array.from(document.querySelectorAll(selector), a => a.href)"""


def kind_of(path: str) -> str:
    """The path with its ids taken out: one page of each kind is enough."""
    return re.sub(r"/\d+/", "/N/", path)


@dataclass
class Crawl:
    steps: Steps
    page: object
    who: str
    seen: set[str] = field(default_factory=set)
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def links(self, selector: str) -> list[str]:
        found = []
        for href in self.page.evaluate(LINKS, selector):
            parts = urlsplit(href)
            if parts.netloc != urlsplit(self.page.url).netloc:
                continue
            if not parts.path.startswith("/admin/") or SKIPPED.search(parts.path):
                continue
            found.append(parts.path)
        return found

    def open(self, path: str) -> bool:
        """Open a page once per kind; screenshot it, check its words (and a list's width)."""
        if kind_of(path) in self.seen:
            return False
        self.seen.add(kind_of(path))
        try:
            response = self.page.goto(path)
        except Exception as exc:  # a file the link downloads is not a page
            if "Download is starting" in str(exc):
                return False
            raise
        if response is None or response.status != 200 or "/login/" in self.page.url:
            self.problems.append(f"{self.who} {path}: {response and response.status}")
            return False
        self.visited.append(path)
        name = f"{self.who}{kind_of(path).replace('/admin', '').replace('/', '-')}".rstrip("-")
        try:
            self.steps.shot(self.page, name)
        except AssertionError as exc:
            self.problems.append(f"{self.who}: {exc}")
        if CHANGELIST.match(path):
            overflow = self.page.evaluate(OVERFLOW)
            if overflow["page"] > 0 or overflow["table"] > 0:
                self.problems.append(f"{self.who} {path} wider than 1280 px by {overflow}")
        return True

    def run(self, landings: list[str]) -> None:
        later: list[str] = []
        for landing in landings:
            if self.open(landing):
                later += self.links("#content a, #content-main a")
        for path in later:
            if not self.open(path):
                continue
            if CHANGELIST.match(path):
                rows = self.links("#result_list tbody tr a")
                tools = self.links(".object-tools a")
                for deeper in [*rows[:1], *tools]:
                    self.open(deeper)
            elif not CHANGE.match(path):
                # the market, a statement, a desk page: what they link to
                for deeper in self.links("#content a"):
                    if not CHANGELIST.match(deeper):
                        self.open(deeper)


def _world():
    """The trading world, an order of each kind, and one record of every model for the seller."""
    world = trading_world()
    delivered(world.buyer, world.plan)
    load_all_builders()
    for model, builder in BUILDERS.items():
        if model is StatsSnapshot:
            continue  # the dashboard computes its own; the builder's is an empty document
        with transaction.atomic():
            builder(world.seller, world.buyer)
    return world


def typed_data() -> set[str]:
    """What the records hold as free text (names, titles, notes, codes): data, not our words.

    Fields with choices are left out: their stored keys must never show on a page.
    """
    typed: set[str] = set()
    for model in apps.get_models():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        for row in model._default_manager.values_list(*names) if names else ():
            typed.update(str(value) for value in row if value)
    return typed


def test_every_admin_page_reads_in_chinese_and_every_list_fits_1280_px(steps):
    # given one record of every model, seen by a merchant's owner and an operator
    world = _world()
    steps.allow(*world.typed(), *typed_data())
    crawls = []
    for who, user, landings in (
        ("merchant", world.seller_owner, ["/admin/"]),
        ("operator", world.operator, ["/admin/", "/admin/operator/"]),
    ):
        # when each of them opens every page they can reach from their landing pages
        page = steps.person()
        sign_in(steps, page, user.username)
        crawl = Crawl(steps, page, who)
        crawl.run(landings)
        crawls.append(crawl)
    # then every page reads in Chinese and every list fits the screen
    problems = [problem for crawl in crawls for problem in crawl.problems]
    counts = {crawl.who: len(crawl.visited) for crawl in crawls}
    (steps.folder / "problems.txt").write_text("\n".join([str(counts), *problems]) + "\n")
    assert counts["merchant"] > 30, counts
    assert counts["operator"] > 40, counts
    assert not problems, "\n".join(problems)
