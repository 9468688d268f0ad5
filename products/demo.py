"""Demo industries, trading boards and a few dozen products in every listing status.

Runs after accounts and publicdata. Everything goes through products.services,
so the demo obeys the review rules: core data is never submitted, important
data is approved by two operators, public-data products carry their grant and
scenarios and stay within the grant's fee ceiling.
"""

from accounts.services import person_create
from core.demo import DemoContext
from products import services
from products.choices import ProductStatus
from products.models import Product
from publicdata.choices import ScenarioPurpose

# Important-grade data needs a second, different operator to approve it.
SECOND_OPERATOR = ("operator2", "operator2-demo-2024")

INDUSTRIES = [
    ("transport", "Transport"),
    ("energy", "Power and energy"),
    ("manufacturing", "Industrial manufacturing"),
    ("healthcare", "Healthcare"),
    ("agriculture", "Modern agriculture"),
    ("weather", "Weather"),
    ("natural-resources", "Natural resources"),
    ("finance", "Finance"),
    ("culture", "Culture and heritage"),
    ("public-security", "Public security"),
]

# industry -> (title, delivery mode, tags)
CATALOG = {
    "transport": [("Bus arrival predictions", "api", "bus, eta"),
                  ("Freight corridor volumes", "report", "logistics, freight")],
    "energy": [("Substation load curves", "file", "grid, load"),
               ("Household electricity index", "model", "consumption, index")],
    "manufacturing": [("Machine tool failure model", "model", "maintenance, iot"),
                      ("Industrial park output survey", "report", "parks, output")],
    "healthcare": [("Anonymised outpatient trends", "privacy_computing", "health, trends"),
                   ("Pharmacy stock levels", "api", "pharmacy, stock")],
    "agriculture": [("Rice yield estimates", "report", "rice, yield"),
                    ("Soil moisture grid", "file", "soil, moisture")],
    "weather": [("Hourly station observations", "api", "weather, stations"),
                ("Rainstorm risk maps", "file", "rain, risk"),
                ("Crop frost alerts", "api", "frost, agriculture")],
    "natural-resources": [("Land parcel changes", "file", "land, parcels")],
    "finance": [("SME credit scores", "model", "credit, sme"),
                ("Supply chain finance signals", "privacy_computing", "finance, supply chain")],
    "culture": [("Scenic area footfall", "api", "tourism, footfall"),
                ("Intangible heritage archive", "file", "heritage, archive")],
    "public-security": [("Road accident black spots", "report", "traffic, safety")],
}  # fmt: skip

MANUAL = {
    "manual_data_source": "Collected by the provider's own sensors and systems.",
    "manual_content": "Identifier, timestamp, measured values; documented field by field.",
    "manual_coverage": "Hunan province, from 2020 to date.",
    "manual_update_frequency": "Daily",
    "manual_quality": "Completeness above 98 %, checked every release.",
    "manual_usage_restrictions": "For the buyer's own analysis; no resale of records.",
}
ALL_TICKED = {
    "compliance_checklist": {
        "source_lawful": True,
        "personal_information": True,
        "grade_confirmed": True,
        "usage_restrictions": True,
        "public_data_rules": True,
    },
    "quality_checklist": {
        "manual_complete": True,
        "sample_matches": True,
        "coverage_stated": True,
        "pricing_clear": True,
    },
}
# The statuses the plain products end in, in turn.
STORY = [
    "listed", "listed", "listed", "draft", "submitted", "in_review", "listed",
    "rejected", "suspended", "listed", "delisted", "important", "listed", "revision",
]  # fmt: skip
PLANS = [
    {"kind": "one_off", "price_fen": 2_000_00},
    {"kind": "subscription", "period": "month", "price_fen": 800_00},
    {"kind": "subscription", "period": "quarter", "price_fen": 2_200_00},
    {"kind": "subscription", "period": "year", "price_fen": 8_000_00},
    {"kind": "metered", "unit_price_fen": 5, "included_calls": 10_000, "monthly_cap_fen": 5_000_00},
    {"kind": "free"},
]


def _plans(context, operator_or_owner, product, *, ceiling_fen=None, free=False):
    chosen = context.rng.sample(PLANS[:5], 2)
    if free:
        chosen = [PLANS[5]]
    for terms in chosen:
        terms = dict(terms)
        if ceiling_fen is not None:
            for field in ("price_fen", "unit_price_fen", "monthly_cap_fen"):
                if terms.get(field):
                    terms[field] = min(terms[field], ceiling_fen)
        services.plan_create(actor=operator_or_owner, product=product, **terms)


