"""The catalog for other exchanges (全国互联互通): listed products as DCAT-AP 3.0 JSON-LD.

Each listed product is a dcat:Dataset with one dcat:Distribution describing how
it is delivered, and a dcat:CatalogRecord saying when it entered the catalog.
Products delivered as a service (API, privacy computing) are also a
dcat:DataService that the distribution names as dcat:accessService.

Every IRI minted here answers under /api/v1/catalog/ (products.api.catalog):
datasets, distributions, services and records by registration number, themes
by industry code, series by board code, publishers by credit code. External
vocabularies are the published ones DCAT-AP names (EU languages, access
rights, data themes, file types; IANA media types), each typed in the output
so that SHACL class constraints hold without fetching them.

Pages are keyset pages over the product id (no OFFSET, no COUNT), linked
hydra-style (hydra:PartialCollectionView with hydra:next) and by a Link header.
`modified_since` narrows a page to products whose description or listing
status changed since then, so partners harvest only changes.
"""

import datetime as dt
import re
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from interchange.models import RegistrationRecognition
from products.choices import (
    SERVICE_DELIVERY_MODES,
    DataTheme,
    DeliveryMode,
    Grade,
    ProductStatus,
)
from products.models import Board, Industry, Product, ProductEvent

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DCAT_AP_3 = "http://data.europa.eu/r5r/"

DCAT_CONTEXT = {
    "dcat": DCAT,
    "dct": DCT,
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "as": "https://www.w3.org/ns/activitystreams#",
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:endpointURL": {"@type": "@id"},
    "dcat:endpointDescription": {"@type": "@id"},
    "dcat:landingPage": {"@type": "@id"},
    "dcat:servesDataset": {"@type": "@id"},
    "dcat:accessService": {"@type": "@id"},
    "foaf:primaryTopic": {"@type": "@id"},
    "foaf:homepage": {"@type": "@id"},
    "vcard:hasEmail": {"@type": "@id"},
    "vcard:hasURL": {"@type": "@id"},
    "skos:inScheme": {"@type": "@id"},
    "skos:topConceptOf": {"@type": "@id"},
    "skos:hasTopConcept": {"@type": "@id"},
    "skos:exactMatch": {"@type": "@id"},
    "skos:closeMatch": {"@type": "@id"},
    "hydra:first": {"@type": "@id"},
    "hydra:next": {"@type": "@id"},
    "as:object": {"@type": "@id"},
    "as:published": {"@type": "xsd:dateTime"},
}

# What each delivery mode hands over: an IANA media type and an EU file type.
MEDIA_TYPES = {
    DeliveryMode.FILE: ("application/octet-stream", "BIN"),
    DeliveryMode.API: ("application/json", "JSON"),
    DeliveryMode.REPORT: ("application/pdf", "PDF"),
    DeliveryMode.MODEL: ("application/octet-stream", "BIN"),
    DeliveryMode.PRIVACY_COMPUTING: ("application/json", "JSON"),
}
# Traded data is reached only through an order (restricted); important-grade
# data is further held back to vetted buyers (non-public).
ACCESS_RIGHTS = {Grade.GENERAL: "RESTRICTED", Grade.IMPORTANT: "NON_PUBLIC"}
LANGUAGES = {"zh": "ZHO", "en": "ENG"}

# Our own words in the catalog, translated when a document is built (both
# languages at once, so marked here and looked up in `translated`).
THEME_SCHEME_TITLE = gettext_noop("Industries of the data exchange")
PRODUCT_LICENCE_TITLE = gettext_noop("Data product licence of the exchange")
DISTRIBUTION_DESCRIPTION = gettext_noop(
    "Delivered by the exchange once an order for it is paid; see the landing page."
)
CATALOG_DESCRIPTION = gettext_noop(
    "The data products listed on the exchange, with their providers, licences "
    "and registration numbers, for other exchanges to harvest."
)
CATALOG_LICENCE_TITLE = gettext_noop("The catalog's metadata may be reused by other exchanges")
CREDIT_CODE_SCHEME = gettext_noop("Unified social credit code")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Every concept and scheme we name carries a label, as DCAT-AP asks, those of
# external vocabularies too (the EU data themes' labels are DataTheme's).
EU_DATA_THEME_SCHEME_TITLE = gettext_noop("Data themes of the EU vocabularies")
PUBLISHER_TYPES = {
    "NationalAuthority": gettext_noop("National authority"),
    "Company": gettext_noop("Company"),
}


