"""Reading a partner's documents with limits: size, time, redirects, media type.

A partner is another organisation's server: anything it sends may be too big,
too slow, not JSON, or JSON-LD that points us elsewhere. Each refusal is a
`FetchRefused` whose message is recorded on the harvest run.
"""

import json
import time
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

ACCEPT = "application/ld+json, application/json;q=0.9"
JSON_MEDIA_TYPES = {"application/ld+json", "application/json"}


class FetchRefused(Exception):
    """A partner's answer we do not read; the message says why."""


def limits() -> dict:
    return settings.EXCHANGE_HARVEST_LIMITS


def same_site(url: str, reference: str) -> bool:
    a, b = urlsplit(url), urlsplit(reference)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


def fetch_json(client: httpx.Client, url: str) -> tuple[object, int]:
    """GET `url` and return (parsed JSON, bytes read), or raise FetchRefused."""
    bounds = limits()
    max_bytes, seconds = bounds["max_page_bytes"], bounds["page_seconds"]
    deadline = time.monotonic() + seconds
    chunks, total = [], 0
    try:
        with client.stream("GET", url, headers={"Accept": ACCEPT}) as response:
            if response.status_code != 200:
                raise FetchRefused(
                    _("the partner answered HTTP %(status)s") % {"status": response.status_code}
                )
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in JSON_MEDIA_TYPES:
                raise FetchRefused(
                    _("the partner answered %(type)s, not JSON-LD") % {"type": media_type or "?"}
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchRefused(
                    _("the page is larger than the limit of %(limit)s bytes") % {"limit": max_bytes}
                )
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise FetchRefused(
                        _("the page is larger than the limit of %(limit)s bytes")
                        % {"limit": max_bytes}
                    )
                if time.monotonic() > deadline:
                    raise FetchRefused(
                        _("the page took longer than the limit of %(seconds)s s")
                        % {"seconds": seconds}
                    )
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise FetchRefused(
            _("the partner did not answer within %(seconds)s s") % {"seconds": seconds}
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchRefused(
            _("the partner could not be reached: %(error)s") % {"error": exc}
        ) from exc
    try:
        return json.loads(b"".join(chunks).decode("utf-8")), total
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FetchRefused(
            _("the page is not well-formed JSON: %(error)s") % {"error": exc}
        ) from exc


def new_client() -> httpx.Client:
    """A client that never follows redirects and gives up on a silent partner."""
    seconds = limits()["page_seconds"]
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)),
        headers={"User-Agent": "data-exchange-harvester/1"},
        trust_env=False,
    )
