"""Demo departments, data catalogs, grants and Changsha's authorized scenarios.

Everything goes through the services, so the demo obeys 一行业一部门一授权 and
一场景一评估一授权 like real data. Runs after accounts, before products: the
industries it needs are created here by code if products has not made them yet.
"""

import datetime as dt

from django.utils import timezone

from core.demo import DemoContext
from products.models import Industry
from products.services.reference import industry_save
from publicdata import services

INDUSTRY_NAMES = {
    "transport": "Transport",
    "energy": "Energy",
    "manufacturing": "Manufacturing",
    "healthcare": "Healthcare",
    "agriculture": "Agriculture",
    "weather": "Weather",
    "natural-resources": "Natural resources",
    "finance": "Finance",
    "culture": "Culture and tourism",
    "public-security": "Public security",
}

# (code, name, level, region, [(entry code suffix, name, fields, grade, frequency)])
DEPARTMENTS = [
    ("HN-GA", "Hunan Provincial Public Security Department", "province", "430100", [
        ("001", "Motor vehicle registrations", "plate, vehicle type, registered on", "important", "daily"),  # noqa: E501
        ("002", "Traffic flow at checkpoints", "checkpoint, hour, vehicles", "general", "hourly"),
    ]),
    ("HN-ZRZY", "Hunan Provincial Department of Natural Resources", "province", "430100", [
        ("001", "Land use parcels", "parcel id, use class, area", "general", "monthly"),
        ("002", "Building footprints", "footprint id, floors, year built", "general", "quarterly"),
    ]),
    ("HN-SCJG", "Hunan Provincial Administration for Market Regulation", "province", "430100", [
        ("001", "Business registrations", "credit code, name, registered capital", "general", "daily"),  # noqa: E501
        ("002", "Administrative penalties", "credit code, decision, date", "general", "daily"),
    ]),
    ("HN-QX", "Hunan Provincial Meteorological Bureau", "province", "430100", [
        ("001", "Hourly surface observations", "station, hour, temperature, rainfall", "general", "hourly"),  # noqa: E501
        ("002", "Short-range forecasts", "grid cell, valid time, forecast", "general", "hourly"),
        ("003", "Disaster warnings", "area, level, issued at", "general", "real time"),
    ]),
    ("HN-WJW", "Hunan Provincial Health Commission", "province", "430100", [
        ("001", "Outpatient visit statistics", "hospital, department, day, visits", "important", "daily"),  # noqa: E501
        ("002", "Medical institution directory", "institution, grade, beds", "general", "monthly"),
    ]),
    ("HN-JTYS", "Hunan Provincial Department of Transport", "province", "430100", [
        ("001", "Road network", "segment, class, length", "general", "quarterly"),
        ("002", "Bus line operations", "line, stop, scheduled time", "general", "daily"),
    ]),
    ("CS-JTJ", "Changsha Municipal Transport Bureau", "city", "430100", [
        ("001", "Public parking occupancy", "car park, minute, free spaces", "general", "real time"),  # noqa: E501
        ("002", "On-street parking berths", "berth, street, tariff", "general", "weekly"),
    ]),
    ("CS-WJW", "Changsha Municipal Health Commission", "city", "430100", [
        ("001", "Community clinic services", "clinic, service, day, count", "general", "daily"),
    ]),
]  # fmt: skip

# (department code, industry code, merchant index, fee ceiling in fen, department share bps,
#  [(scenario name, purpose, description)])
GRANTS = [
    ("CS-WJW", "healthcare", 0, 200_000_00, 2000, [
        ("Changsha smart healthcare: outpatient capacity forecasting", "industry",
         "Forecast outpatient load per hospital department from visit statistics."),
        ("Changsha community health: chronic disease follow-up reminders", "public_interest",
         "Remind residents of follow-ups; free of charge."),
    ]),
    ("CS-JTJ", "transport", 1, 50_000_00, 1500, [
        ("Changsha static traffic: parking guidance", "industry",
         "Real-time free-space guidance from car park occupancy."),
    ]),
    ("HN-ZRZY", "natural-resources", 2, 100_000_00, 1000, [
        ("Changsha commercial site selection", "industry",
         "Score candidate retail sites from land use and footprints."),
    ]),
    ("HN-SCJG", "finance", 3, 300_000_00, 1200, [
        ("Changsha digital finance: SME credit assessment", "industry",
         "Credit scores for small firms from registrations and penalties, via privacy computing."),
    ]),
    ("HN-QX", "weather", 0, 80_000_00, 1500, [
        ("Weather-indexed agricultural insurance", "industry",
         "Index rainfall and temperature for crop insurance pricing."),
    ]),
]  # fmt: skip