def catalog_settings() -> dict:
    """Who publishes the catalog: the exchange's names, credit code, address, region."""
    return settings.EXCHANGE_CATALOG


# --- IRIs we mint -------------------------------------------------------------


def listed_number(product: Product) -> str:
    """The registration number of a product in the catalog (every listed product has one)."""
    if product.registration_number is None:
        raise ValueError(f"product {product.pk} is in the catalog without a registration number")
    return product.registration_number


def catalog_iri(base: str) -> str:
    return f"{base}/api/v1/catalog/"


def dataset_iri(base: str, registration_number: str) -> str:
    return f"{base}/api/v1/catalog/datasets/{registration_number}"


def distribution_iri(base: str, registration_number: str) -> str:
    return f"{base}/api/v1/catalog/distributions/{registration_number}"


def service_iri(base: str, registration_number: str) -> str:
    return f"{base}/api/v1/catalog/services/{registration_number}"


def record_iri(base: str, registration_number: str) -> str:
    return f"{base}/api/v1/catalog/records/{registration_number}"


def grade_scheme_iri(base: str) -> str:
    return f"{base}/api/v1/catalog/grades/"


def grade_iri(base: str, grade: str) -> str:
    return f"{base}/api/v1/catalog/grades/{grade}"


def theme_scheme_iri(base: str) -> str:
    return f"{base}/api/v1/catalog/themes/"


def theme_iri(base: str, code: str) -> str:
    return f"{base}/api/v1/catalog/themes/{code}"


def series_iri(base: str, code: str) -> str:
    return f"{base}/api/v1/catalog/series/{code}"


def publisher_iri(base: str, credit_code: str) -> str:
    return f"{base}/api/v1/catalog/publishers/{credit_code}"


def changes_iri(base: str) -> str:
    return f"{base}/api/v1/catalog/changes"


# --- literals and shared nodes -----------------------------------------------


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _date(value: dt.date) -> str:
    return value.isoformat()


def tagged(text: str, language: str) -> dict:
    return {"@value": text, "@language": language}


def bilingual(primary: str, english: str = "") -> list[dict]:
    """A text as the merchant wrote it plus its English version, each language-tagged.

    The exchange works in Chinese; a primary text with no Chinese character in
    it is tagged English rather than mislabelled (and then stands for both).
    """
    values = []
    primary, english = (primary or "").strip(), (english or "").strip()
    if primary:
        values.append(tagged(primary, "zh" if _CJK.search(primary) else "en"))
    if english and (not values or values[0]["@language"] == "zh"):
        values.append(tagged(english, "en"))
    return values


def translated(message: str) -> list[dict]:
    """One of our own strings in both languages, through the translation catalog."""
    values = []
    for language, code in (("zh-hans", "zh"), ("en", "en")):
        with translation.override(language):
            values.append(tagged(_(message), code))
    return values


def both_languages(label) -> list[dict]:
    """A lazy label (a choice's) in both languages."""
    values = []
    for language, code in (("zh-hans", "zh"), ("en", "en")):
        with translation.override(language):
            values.append(tagged(str(label), code))
    return values


def _authority(table: str, code: str, rdf_type: str) -> dict:
    return {"@id": f"{EU_AUTHORITY}{table}/{code}", "@type": rdf_type}


