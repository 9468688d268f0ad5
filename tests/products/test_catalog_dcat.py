import json

import pytest
from django.core.management import call_command

from products.catalog import DCAT_CONTEXT
from products.catalog_validation import catalog_validate
from tests.factories.products import BoardFactory, IndustryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/catalog/dcat.jsonld"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"


def expand(document: dict, term: str) -> str:
    """Resolve a compact IRI (dcat:Dataset) through the document's own @context."""
    prefix, _, local = term.partition(":")
    return document["@context"][prefix] + local


@pytest.fixture
def listed():
    weather = IndustryFactory(code="weather", name="Weather")
    board = BoardFactory(code="weather-board", name="Weather board")
    file_product = ProductFactory(
        title="Rain archive", summary="Daily rainfall", tags="rain, archive",
        delivery_mode="file", industry=weather, board=board, volume_bytes=2**40,
    )  # fmt: skip
    api_product = ProductFactory(title="Forecast API", delivery_mode="api", industry=weather)
    ProductFactory(title="Hidden draft", status="draft")
    ProductFactory(title="Suspended", status="suspended")
    return file_product, api_product


def test_catalog_is_dcat_json_ld_with_the_dcat_terms(client, listed):
    # given listed products (and a draft and a suspended one that must not appear)
    file_product, api_product = listed
    # when another exchange fetches the catalog, without signing in
    response = client.get(URL)
    # then it is JSON-LD naming the DCAT and Dublin Core vocabularies
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    assert document["@context"]["dcat"] == DCAT
    assert document["@context"]["dct"] == DCT
    assert expand(document, document["@type"]) == DCAT + "Catalog"
    datasets = {d["dct:identifier"]: d for d in document["dcat:dataset"]}
    assert set(datasets) == {file_product.registration_number, api_product.registration_number}
    rain = datasets[file_product.registration_number]
    assert expand(document, rain["@type"]) == DCAT + "Dataset"
    assert rain["dct:title"] == [{"@value": "Rain archive", "@language": "en"}]
    assert rain["dct:description"] == [{"@value": "Daily rainfall", "@language": "en"}]
    assert [k["@value"] for k in rain["dcat:keyword"]] == ["rain", "archive"]
    assert rain["dct:publisher"]["foaf:name"][0]["@value"] == file_product.provider.legal_name
    assert rain["dct:publisher"]["dct:identifier"] == file_product.provider.credit_code
    assert rain["dcat:theme"][0]["skos:notation"] == "weather"
    assert rain["dct:issued"].startswith(str(file_product.listed_at.year))
    assert "dct:modified" in rain
    distribution = rain["dcat:distribution"][0]
    assert expand(document, distribution["@type"]) == DCAT + "Distribution"
    assert distribution["dcat:byteSize"] == 2**40
    assert "dcat:accessService" not in distribution
    # and a product delivered as an API is also a dcat:DataService the distribution names
    services = {s["@id"]: s for s in document["dcat:service"]}
    api = datasets[api_product.registration_number]
    service_id = api["dcat:distribution"][0]["dcat:accessService"]
    assert expand(document, services[service_id]["@type"]) == DCAT + "DataService"
    assert services[service_id]["dcat:servesDataset"] == api["@id"]
    assert "dcat:endpointURL" in services[service_id]


def test_context_types_dates_and_links(listed):
    assert DCAT_CONTEXT["dct:issued"] == {"@type": "xsd:dateTime"}
    assert DCAT_CONTEXT["dcat:accessURL"] == {"@type": "@id"}


def test_catalog_pages_follow_hydra_next_and_the_link_header(client):
    for _ in range(5):
        ProductFactory()
    seen, url = [], f"{URL}?page_size=2"
    while url:
        response = client.get(url)
        document = response.json()
        assert document["hydra:view"]["@type"] == "hydra:PartialCollectionView"
        seen += [d["dct:identifier"] for d in document["dcat:dataset"]]
        url = document["hydra:view"].get("hydra:next")
        if url:
            assert response["Link"] == f'<{url}>; rel="next"'
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("query", ["page_size=0", "page_size=abc", "after=-1", "after=1e99"])
def test_bad_paging_is_a_400(query, client):
    assert client.get(f"{URL}?{query}").status_code == 400


def test_export_catalog_writes_the_whole_catalog_streaming(listed, tmp_path):
    # given more listed products than one batch
    for _ in range(5):
        ProductFactory(delivery_mode="privacy_computing")
    path = tmp_path / "catalog.jsonld"
    out = []

    class Writer:
        def write(self, text, *args, **kwargs):
            out.append(text)

        def flush(self):
            pass

    # when exported in batches of 2
    call_command("export_catalog", str(path), "--batch", "2", stdout=Writer())
    # then the file is one valid JSON-LD catalog with every listed product
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["@type"] == "dcat:Catalog"
    assert document["@context"]["dcat"] == DCAT
    assert len(document["dcat:dataset"]) == 7
    assert catalog_validate(document).violations == 0
    assert len(document["dcat:service"]) == 6
    assert any("7/7" in line for line in out)


def test_export_of_an_empty_catalog_is_still_valid_json(tmp_path):
    path = tmp_path / "empty.jsonld"
    call_command("export_catalog", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    document = json.loads(path.read_text())
    assert document["dcat:dataset"] == []
    assert document["dcat:service"] == []