def _review_to(product, *, operator, second, owner, end: str, context):
    """Take a draft to the status the story asks for, through the services."""
    if end == "draft":
        return product
    if end == "core":
        return product
    services.product_submit(actor=owner, product=product)
    if end == "submitted":
        return product
    services.product_start_review(actor=operator, product=product)
    if end == "in_review":
        return product
    if end == "rejected":
        return services.product_reject(
            actor=operator,
            product=product,
            comments="State the stations covered and add a sample of ten rows.",
            quality_checklist={"manual_complete": False, "sample_matches": False},
        )
    product = services.product_approve(actor=operator, product=product, **ALL_TICKED)
    if product.status != ProductStatus.LISTED:
        # important grade: the second, different operator lists it
        product = services.product_approve(actor=second, product=product, **ALL_TICKED)
    if end == "suspended":
        product = services.product_suspend(
            actor=operator, product=product, reason="buyer complaint under investigation"
        )
    elif end == "delisted":
        services.product_request_delisting(
            actor=owner, product=product, reason="the source system is retired"
        )
        product = services.product_delist(actor=operator, product=product, reason="as asked")
    elif end == "revision":
        revision = services.revision_open(
            actor=owner, product=product, change_note="add 2024 coverage"
        )
        services.revision_update(
            actor=owner, revision=revision, manual_coverage="Hunan province, 2018 to date."
        )
        services.revision_submit(actor=owner, revision=revision)
        services.revision_start_review(actor=operator, revision=revision)
    return product


def seed(context: DemoContext) -> None:
    operator = context.made["operator"]
    second = person_create(
        username=SECOND_OPERATOR[0], password=SECOND_OPERATOR[1], is_operator=True,
        email="operator2@exchange.example",
    )  # fmt: skip
    industries = {
        code: services.industry_save(actor=operator, code=code, name=name)
        for code, name in INDUSTRIES
    }
    boards = {
        "weather": services.board_save(
            actor=operator,
            code="weather",
            name="Weather data trading board (气象数据交易专板)",
            description="Run with the provincial meteorological bureau.",
            department=context.made.get("weather_department"),
            industries=[industries["weather"], industries["agriculture"]],
        ),
        "health": services.board_save(
            actor=operator,
            code="healthcare",
            name="Healthcare data board",
            industries=[industries["healthcare"]],
        ),
    }
    merchants = context.made.get("merchants") or []
    if not merchants:
        return
    owners = {}

    def owner_of(merchant):
        if merchant.pk not in owners:
            owners[merchant.pk] = person_create(
                username=f"products-demo-{merchant.pk}",
                password=f"products-demo-{merchant.pk}-2024",
                merchant=merchant,
                role="staff",
            )
        return owners[merchant.pk]

    made = []
    items = [(code, item) for code, items in CATALOG.items() for item in items]
    # Two editions of each, from different merchants, make a few dozen products.
    items += [
        (code, (f"{title} (city edition)", mode, tags)) for code, (title, mode, tags) in items
    ]
    for i, (code, (title, mode, tags)) in enumerate(items):
        merchant = merchants[i % len(merchants)]
        owner = owner_of(merchant)
        end = STORY[i % len(STORY)]
        board = boards["weather"] if code in ("weather", "agriculture") else None
        if code == "healthcare":
            board = boards["health"]
        product = services.product_create(
            actor=owner,
            provider=merchant,
            title=title,
            summary=f"{title} for Hunan, from {merchant.legal_name}.",
            industry=industries[code],
            board=board,
            delivery_mode=mode,
            grade="important" if end == "important" else "general",
            volume_bytes=context.rng.randint(10**6, 10**12),
            tags=tags,
            sample="id,at,value\n1,2024-06-01T08:00+08:00,12.5",
            **MANUAL,
        )
        _plans(context, owner, product)
        made.append(
            _review_to(
                product, operator=operator, second=second, owner=owner, end=end, context=context
            )
        )
        context.progress("products", i + 1, len(items))

    # Core data is refused at submission; the draft stays to show why.
    core = services.product_create(
        actor=owner_of(merchants[0]), provider=merchants[0], title="Power grid topology",
        industry=industries["energy"], delivery_mode="file", grade="core", **MANUAL,
    )  # fmt: skip
    _plans(context, owner_of(merchants[0]), core)

    # Public-data products, built under the grants publicdata's demo made.
    for grant in context.made.get("grants") or []:
        scenarios = [s for s in context.made.get("scenarios") or [] if s.grant_id == grant.pk]
        if not scenarios or grant.status != "active":
            continue
        owner = owner_of(grant.grantee)
        free = any(s.purpose == ScenarioPurpose.PUBLIC_INTEREST for s in scenarios)
        product = services.product_create(
            actor=owner,
            provider=grant.grantee,
            title=f"{scenarios[0].name} service",
            summary="Results computed inside the data holder's domain (原始数据不出域).",
            industry=grant.industry,
            board=boards["weather"] if grant.industry.code == "weather" else None,
            source_kind="public",
            grant=grant,
            scenarios=scenarios,
            delivery_mode="api",
            tags="public data, authorized operation",
            **MANUAL,
        )
        _plans(context, owner, product, ceiling_fen=grant.fee_ceiling_fen, free=free)
        made.append(
            _review_to(
                product, operator=operator, second=second, owner=owner, end="listed",
                context=context,
            )
        )  # fmt: skip

    context.made["products"] = list(
        Product.objects.filter(status=ProductStatus.LISTED).order_by("pk")
    )
    context.write(f"  products: {len(made) + 1} made, {len(context.made['products'])} listed")