def languages() -> list[dict]:
    return [_authority("language", code, "dct:LinguisticSystem") for code in LANGUAGES.values()]


def spatial() -> list[dict]:
    profile = catalog_settings()
    return [{"@id": iri, "@type": "dct:Location"} for iri in profile["spatial"]]


def standard(iri: str, title: str) -> dict:
    """A specification followed; its title is a proper name, the same in both languages."""
    return {
        "@id": iri,
        "@type": "dct:Standard",
        "dct:title": [tagged(title, "zh"), tagged(title, "en")],
    }


DCAT_AP_STANDARD = ("https://semiceu.github.io/DCAT-AP/releases/3.0.0/", "DCAT-AP 3.0.0")


def publisher_type(code: str) -> dict:
    """An ADMS publisher type, labelled."""
    return {
        "@id": f"http://purl.org/adms/publishertype/{code}",
        "@type": "skos:Concept",
        "skos:prefLabel": translated(PUBLISHER_TYPES[code]),
    }


def exchange_agent(base: str) -> dict:
    profile = catalog_settings()
    return {
        "@id": publisher_iri(base, profile["credit_code"]),
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": [tagged(profile["name_zh"], "zh"), tagged(profile["name_en"], "en")],
        "dct:identifier": profile["credit_code"],
        "dct:type": publisher_type("NationalAuthority"),
        "foaf:homepage": {"@id": profile["homepage"], "@type": "foaf:Document"},
    }


def merchant_agent(base: str, merchant) -> dict:
    """A provider as a foaf:Agent, identified by its unified social credit code."""
    return {
        "@id": publisher_iri(base, merchant.credit_code),
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": bilingual(merchant.legal_name),
        "dct:identifier": merchant.credit_code,
        "adms:identifier": {
            "@type": "adms:Identifier",
            "skos:notation": merchant.credit_code,
            "adms:schemaAgency": translated(CREDIT_CODE_SCHEME),
        },
        "dct:type": publisher_type("Company"),
    }


def contact_point(base: str, product: Product) -> dict:
    """The provider as a vCard organisation; buyers reach it through its listing.

    The contact person's name and phone are not published: the e-mail is the
    provider's when it gave one, else the exchange's service desk.
    """
    email = product.provider.contact_email or catalog_settings()["email"]
    return {
        "@id": f"{dataset_iri(base, listed_number(product))}#contact",
        "@type": ["vcard:Kind", "vcard:Organization"],
        "vcard:fn": bilingual(product.provider.legal_name),
        "vcard:hasEmail": f"mailto:{email}",
        "vcard:hasURL": dataset_iri(base, listed_number(product)),
    }


def theme_concepts(base: str, industry: Industry) -> list[dict]:
    """Our industry as a concept of our scheme, and the EU data theme it maps to."""
    ours = {
        "@id": theme_iri(base, industry.code),
        "@type": "skos:Concept",
        "skos:notation": industry.code,
        "skos:prefLabel": bilingual(industry.name, industry.name_en),
        "skos:inScheme": theme_scheme_iri(base),
        "skos:topConceptOf": theme_scheme_iri(base),
    }
    concepts = [ours]
    if industry.data_theme:
        eu = f"{EU_AUTHORITY}data-theme/{industry.data_theme}"
        ours["skos:exactMatch"] = eu
        if industry.data_theme in DataTheme.values:
            label = both_languages(DataTheme(industry.data_theme).label)
        else:
            label = [tagged(industry.data_theme, "en")]
        concepts.append(
            {
                "@id": eu,
                "@type": "skos:Concept",
                "skos:prefLabel": label,
                "skos:inScheme": f"{EU_AUTHORITY}data-theme",
            }
        )
    return concepts


# The classification grades (数据分类分级) as a concept scheme identified by the
# national standard, so that a partner can tell important from general data.
GRADE_STANDARD = "GB/T 43697-2024"
GRADE_SCHEME_TITLE = gettext_noop("Classification grades of data")


