"""Understanding a partner's JSON-LD: the page graph, its datasets, its next page.

Parsing goes through rdflib, so a partner may compact, expand or flatten its
JSON-LD as it likes; what counts is the graph. Remote @context documents are
refused rather than fetched (we talk to the partner's catalog, not to the
addresses it names).
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF

from interchange.fetch import FetchRefused

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
AS = Namespace("https://www.w3.org/ns/activitystreams#")
EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
# The classification-grade scheme is recognised by the national standard it names.
GRADE_STANDARD = "GB/T 43697-2024"
# Nodes a dataset's description reaches that are described on their own.
_OWN_NODES = {DCAT.Dataset, DCAT.Catalog, DCAT.CatalogRecord}


class RecordRefused(Exception):
    """One partner record we do not take; the message says why."""


def _remote_context(value) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return any(_remote_context(item) for item in value)
    return False


def _check_contexts(node, depth: int = 0) -> None:
    if depth > 50:
        raise FetchRefused(_("the JSON-LD is nested more than 50 levels deep"))
    if isinstance(node, dict):
        if "@context" in node and _remote_context(node["@context"]):
            raise FetchRefused(_("the JSON-LD names a remote @context, which is not fetched"))
        for value in node.values():
            _check_contexts(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_contexts(value, depth + 1)


def page_graph(document, *, base: str) -> Graph:
    """The graph of one page, or FetchRefused when it is not a JSON-LD object we read."""
    if not isinstance(document, dict):
        raise FetchRefused(_("the page is not a JSON-LD object"))
    _check_contexts(document)
    graph = Graph()
    try:
        graph.parse(data=json.dumps(document), format="json-ld", base=base)
    except Exception as exc:
        raise FetchRefused(_("the page is not valid JSON-LD: %(error)s") % {"error": exc}) from exc
    if len(graph) > settings.EXCHANGE_HARVEST_LIMITS["max_page_triples"]:
        raise FetchRefused(_("the page holds more statements than the limit"))
    return graph


def require_type(graph: Graph, rdf_type: URIRef, name: str) -> None:
    """A page must be what we asked for: a catalog page, or a change-feed page."""
    if (None, RDF.type, rdf_type) not in graph:
        raise FetchRefused(_("the page is not a %(type)s") % {"type": name})


def next_page(graph: Graph) -> str | None:
    links = {str(o) for o in graph.objects(None, HYDRA.next) if isinstance(o, URIRef)}
    if len(links) > 1:
        raise FetchRefused(_("the page names more than one next page"))
    return links.pop() if links else None


def datasets(graph: Graph) -> list:
    """The page's datasets, IRIs before blank nodes, in a stable order."""
    found = set(graph.subjects(RDF.type, DCAT.Dataset))
    return sorted(found, key=lambda node: (isinstance(node, BNode), str(node)))


def description(graph: Graph, dataset) -> Graph:
    """The statements that describe one dataset: its own, and those of the nodes it owns."""
    result, todo, seen = Graph(), [dataset], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for predicate, obj in graph.predicate_objects(node):
            result.add((node, predicate, obj))
            if isinstance(obj, Literal) or obj in seen:
                continue
            if set(graph.objects(obj, RDF.type)) & _OWN_NODES:
                continue
            todo.append(obj)
    return result


def canonical(graph: Graph) -> tuple[str, str]:
    """Canonical N-Triples (blank nodes relabelled, lines sorted) and their SHA-256."""
    text = to_canonical_graph(graph).serialize(format="nt")
    lines = sorted(line for line in text.splitlines() if line.strip())
    raw = "\n".join(lines) + "\n"
    return raw, hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class PartnerDataset:
    """What we read off a partner's dcat:Dataset."""

    iri: str
    identifier: str
    registration_number: str
    title: str
    title_en: str
    summary: str
    summary_en: str
    publisher_name: str
    publisher_credit_code: str
    grade: str
    delivery_mode: str
    theme_codes: list[str] = field(default_factory=list)
    eu_themes: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    landing_page: str = ""
    modified: dt.datetime | None = None


def _literals(graph: Graph, node, predicate, *, name: str) -> list[Literal]:
    values: list[Literal] = []
    for value in graph.objects(node, predicate):
        if not isinstance(value, Literal):
            raise RecordRefused(_("%(name)s is not a text") % {"name": name})
        values.append(value)
    return values


def _by_language(values: list[Literal]) -> tuple[str, str]:
    """(Chinese or untagged text, English text)."""
    primary = english = ""
    for value in values:
        language = (value.language or "").lower()
        if language == "en" and not english:
            english = str(value)
        elif (language.startswith("zh") or not language) and not primary:
            primary = str(value)
    return primary or english, english


