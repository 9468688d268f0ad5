"""The API documentation pages load everything from the exchange itself, so they work offline."""

import re
from urllib.parse import urlsplit

from django.contrib.staticfiles import finders
from django.test import override_settings

ASSET_PATTERN = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|["']([^"']+\.(?:js|css|png))["']"""
)


def _asset_urls(html: str) -> list[str]:
    return sorted({a or b for a, b in ASSET_PATTERN.findall(html)})


@override_settings(DEBUG=True)
def test_docs_page_references_only_assets_the_exchange_serves(client):
    page = "/api/docs/"
    # when an integrator opens the documentation page
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = _asset_urls(html)
    # then it names its scripts and styles, none of them on another host
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        parts = urlsplit(url)
        assert not parts.netloc, f"{page} loads {url} from another host"
        assert not parts.scheme, f"{page} loads {url} from another host"
    # and every script and style sheet it names is a static file of the project
    for url in assets:
        if not url.startswith("/static/"):
            continue
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among the static files"


def test_swagger_ui_asset_is_served(client):
    # given the page's Swagger UI bundle
    html = client.get("/api/docs/").content.decode()
    bundle = next(u for u in _asset_urls(html) if u.endswith("swagger-ui-bundle.js"))
    # when the static file is fetched (runserver's static handler, as `make run` uses)
    from django.contrib.staticfiles.views import serve
    from django.test import RequestFactory

    with override_settings(DEBUG=True):
        response = serve(RequestFactory().get(bundle), bundle.removeprefix("/static/"))
    # then it is the script itself
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert len(body) > 100_000