def grade_scheme(base: str) -> dict:
    return {
        "@id": grade_scheme_iri(base),
        "@type": "skos:ConceptScheme",
        "dct:title": translated(GRADE_SCHEME_TITLE),
        "dct:identifier": GRADE_STANDARD,
        "skos:hasTopConcept": [grade_iri(base, grade) for grade in Grade.values],
    }


def grade_concept(base: str, grade: str) -> dict:
    return {
        "@id": grade_iri(base, grade),
        "@type": "skos:Concept",
        "skos:notation": grade,
        "skos:prefLabel": both_languages(Grade(grade).label),
        "skos:inScheme": {
            "@id": grade_scheme_iri(base),
            "@type": "skos:ConceptScheme",
            "dct:title": translated(GRADE_SCHEME_TITLE),
            "dct:identifier": GRADE_STANDARD,
        },
        "skos:topConceptOf": grade_scheme_iri(base),
    }


def theme_scheme(base: str, industries) -> dict:
    return {
        "@id": theme_scheme_iri(base),
        "@type": "skos:ConceptScheme",
        "dct:title": translated(THEME_SCHEME_TITLE),
        "skos:hasTopConcept": [theme_iri(base, i.code) for i in industries],
    }


def series_node(base: str, board: Board) -> dict:
    return {
        "@id": series_iri(base, board.code),
        "@type": "dcat:DatasetSeries",
        "dct:title": bilingual(board.name, board.name_en),
        "dct:description": bilingual(board.description or board.name),
    }


# --- products -----------------------------------------------------------------


def catalog_queryset() -> QuerySet[Product]:
    """Listed products in id order, with what a node needs in the same query."""
    return (
        Product.objects.filter(status=ProductStatus.LISTED)
        .select_related("provider", "industry", "board")
        .only(
            "id",
            "title",
            "title_en",
            "summary",
            "summary_en",
            "coverage_start",
            "coverage_end",
            "manual_usage_restrictions",
            "manual_update_frequency",
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
            "provider__contact_email",
            "industry__code",
            "industry__name",
            "industry__name_en",
            "industry__data_theme",
            "board__code",
            "board__name",
            "board__name_en",
            "board__description",
        )
        .prefetch_related(
            Prefetch(
                "registration_recognitions",
                queryset=RegistrationRecognition.objects.filter(status="recognised")
                .select_related("partner")
                .order_by("id"),
                to_attr="recognised_registrations",
            )
        )
        .order_by("id")
    )


def changed_since(queryset: QuerySet[Product], since: dt.datetime) -> QuerySet[Product]:
    """Products whose description changed, or that moved on or off the shelf, since `since`."""
    moved = ProductEvent.objects.filter(subject=OuterRef("pk"), created_at__gte=since)
    return queryset.filter(Q(updated_at__gte=since) | Exists(moved))