def _single_text(graph: Graph, node, predicate, *, name: str) -> str:
    values = _literals(graph, node, predicate, name=name)
    return str(values[0]).strip() if values else ""


def read_dataset(graph: Graph, dataset) -> PartnerDataset:
    """The fields of one dataset, or RecordRefused naming the property at fault."""
    iri = str(dataset) if isinstance(dataset, URIRef) else ""
    identifier = _single_text(graph, dataset, DCT.identifier, name="dct:identifier")
    if not iri and not identifier:
        raise RecordRefused(_("the dataset has neither an IRI nor a dct:identifier"))
    if iri and not iri.startswith(("http://", "https://")):
        raise RecordRefused(_("the dataset's IRI is not an http(s) address"))
    title, title_en = _by_language(_literals(graph, dataset, DCT.title, name="dct:title"))
    if not title:
        raise RecordRefused(_("the dataset has no dct:title"))
    summary, summary_en = _by_language(
        _literals(graph, dataset, DCT.description, name="dct:description")
    )
    registration = identifier
    for node in graph.objects(dataset, ADMS.identifier):
        notation = graph.value(node, SKOS.notation)
        if isinstance(notation, Literal):
            registration = str(notation)
            break
    publisher_name = credit_code = ""
    publisher = graph.value(dataset, DCT.publisher)
    if publisher is not None:
        publisher_name, _en = _by_language(_literals(graph, publisher, FOAF.name, name="foaf:name"))
        credit_code = _single_text(graph, publisher, DCT.identifier, name="dct:identifier")
    grade, theme_codes, eu_themes = "unstated", [], []
    for theme in graph.objects(dataset, DCAT.theme):
        if str(theme).startswith(EU_DATA_THEME):
            eu_themes.append(str(theme).removeprefix(EU_DATA_THEME))
            continue
        scheme = graph.value(theme, SKOS.inScheme)
        notation = graph.value(theme, SKOS.notation)
        if scheme is not None and str(graph.value(scheme, DCT.identifier)) == GRADE_STANDARD:
            grade = str(notation) if notation is not None else grade
        elif notation is not None:
            theme_codes.append(str(notation))
        for match in graph.objects(theme, SKOS.exactMatch):
            if str(match).startswith(EU_DATA_THEME):
                eu_themes.append(str(match).removeprefix(EU_DATA_THEME))
    modified = graph.value(dataset, DCT.modified)
    modified_at = None
    if modified is not None:
        value = modified.toPython() if isinstance(modified, Literal) else None
        if isinstance(value, dt.datetime):
            modified_at = value
        elif isinstance(value, dt.date):
            modified_at = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
        else:
            raise RecordRefused(_("dct:modified is not a date or date-time"))
        if modified_at.tzinfo is None:
            modified_at = modified_at.replace(tzinfo=dt.UTC)
    landing = graph.value(dataset, DCAT.landingPage)
    return PartnerDataset(
        iri=iri,
        identifier=identifier[:200],
        registration_number=registration[:64],
        title=title[:500],
        title_en=title_en[:500],
        summary=summary,
        summary_en=summary_en,
        publisher_name=publisher_name[:300],
        publisher_credit_code=credit_code if len(credit_code) == 18 else "",
        grade=grade if grade in {"general", "important", "core"} else "unstated",
        delivery_mode=_delivery_mode(graph, dataset),
        theme_codes=theme_codes,
        eu_themes=eu_themes,
        keywords=[str(k) for k in _literals(graph, dataset, DCAT.keyword, name="dcat:keyword")],
        landing_page=str(landing) if isinstance(landing, URIRef) else "",
        modified=modified_at,
    )


def _delivery_mode(graph: Graph, dataset) -> str:
    """How the data is delivered, judged from the distributions."""
    for distribution in graph.objects(dataset, DCAT.distribution):
        if graph.value(distribution, DCAT.accessService) is not None:
            return "api"
        media = str(graph.value(distribution, DCAT.mediaType) or "")
        if media.endswith("/pdf"):
            return "report"
    return "file"


def removals(graph: Graph) -> list[tuple[str, str]]:
    """(dataset IRI, identifier) of every as:Remove in a change-feed page."""
    found = []
    for activity in graph.subjects(RDF.type, AS.Remove):
        target = graph.value(activity, AS.object)
        identifier = graph.value(activity, DCT.identifier)
        found.append((str(target or ""), str(identifier or "")))
    return found
