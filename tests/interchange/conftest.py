"""A partner exchange's server on a loopback port, answering what each test sets."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories.interchange import PartnerFactory
from tests.products.conftest import industry, make_draft  # noqa: F401 - shared fixtures

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "adms": "http://www.w3.org/ns/adms#",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "hydra:next": {"@type": "@id"},
}
GRADES = "https://partner.example/grades/"


def dataset(base: str, number: str, *, title="湖南气象数据", grade="general", **extra) -> dict:
    node = {
        "@id": f"{base}/datasets/{number}",
        "@type": "dcat:Dataset",
        "dct:identifier": number,
        "dct:title": [{"@value": title, "@language": "zh"}],
        "dct:description": [{"@value": "逐小时观测", "@language": "zh"}],
        "dct:publisher": {"@id": f"{base}/publishers/x", "@type": "foaf:Agent",
                          "foaf:name": "Partner Data Co.", "dct:identifier": "91430100MA4T0000XQ"},
        "dcat:theme": [{"@id": f"{GRADES}{grade}", "@type": "skos:Concept",
                        "skos:notation": grade,
                        "skos:inScheme": {"@id": GRADES, "dct:identifier": "GB/T 43697-2024"}}],
    }  # fmt: skip
    node.update(extra)
    return node


def page(datasets: list, next_url: str | None = None) -> dict:
    document = {"@context": CONTEXT, "@type": "dcat:Catalog", "dcat:dataset": datasets}
    if next_url:
        document["hydra:view"] = {"@type": "hydra:PartialCollectionView", "hydra:next": next_url}
    return document


class PartnerServer:
    """Routes: path (with query) -> (status, content type, body bytes, seconds to dribble)."""

    def __init__(self, port: int = 0):
        self.routes: dict[str, tuple] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                path = self.path if self.path in server.routes else self.path.split("?")[0]
                status, content_type, body, dribble = server.routes.get(
                    path, (404, "application/json", b'{"detail": "no"}', 0)
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if not dribble:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if dribble:
                    for index in range(0, len(body), 16):
                        self.wfile.write(body[index : index + 16])
                        self.wfile.flush()
                        time.sleep(dribble)
                else:
                    self.wfile.write(body)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the harvester hanging up on a refused page is expected

        self.httpd = QuietServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def json(self, path: str, document, *, status=200, content_type="application/ld+json"):
        self.routes[path] = (status, content_type, json.dumps(document).encode(), 0)

    def raw(self, path: str, body: bytes, *, status=200, content_type="application/ld+json",
            dribble: float = 0):  # fmt: skip
        self.routes[path] = (status, content_type, body, dribble)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def partner_server():
    server = PartnerServer()
    yield server
    server.close()


@pytest.fixture
def partner(partner_server, db):
    return PartnerFactory(
        name="Partner exchange",
        catalog_url=f"{partner_server.base}/catalog/",
        changes_url="",
        trust_level="trusted",
    )


@pytest.fixture(autouse=True)
def _english_messages():
    """Reasons are recorded in the active language; these tests read the English ones."""
    from django.utils import translation

    with translation.override("en"):
        yield