def product_nodes(product: Product, base: str) -> tuple[dict, dict | None]:
    """The dcat:Dataset of a product, and its dcat:DataService when served as one."""
    number = listed_number(product)
    dataset_id = dataset_iri(base, number)
    is_service = product.delivery_mode in SERVICE_DELIVERY_MODES
    media_type, file_type = MEDIA_TYPES.get(
        DeliveryMode(product.delivery_mode), MEDIA_TYPES[DeliveryMode.FILE]
    )
    publisher = merchant_agent(base, product.provider)
    licence = {
        "@id": f"{dataset_id}#licence",
        "@type": "dct:LicenseDocument",
        "dct:title": translated(PRODUCT_LICENCE_TITLE),
        "dct:description": bilingual(product.manual_usage_restrictions),
    }
    access_rights = _authority(
        "access-right", ACCESS_RIGHTS.get(Grade(product.grade), "NON_PUBLIC"), "dct:RightsStatement"
    )
    themes = [*theme_concepts(base, product.industry), grade_concept(base, product.grade)]
    distribution = {
        "@id": distribution_iri(base, number),
        "@type": "dcat:Distribution",
        "dct:title": bilingual(
            f"{product.title} ({product.get_delivery_mode_display()})",
            f"{product.title_en} ({_delivery_mode_en(product)})" if product.title_en else "",
        ),
        "dct:description": translated(DISTRIBUTION_DESCRIPTION),
        "dct:format": _authority("file-type", file_type, "dct:MediaTypeOrExtent"),
        "dcat:mediaType": {
            "@id": f"https://www.iana.org/assignments/media-types/{media_type}",
            "@type": "dct:MediaType",
        },
        "dcat:accessURL": dataset_id,
        "dcat:byteSize": product.volume_bytes,
        "dct:license": licence,
        "dct:accessRights": access_rights,
        "dct:issued": _iso(product.listed_at),
        "dct:modified": _iso(product.updated_at),
    }
    if is_service:
        distribution["dcat:accessService"] = service_iri(base, number)
    dataset = {
        "@id": dataset_id,
        "@type": "dcat:Dataset",
        "dct:identifier": number,
        "adms:identifier": {
            "@type": "adms:Identifier",
            "skos:notation": number,
            "adms:schemaAgency": [
                tagged(catalog_settings()["name_zh"], "zh"),
                tagged(catalog_settings()["name_en"], "en"),
            ],
        },
        "dct:title": bilingual(product.title, product.title_en),
        "dct:description": bilingual(product.summary or product.title, product.summary_en),
        "dct:publisher": publisher,
        "dcat:contactPoint": contact_point(base, product),
        "dcat:keyword": [_keyword(tag) for tag in product.tag_list],
        "dct:issued": _iso(product.listed_at),
        "dct:modified": _iso(product.updated_at),
        "dcat:version": str(product.version),
        "dcat:theme": themes,
        "dcat:landingPage": {"@id": dataset_id, "@type": "foaf:Document"},
        "dct:language": languages(),
        "dct:spatial": spatial(),
        "dct:accessRights": access_rights,
        "dct:conformsTo": standard(*DCAT_AP_STANDARD),
        "dcat:distribution": [distribution],
    }
    # 登记互认: the registrations at partner exchanges recognised here.
    for recognition in getattr(product, "recognised_registrations", ()):
        dataset["adms:identifier"] = [
            *_as_list(dataset["adms:identifier"]),
            {
                "@type": "adms:Identifier",
                "skos:notation": recognition.registration_number,
                "adms:schemaAgency": recognition.partner.name,
            },
        ]
    if product.coverage_start or product.coverage_end:
        period = {"@type": "dct:PeriodOfTime"}
        if product.coverage_start:
            period["dcat:startDate"] = _date(product.coverage_start)
        if product.coverage_end:
            period["dcat:endDate"] = _date(product.coverage_end)
        dataset["dct:temporal"] = period
    if product.board is not None:
        dataset["dcat:inSeries"] = series_node(base, product.board)
    service = None
    if is_service:
        service = {
            "@id": service_iri(base, number),
            "@type": "dcat:DataService",
            "dct:identifier": number,
            "dct:title": dataset["dct:title"],
            "dct:description": dataset["dct:description"],
            "dct:publisher": publisher,
            "dcat:contactPoint": dataset["dcat:contactPoint"],
            "dcat:endpointURL": dataset_id,
            "dcat:endpointDescription": f"{base}/api/schema/",
            "dcat:servesDataset": dataset_id,
            "dcat:theme": themes,
            "dcat:keyword": dataset["dcat:keyword"],
            "dct:license": licence,
            "dct:accessRights": access_rights,
            "dcat:landingPage": dataset["dcat:landingPage"],
        }
    return dataset, service


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _keyword(tag: str) -> dict:
    return tagged(tag, "zh" if _CJK.search(tag) else "en")


