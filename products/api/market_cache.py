"""The market list's pages, kept for a few seconds in each web worker.

Buyers and their integrations ask the same first pages of the market over and
over; each answer costs five statements and 80 KB of JSON to build, and is the
same for every signed-in caller (the market is published to every role and
names no caller). A page as sent (JSON only) is kept under its full address
and language for EXCHANGE_MARKET_CACHE_SECONDS (0 turns it off; the test
settings do).

Freshness: any save or delete of a row a market page shows (a product, its
plans, scenarios or recognitions, its provider, its industry or board)
starts a new generation in this worker, so its next page is built afresh.
Other workers, and rows changed by a bulk UPDATE, catch up when their kept
pages expire: a listing change reaches the whole market list within the
cache's seconds. Sign-in and permission are still checked on every request,
before a kept page is looked up.
"""

import hashlib
import itertools

from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils.translation import get_language

_generations = itertools.count(1)
_generation = next(_generations)
JSON = "application/json"


def market_changed(**_kwargs) -> None:
    """A row the market shows changed: pages kept before now are not used again here."""
    global _generation
    _generation = next(_generations)


def _seconds() -> int:
    return int(getattr(settings, "EXCHANGE_MARKET_CACHE_SECONDS", 0))


def _key(request) -> str:
    address = request.build_absolute_uri()
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"market:{_generation}:{get_language()}:{digest}"


def page_kept(request) -> HttpResponse | None:
    """The kept JSON page for this request, if there is one."""
    if not _seconds() or request.accepted_renderer.media_type != JSON:
        return None
    content = caches["market"].get(_key(request))
    if content is None:
        return None
    response = HttpResponse(content, content_type=JSON)
    response["X-Market-Cache"] = "hit"
    return response


def page_keep(request, response) -> None:
    """Keep a rendered 200 JSON page of the market list."""
    if not _seconds() or response.status_code != 200:
        return
    if getattr(request, "accepted_renderer", None) is None:
        return
    if request.accepted_renderer.media_type != JSON:
        return
    response.render()
    caches["market"].set(_key(request), response.content, _seconds())


def connect() -> None:
    """Start a new generation whenever a row a market page shows is saved or deleted."""
    from accounts.models import Merchant
    from interchange.models import PartnerExchange, PartnerRecord, RegistrationRecognition
    from products.models import Board, Industry, PricingPlan, Product
    from publicdata.models import Scenario

    for model in (
        Product,
        PricingPlan,
        RegistrationRecognition,
        PartnerExchange,
        PartnerRecord,
        Merchant,
        Industry,
        Board,
        Scenario,
    ):
        post_save.connect(market_changed, sender=model, dispatch_uid=f"market-{model.__name__}")
        post_delete.connect(
            market_changed, sender=model, dispatch_uid=f"market-del-{model.__name__}"
        )
    m2m_changed.connect(
        market_changed, sender=Product.scenarios.through, dispatch_uid="market-scenarios"
    )
