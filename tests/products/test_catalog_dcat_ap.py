"""The catalog as DCAT-AP 3.0: complete, valid against the shapes, every minted IRI resolves."""

import datetime as dt

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from products.catalog_validation import catalog_validate, jsonld_graph
from tests.factories.products import BoardFactory, IndustryFactory, ProductFactory

pytestmark = pytest.mark.django_db
CATALOG = "/api/v1/catalog/"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def products():
    transport = IndustryFactory(code="transport", name="交通运输", name_en="Transport",
                                data_theme="TRAN")  # fmt: skip
    board = BoardFactory(code="logistics", name="物流专板", name_en="Logistics board")
    archive = ProductFactory(
        title="货车轨迹数据", title_en="Lorry trajectories", summary="全省货车GPS轨迹",
        summary_en="GPS tracks of lorries in the province", industry=transport, board=board,
        delivery_mode="file", coverage_start=dt.date(2020, 1, 1),
        coverage_end=dt.date(2024, 12, 31), tags="物流, GPS",
    )  # fmt: skip
    api = ProductFactory(title="Traffic API", delivery_mode="api", grade="important")
    ProductFactory(title="Draft", status="draft")
    return archive, api


def _graph(response) -> Graph:
    assert response.status_code == 200, response.content[:500]
    return jsonld_graph(response.content.decode())


def test_catalog_page_has_no_shacl_violation(client, products):
    # when the catalog is fetched and validated against the DCAT-AP 3.0 shapes
    response = client.get(CATALOG)
    report = catalog_validate(response.content.decode())
    # then it conforms
    assert report.violations == 0, report.text
    assert report.conforms


def test_the_shapes_catch_a_dataset_missing_mandatory_properties():
    # given a dataset without title or description, and a distribution without accessURL
    document = {
        "@context": {"dcat": str(DCAT), "dct": str(DCT)},
        "@graph": [
            {"@id": "urn:x:dataset", "@type": "dcat:Dataset", "dcat:distribution": {
                "@id": "urn:x:dist", "@type": "dcat:Distribution"}},
        ],
    }  # fmt: skip
    # then the shapes report each missing property
    report = catalog_validate(document)
    assert not report.conforms
    assert report.violations == 3


def test_the_shapes_ask_a_label_of_every_concept_and_a_title_of_every_scheme():
    document = {
        "@context": {"skos": str(SKOS), "dct": str(DCT)},
        "@graph": [
            {"@id": "urn:x:concept", "@type": "skos:Concept"},
            {"@id": "urn:x:scheme", "@type": "skos:ConceptScheme"},
        ],
    }
    report = catalog_validate(document)
    assert report.violations == 2, report.text


def test_every_concept_and_scheme_named_is_labelled_in_both_languages(client, products):
    graph = _graph(client.get(CATALOG))
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    # our industries, the EU data themes, the grades and the publisher types
    assert any(str(c).endswith("/data-theme/TRAN") for c in concepts)
    assert any("/publishertype/" in str(c) for c in concepts)
    assert len(schemes) == 3
    for concept in concepts:
        languages = {label.language for label in graph.objects(concept, SKOS.prefLabel)}
        assert languages, concept
        if "/catalog/themes/" not in str(concept):  # ours are as the operators named them
            assert languages == {"zh", "en"}, concept
    for scheme in schemes:
        titles = {title.language for title in graph.objects(scheme, DCT.title)}
        assert titles == {"zh", "en"}, scheme
    transport = URIRef("http://publications.europa.eu/resource/authority/data-theme/TRAN")
    assert Literal("Transport", lang="en") in set(graph.objects(transport, SKOS.prefLabel))