def _delivery_mode_en(product: Product) -> str:
    with translation.override("en"):
        return str(product.get_delivery_mode_display())


def record_node(product: Product, base: str) -> dict:
    """The catalog's own entry about a dataset: when it was listed and last changed."""
    return {
        "@id": record_iri(base, listed_number(product)),
        "@type": "dcat:CatalogRecord",
        "foaf:primaryTopic": dataset_iri(base, listed_number(product)),
        "dct:issued": _iso(product.listed_at),
        "dct:modified": _iso(product.updated_at),
        "dct:conformsTo": standard(*DCAT_AP_STANDARD),
        "dct:language": languages(),
    }


def catalog_head(base: str) -> dict:
    profile = catalog_settings()
    return {
        "@context": DCAT_CONTEXT,
        "@id": catalog_iri(base),
        "@type": "dcat:Catalog",
        "dct:title": [tagged(profile["title_zh"], "zh"), tagged(profile["title_en"], "en")],
        "dct:description": translated(CATALOG_DESCRIPTION),
        "dct:publisher": exchange_agent(base),
        "foaf:homepage": {"@id": profile["homepage"], "@type": "foaf:Document"},
        "dct:language": languages(),
        "dct:spatial": spatial(),
        "dct:license": {
            "@id": f"{catalog_iri(base)}#licence",
            "@type": "dct:LicenseDocument",
            "dct:title": translated(CATALOG_LICENCE_TITLE),
        },
        "dcat:themeTaxonomy": [
            {
                "@id": theme_scheme_iri(base),
                "@type": "skos:ConceptScheme",
                "dct:title": translated(THEME_SCHEME_TITLE),
            },
            {
                "@id": f"{EU_AUTHORITY}data-theme",
                "@type": "skos:ConceptScheme",
                "dct:title": translated(EU_DATA_THEME_SCHEME_TITLE),
            },
            {
                "@id": grade_scheme_iri(base),
                "@type": "skos:ConceptScheme",
                "dct:title": translated(GRADE_SCHEME_TITLE),
            },
        ],
        "dct:conformsTo": standard(*DCAT_AP_STANDARD),
        "rdfs:seeAlso": {"@id": changes_iri(base)},
    }