def _industry(code: str, operator) -> Industry:
    # Industries belong to products; this seeder runs first, so it asks
    # products' service for the ones its grants need.
    return Industry.objects.filter(code=code).first() or industry_save(
        actor=operator, code=code, name=INDUSTRY_NAMES.get(code, code)
    )


def seed(context: DemoContext) -> None:
    operator = context.made.get("operator")
    departments = {}
    for code, name, level, region, entries in DEPARTMENTS:
        department = services.department_create(
            actor=operator, code=code, name=name, level=level, region=region
        )
        for suffix, entry_name, fields, grade, frequency in entries:
            services.catalog_entry_create(
                actor=operator,
                department=department,
                code=f"{code}-{suffix}",
                name=entry_name,
                fields=fields,
                grade=grade,
                update_frequency=frequency,
            )
        departments[code] = department
    context.made["departments"] = departments
    context.made["weather_department"] = departments["HN-QX"]
    for code in INDUSTRY_NAMES:
        _industry(code, operator)

    merchants = context.made.get("merchants") or []
    grants, scenarios = [], []
    now = timezone.now()
    today = timezone.localdate()
    for i, (dept_code, industry_code, index, ceiling, share, proposals) in enumerate(GRANTS):
        if not merchants:
            break
        grant = services.grant_create(
            actor=operator,
            department=departments[dept_code],
            industry=_industry(industry_code, operator),
            grantee=merchants[index % len(merchants)],
            valid_from=now - dt.timedelta(days=90 + 30 * i),
            valid_until=now + dt.timedelta(days=3 * 365),
            revenue_share_bps=share,
            fee_ceiling_fen=ceiling,
            reason="authorized-operation agreement signed",
        )
        grant = services.grant_activate(actor=operator, grant=grant, reason="agreement in force")
        grants.append(grant)
        for name, purpose, description in proposals:
            scenario = services.scenario_create(
                actor=operator, grant=grant, name=name, purpose=purpose, description=description
            )
            services.scenario_assess(
                actor=operator,
                scenario=scenario,
                assessor="Hunan Data Security Assessment Centre",
                assessed_on=today - dt.timedelta(days=20),
                risk_findings="Results only leave the domain; no personal records exposed.",
                verdict="pass",
            )
            scenario = services.scenario_authorize(
                actor=operator,
                scenario=scenario,
                document_number=f"HNSJ-{today.year}-{len(scenarios) + 1:03d}",
                valid_from=now - dt.timedelta(days=10),
                valid_until=grant.valid_until,
            )
            scenarios.append(scenario)
        context.progress("grants", i + 1, len(GRANTS))

    if grants:
        # A scenario that failed its assessment stays on record; it is never authorized.
        failed = services.scenario_create(
            actor=operator,
            grant=grants[1],
            name="Changsha static traffic: individual vehicle trajectories",
            purpose="industry",
            description="Would expose individual movements.",
        )
        services.scenario_assess(
            actor=operator,
            scenario=failed,
            assessor="Hunan Data Security Assessment Centre",
            assessed_on=today - dt.timedelta(days=15),
            risk_findings="Trajectories re-identify individuals; raw data would leave the domain.",
            verdict="fail",
        )
        # A grant awaiting activation, for an industry and department still free.
        grants.append(
            services.grant_create(
                actor=operator,
                department=departments["HN-JTYS"],
                industry=_industry("transport", operator),
                grantee=merchants[-1],
                valid_from=now + dt.timedelta(days=30),
                valid_until=now + dt.timedelta(days=2 * 365),
                revenue_share_bps=1000,
                fee_ceiling_fen=20_000_00,
            )
        )
    context.made["grants"] = grants
    context.made["scenarios"] = scenarios