def test_dataset_carries_every_property_our_data_fills(client, products):
    archive, api = products
    graph = _graph(client.get(CATALOG))
    dataset = next(graph.subjects(DCT.identifier, Literal(archive.registration_number)))
    # zh and en titles and descriptions
    titles = {(str(t), t.language) for t in graph.objects(dataset, DCT.title)}
    assert titles == {("货车轨迹数据", "zh"), ("Lorry trajectories", "en")}
    assert {t.language for t in graph.objects(dataset, DCT.description)} == {"zh", "en"}
    # the publisher is an Agent identified by its credit code
    publisher = graph.value(dataset, DCT.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert str(graph.value(publisher, DCT.identifier)) == archive.provider.credit_code
    # a vCard contact point, licence, access rights, landing page, language, spatial
    contact = graph.value(dataset, DCAT.contactPoint)
    assert (contact, RDF.type, VCARD.Kind) in graph
    assert str(graph.value(contact, VCARD.hasEmail)).startswith("mailto:")
    distribution = graph.value(dataset, DCAT.distribution)
    assert (graph.value(distribution, DCT.license), RDF.type, DCT.LicenseDocument) in graph
    assert str(graph.value(dataset, DCT.accessRights)).endswith("/access-right/RESTRICTED")
    assert graph.value(dataset, DCAT.landingPage) is not None
    assert {str(o) for o in graph.objects(dataset, DCT.language)} == {
        "http://publications.europa.eu/resource/authority/language/ZHO",
        "http://publications.europa.eu/resource/authority/language/ENG",
    }
    assert "http://publications.europa.eu/resource/authority/country/CHN" in {
        str(o) for o in graph.objects(dataset, DCT.spatial)
    }
    # temporal coverage from the product's coverage period
    period = graph.value(dataset, DCT.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2020-01-01"
    assert str(graph.value(period, DCAT.endDate)) == "2024-12-31"
    # themes: our concept, mapped to the EU data theme
    themes = {str(t) for t in graph.objects(dataset, DCAT.theme)}
    assert "http://publications.europa.eu/resource/authority/data-theme/TRAN" in themes
    ours = next(t for t in graph.objects(dataset, DCAT.theme) if "/catalog/themes/" in str(t))
    assert str(graph.value(ours, SKOS.exactMatch)).endswith("/data-theme/TRAN")
    # the registration number as adms:identifier; media type and format as IRIs
    identifier = graph.value(dataset, ADMS.identifier)
    assert str(graph.value(identifier, SKOS.notation)) == archive.registration_number
    assert isinstance(graph.value(distribution, DCAT.mediaType), URIRef)
    assert isinstance(graph.value(distribution, DCT["format"]), URIRef)
    assert graph.value(dataset, DCT.conformsTo) is not None
    # important-grade data is not public; a catalog record describes each dataset
    api_dataset = next(graph.subjects(DCT.identifier, Literal(api.registration_number)))
    assert str(graph.value(api_dataset, DCT.accessRights)).endswith("/NON_PUBLIC")
    assert len(set(graph.subjects(RDF.type, DCAT.CatalogRecord))) == 2


# Literals that are codes rather than text, and so carry no language tag.
CODE_PREDICATES = {DCT.identifier, SKOS.notation, DCAT.version}


def test_every_text_literal_has_a_language_tag_and_english_where_the_provider_gave_it(
    client, products
):
    archive, _api = products
    graph = _graph(client.get(CATALOG))
    untagged = {
        (str(p), str(o))
        for _s, p, o in graph
        if isinstance(o, Literal) and o.datatype is None and not o.language
        and p not in CODE_PREDICATES
    }  # fmt: skip
    assert untagged == set()
    # a product written in both languages says everything of its own in both
    dataset = next(graph.subjects(DCT.identifier, Literal(archive.registration_number)))
    distribution = graph.value(dataset, DCAT.distribution)
    licence = graph.value(distribution, DCT.license)
    for node, predicate in [(dataset, DCT.title), (dataset, DCT.description),
                            (distribution, DCT.title), (distribution, DCT.description),
                            (licence, DCT.title), (graph.value(dataset, DCT.conformsTo), DCT.title),
                            (graph.value(dataset, DCAT.inSeries), DCT.title)]:  # fmt: skip
        assert {o.language for o in graph.objects(node, predicate)} == {"zh", "en"}, predicate
    contact = graph.value(dataset, DCAT.contactPoint)
    assert graph.value(contact, VCARD.fn).language in {"zh", "en"}  # by the name's script


def _minted_iris(graph: Graph, base: str) -> set[str]:
    """Every IRI on our own host the graph names (the catalog's, and the API schema)."""
    return {
        str(term).split("#")[0]
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(base + "/")
    }


def test_every_minted_iri_dereferences_as_json_ld_turtle_and_html(client, products):
    # given the catalog and every IRI of ours it names
    graph = _graph(client.get(CATALOG))
    iris = _minted_iris(graph, "http://testserver")
    kinds = {iri.split("/api/v1/catalog/")[1].split("/")[0] for iri in iris if "/catalog/" in iri}
    assert {"datasets", "distributions", "services", "records", "themes", "series",
            "publishers", "changes", "grades"} <= kinds  # fmt: skip
    # a data service's endpoint description is the OpenAPI document, whatever is asked
    assert "http://testserver/api/schema/" in iris
    for accept in ("application/ld+json", "text/turtle", BROWSER_ACCEPT):
        schema = client.get("/api/schema/", HTTP_ACCEPT=accept)
        assert schema.status_code == 200, accept
        assert b"openapi" in schema.content[:200]
    iris.discard("http://testserver/api/schema/")
    for iri in sorted(iris):
        path = iri.removeprefix("http://testserver")
        # an anonymous client gets JSON-LD naming the IRI itself
        plain = client.get(path)
        assert plain.status_code == 200, path
        assert plain["Content-Type"].startswith("application/ld+json"), path
        if "/changes" not in path and "?" not in path:
            assert URIRef(iri) in set(_graph(plain).subjects()), path
        # a browser gets a page, a linked-data client Turtle
        page = client.get(path, HTTP_ACCEPT=BROWSER_ACCEPT)
        assert page["Content-Type"].startswith("text/html"), path
        turtle = client.get(path, HTTP_ACCEPT="text/turtle")
        assert turtle["Content-Type"].startswith("text/turtle"), path
        Graph().parse(data=turtle.content.decode(), format="turtle")


def test_turtle_is_the_same_graph_as_json_ld(client, products):
    from rdflib.compare import isomorphic

    as_jsonld = _graph(client.get(CATALOG))
    turtle = client.get(CATALOG, HTTP_ACCEPT="text/turtle;q=1, application/ld+json;q=0.5")
    assert turtle["Content-Type"].startswith("text/turtle")
    assert isomorphic(as_jsonld, Graph().parse(data=turtle.content.decode(), format="turtle"))


def test_unlisted_products_and_unknown_iris_are_404_in_every_format(client, products):
    draft_like = ProductFactory(status="suspended")
    paths = (
        f"/api/v1/catalog/datasets/{draft_like.registration_number}",
        "/api/v1/catalog/publishers/nobody",
        "/api/v1/catalog/themes/nothing",
    )
    for path in paths:
        assert client.get(path).status_code == 404
        assert client.get(path, HTTP_ACCEPT="text/turtle").status_code == 404
        assert client.get(path, HTTP_ACCEPT=BROWSER_ACCEPT).status_code == 404
    # and a file product has no data service
    archive, _api = products
    assert client.get(f"/api/v1/catalog/services/{archive.registration_number}").status_code == 404


def test_nothing_acceptable_is_a_406(client, products):
    assert client.get(CATALOG, HTTP_ACCEPT="image/png").status_code == 406


def test_modified_since_gives_only_what_changed(client, products):
    archive, api = products
    cut = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    type(archive).objects.filter(pk=api.pk).update(updated_at=cut - dt.timedelta(days=1))
    type(archive).objects.filter(pk=archive.pk).update(updated_at=cut + dt.timedelta(days=1))
    response = client.get(CATALOG, {"modified_since": cut.isoformat()})
    ids = [d["dct:identifier"] for d in response.json()["dcat:dataset"]]
    assert ids == [archive.registration_number]
    assert "modified_since=" in response.json()["hydra:view"]["hydra:first"]


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "2024-01-01T00:00:00Z!"])
def test_bad_modified_since_is_a_400_naming_it(client, value):
    response = client.get(CATALOG, {"modified_since": value})
    assert response.status_code == 400
    assert "modified_since" in response.json()