def catalog_page(
    *,
    base_url: str,
    after: int = 0,
    size: int = 100,
    modified_since: dt.datetime | None = None,
) -> tuple[dict, int | None]:
    """One page of the catalog: products with id > `after`; returns (document, next after)."""
    queryset = catalog_queryset()
    if modified_since is not None:
        queryset = changed_since(queryset, modified_since)
    rows = list(queryset.filter(id__gt=after)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    datasets, services, records = [], [], []
    for product in rows:
        dataset, service = product_nodes(product, base_url)
        datasets.append(dataset)
        records.append(record_node(product, base_url))
        if service is not None:
            services.append(service)
    document = catalog_head(base_url)
    document["dcat:dataset"] = datasets
    document["dcat:service"] = services
    document["dcat:record"] = records
    next_after = rows[-1].pk if more else None
    page_url = catalog_iri(base_url)
    extra = f"&modified_since={modified_since.isoformat()}" if modified_since else ""
    extra = extra.replace("+", "%2B")
    view = {
        "@id": f"{page_url}?after={after}&page_size={size}{extra}",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": f"{page_url}?page_size={size}{extra}",
    }
    if next_after is not None:
        view["hydra:next"] = f"{page_url}?after={next_after}&page_size={size}{extra}"
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


# --- the change feed ----------------------------------------------------------

# Changes are read off the listing's status events (insert-only, so the event
# id is a stable cursor): a first listing is "created"; a new version
# (listed -> listed) or a reinstatement is "updated"; leaving the shelf
# (suspended or delisted) is "delisted".
CHANGE_CREATED, CHANGE_UPDATED, CHANGE_DELISTED = "created", "updated", "delisted"
ACTIVITY_TYPES = {
    CHANGE_CREATED: "as:Create",
    CHANGE_UPDATED: "as:Update",
    CHANGE_DELISTED: "as:Remove",
}


def _event_change(event: ProductEvent) -> str:
    if event.to_status == ProductStatus.LISTED:
        if event.from_status in (ProductStatus.LISTED, ProductStatus.SUSPENDED):
            return CHANGE_UPDATED
        return CHANGE_CREATED
    return CHANGE_DELISTED


def change_page(
    *,
    base_url: str,
    since: dt.datetime | None = None,
    after: int = 0,
    size: int = 100,
) -> dict:
    """Created, updated and delisted products in the order they happened (ActivityStreams)."""
    events = (
        ProductEvent.objects.filter(
            Q(to_status=ProductStatus.LISTED) | Q(from_status=ProductStatus.LISTED),
            id__gt=after,
        )
        .select_related("subject")
        .only("id", "created_at", "from_status", "to_status", "subject__registration_number")
        .order_by("id")
    )
    if since is not None:
        events = events.filter(created_at__gte=since)
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    items = []
    for event in rows:
        change = _event_change(event)
        number = listed_number(event.subject)
        items.append(
            {
                "@id": f"{changes_iri(base_url)}#{event.pk}",
                "@type": ACTIVITY_TYPES[change],
                "as:name": change,
                "as:object": dataset_iri(base_url, number),
                "dct:identifier": number,
                "as:published": _iso(event.created_at),
            }
        )
    page_url = changes_iri(base_url)
    extra = f"&since={since.isoformat()}".replace("+", "%2B") if since else ""
    document = {
        "@context": DCAT_CONTEXT,
        "@id": page_url,
        "@type": "as:OrderedCollectionPage",
        "as:partOf": {"@id": catalog_iri(base_url)},
        "as:orderedItems": items,
    }
    view = {"@type": "hydra:PartialCollectionView"}
    if more:
        view["hydra:next"] = f"{page_url}?after={rows[-1].pk}&page_size={size}{extra}"
    document["hydra:view"] = view
    return document


# --- single resources (what a dereferenced IRI answers) -------------------------


def _document(nodes: list[dict]) -> dict:
    return {"@context": DCAT_CONTEXT, "@graph": nodes}


def listed_product(registration_number: str) -> Product | None:
    return catalog_queryset().filter(registration_number=registration_number).first()


def resource_document(kind: str, key: str, base: str) -> dict | None:
    """The JSON-LD a minted IRI answers, or None (404) when nothing listed stands behind it."""
    if kind in {"dataset", "distribution", "service", "record"}:
        product = listed_product(key)
        if product is None:
            return None
        dataset, service = product_nodes(product, base)
        if kind == "dataset":
            return _document([dataset])
        if kind == "distribution":
            return _document(dataset["dcat:distribution"])
        if kind == "record":
            return _document([record_node(product, base)])
        return _document([service]) if service else None
    if kind == "theme":
        industry = Industry.objects.filter(code=key).first()
        if industry is None:
            return None
        return _document(theme_concepts(base, industry))
    if kind == "themes":
        return _document([theme_scheme(base, Industry.objects.order_by("code"))])
    if kind == "grades":
        return _document([grade_scheme(base)])
    if kind == "grade":
        return _document([grade_concept(base, key)]) if key in Grade.values else None
    if kind == "series":
        board = Board.objects.filter(code=key).first()
        if board is None:
            return None
        return _document([series_node(base, board)])
    if kind == "publisher":
        if key == catalog_settings()["credit_code"]:
            return _document([exchange_agent(base)])
        from accounts.models import Merchant

        # Only providers with something listed are published.
        merchant = Merchant.objects.filter(
            credit_code=key, products__status=ProductStatus.LISTED
        ).first()
        return _document([merchant_agent(base, merchant)]) if merchant else None
    return None
