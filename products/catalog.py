"""The catalog for other exchanges (全国互联互通): listed products as W3C DCAT 3 JSON-LD.

Each listed product is a dcat:Dataset with one dcat:distribution describing how
it is delivered. Products delivered as a service (API, privacy computing) also
appear as a dcat:DataService in the catalog's dcat:service list; their
distribution names it as dcat:accessService, the DCAT 3 pattern for data that
is reached through a service rather than handed over.

Pages are keyset pages over the product id (no OFFSET, no COUNT), linked
hydra-style (hydra:PartialCollectionView with hydra:next) and by a Link header.
"""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from products.choices import SERVICE_DELIVERY_MODES, ProductStatus
from products.models import Product

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:endpointURL": {"@type": "@id"},
    "dcat:servesDataset": {"@type": "@id"},
    "dcat:accessService": {"@type": "@id"},
    "hydra:first": {"@type": "@id"},
    "hydra:next": {"@type": "@id"},
}

# Media type of what each delivery mode hands over (dcat:mediaType, IANA names).
MEDIA_TYPES = {
    "file": "application/octet-stream",
    "api": "application/json",
    "report": "application/pdf",
    "model": "application/octet-stream",
    "privacy_computing": "application/json",
}

CATALOG_TITLE = "Hunan Data Exchange catalog of listed data products"
CATALOG_PUBLISHER = "Hunan Data Exchange"


def catalog_queryset() -> QuerySet[Product]:
    """Listed products in id order, with what a node needs in the same query."""
    return (
        Product.objects.filter(status=ProductStatus.LISTED)
        .select_related("provider", "industry", "board")
        .only(
            "id",
            "title",
            "summary",
            "tags",
            "registration_number",
            "listed_at",
            "updated_at",
            "version",
            "delivery_mode",
            "volume_bytes",
            "grade",
            "provider__legal_name",
            "provider__credit_code",
            "industry__code",
            "industry__name",
            "board__code",
            "board__name",
        )
        .order_by("id")
    )


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def product_nodes(product: Product, base_url: str) -> tuple[dict, dict | None]:
    """The dcat:Dataset of a product, and its dcat:DataService when served as one."""
    product_url = f"{base_url}/catalog/products/{product.registration_number}"
    service_id = f"{product_url}#service"
    is_service = product.delivery_mode in SERVICE_DELIVERY_MODES
    distribution = {
        "@id": f"{product_url}#distribution",
        "@type": "dcat:Distribution",
        "dct:title": f"{product.title} ({product.get_delivery_mode_display()})",
        "dct:format": product.delivery_mode,
        "dcat:mediaType": MEDIA_TYPES.get(product.delivery_mode, "application/octet-stream"),
        "dcat:accessURL": product_url,
        "dcat:byteSize": product.volume_bytes,
    }
    if is_service:
        distribution["dcat:accessService"] = service_id
    dataset = {
        "@id": product_url,
        "@type": "dcat:Dataset",
        "dct:identifier": product.registration_number,
        "dct:title": product.title,
        "dct:description": product.summary,
        "dct:publisher": {
            "@type": "foaf:Organization",
            "foaf:name": product.provider.legal_name,
            "dct:identifier": product.provider.credit_code,
        },
        "dcat:keyword": product.tag_list,
        "dct:issued": _iso(product.listed_at),
        "dct:modified": _iso(product.updated_at),
        "dcat:version": str(product.version),
        "dcat:theme": {
            "@id": f"{base_url}/api/v1/industries/{product.industry.code}/",
            "@type": "skos:Concept",
            "skos:notation": product.industry.code,
            "skos:prefLabel": product.industry.name,
        },
        "dcat:distribution": [distribution],
    }
    if product.board_id:
        dataset["dcat:inSeries"] = {
            "@id": f"{base_url}/api/v1/boards/{product.board.code}/",
            "@type": "dcat:DatasetSeries",
            "dct:title": product.board.name,
        }
    service = None
    if is_service:
        service = {
            "@id": service_id,
            "@type": "dcat:DataService",
            "dct:identifier": product.registration_number,
            "dct:title": product.title,
            "dct:publisher": dataset["dct:publisher"],
            "dcat:endpointURL": product_url,
            "dcat:servesDataset": product_url,
            "dcat:theme": dataset["dcat:theme"],
            "dcat:keyword": dataset["dcat:keyword"],
        }
    return dataset, service


def catalog_head(base_url: str) -> dict:
    return {
        "@context": DCAT_CONTEXT,
        "@id": f"{base_url}/api/v1/catalog/dcat.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": CATALOG_TITLE,
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": CATALOG_PUBLISHER},
    }


def catalog_page(*, base_url: str, after: int = 0, size: int = 100) -> tuple[dict, int | None]:
    """One page of the catalog: products with id > `after`; returns (document, next after)."""
    rows = list(catalog_queryset().filter(id__gt=after)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    datasets, services = [], []
    for product in rows:
        dataset, service = product_nodes(product, base_url)
        datasets.append(dataset)
        if service is not None:
            services.append(service)
    document = catalog_head(base_url)
    document["dcat:dataset"] = datasets
    document["dcat:service"] = services
    next_after = rows[-1].pk if more else None
    page_url = f"{base_url}/api/v1/catalog/dcat.jsonld"
    view = {
        "@id": f"{page_url}?after={after}&page_size={size}",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": f"{page_url}?page_size={size}",
    }
    if next_after is not None:
        view["hydra:next"] = f"{page_url}?after={next_after}&page_size={size}"
    document["hydra:view"] = view
    return document, next_after


def iter_catalog_nodes(
    *, base_url: str, batch: int = 2000, services_only: bool = False
) -> Iterator[tuple[dict, dict | None]]:
    """Every listed product's nodes, fetched in keyset batches so memory stays flat."""
    queryset = catalog_queryset()
    if services_only:
        queryset = queryset.filter(delivery_mode__in=SERVICE_DELIVERY_MODES)
    after = 0
    while True:
        rows = list(queryset.filter(id__gt=after)[:batch])
        if not rows:
            return
        for product in rows:
            yield product_nodes(product, base_url)
        after = rows[-1].pk
