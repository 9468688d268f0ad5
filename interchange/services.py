"""Partner exchanges, harvesting their catalogs, and recognising their registrations.

A harvest reads the partner's catalog page by page (hydra:next), asking only
for what changed since the last good run when it can, and takes each dataset
in a transaction of its own: a bad record is refused and named on the run,
and the run goes on. Listings that vanish from the partner are delisted here,
never deleted. Core-grade data is refused; important-grade (or unstated)
data waits for an operator's review.
"""

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import jobs
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_one, transition
from interchange import fetch, parse
from interchange.choices import (
    RECORD_TRANSITIONS,
    RecognitionStatus,
    RecordStatus,
    RunStatus,
    TrustLevel,
)
from interchange.models import HarvestRun, PartnerExchange, PartnerRecord, RegistrationRecognition
from products.choices import ProductStatus
from products.models import Industry, Product
from products.services.common import full_clean_as_violation, require_operator

log = logging.getLogger(__name__)


# --- partners -----------------------------------------------------------------

PARTNER_FIELDS = (
    "name",
    "catalog_url",
    "changes_url",
    "trust_level",
    "harvest_every_minutes",
    "is_active",
)


@transaction.atomic
def partner_create(*, actor: User, **fields) -> PartnerExchange:
    """Register a partner exchange whose catalog we harvest (operators)."""
    require_operator(actor)
    partner = PartnerExchange(**{k: v for k, v in fields.items() if k in PARTNER_FIELDS})
    full_clean_as_violation(partner)
    partner.save()
    return partner


@transaction.atomic
def partner_update(*, actor: User, partner: PartnerExchange, **changes) -> PartnerExchange:
    require_operator(actor)
    partner = lock_one(PartnerExchange, partner.pk)
    for name, value in changes.items():
        if name in PARTNER_FIELDS:
            setattr(partner, name, value)
    full_clean_as_violation(partner, exclude=["last_good_run"])
    partner.save()
    return partner


# --- the harvest ----------------------------------------------------------------


@dataclass
class _Tally:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    delisted: int = 0
    refused: int = 0
    pages: int = 0
    bytes_read: int = 0
    errors: list = field(default_factory=list)
    seen_iris: set = field(default_factory=set)
    seen_identifiers: set = field(default_factory=set)

    def error(self, where: str, reason: str) -> None:
        if len(self.errors) < settings.EXCHANGE_HARVEST_LIMITS["max_errors_kept"]:
            self.errors.append({"where": where, "reason": reason})


_COUNTS = ("new", "updated", "unchanged", "delisted", "refused")


def _with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _listing_status(partner: PartnerExchange, found: parse.PartnerDataset) -> tuple[str, str]:
    """Where a partner's dataset stands in our market, and why."""
    if found.grade == "core":
        return RecordStatus.REFUSED, _("core-grade data (核心数据) is never traded")
    if found.grade == "important":
        return RecordStatus.PENDING_REVIEW, _("important-grade data is reviewed by an operator")
    if found.grade == "unstated":
        return RecordStatus.PENDING_REVIEW, _("the partner states no classification grade")
    if partner.trust_level == TrustLevel.REVIEW_ALL:
        return RecordStatus.PENDING_REVIEW, _("every listing of this partner is reviewed")
    return RecordStatus.LISTED, ""


def _industry_for(found: parse.PartnerDataset) -> Industry | None:
    if found.theme_codes:
        industry = Industry.objects.filter(code__in=found.theme_codes).order_by("code").first()
        if industry is not None:
            return industry
    if found.eu_themes:
        return Industry.objects.filter(data_theme__in=found.eu_themes).order_by("code").first()
    return None


def _find_record(partner: PartnerExchange, found: parse.PartnerDataset) -> PartnerRecord | None:
    """Identity: the dataset's IRI first, then its dct:identifier."""
    records = PartnerRecord.objects.select_for_update().filter(partner=partner)
    if found.iri:
        record = records.filter(iri=found.iri).first()
        if record is not None:
            return record
    if found.identifier:
        return records.filter(identifier=found.identifier).order_by("id").first()
    return None


def _record_fields(found: parse.PartnerDataset) -> dict:
    return {
        "identifier": found.identifier,
        "registration_number": found.registration_number,
        "title": found.title,
        "title_en": found.title_en,
        "summary": found.summary,
        "summary_en": found.summary_en,
        "publisher_name": found.publisher_name,
        "publisher_credit_code": found.publisher_credit_code,
        "industry": _industry_for(found),
        "grade": found.grade,
        "delivery_mode": found.delivery_mode,
        "tags": ", ".join(found.keywords)[:1000],
        "landing_page": found.landing_page[:500],
        "partner_modified": found.modified,
    }


def _take_record(run: HarvestRun, partner: PartnerExchange, graph, node, tally: _Tally) -> None:
    """One dataset of a page, in its own transaction; RecordRefused says why not."""
    found = parse.read_dataset(graph, node)
    raw, digest = parse.canonical(parse.description(graph, node))
    if len(raw) > settings.EXCHANGE_HARVEST_LIMITS["max_record_bytes"]:
        raise parse.RecordRefused(_("the record is larger than the limit"))
    tally.seen_iris.add(found.iri)
    tally.seen_identifiers.add(found.identifier)
    with transaction.atomic():
        record = _find_record(partner, found)
        status, reason = _listing_status(partner, found)
        if record is None:
            record = PartnerRecord(
                partner=partner,
                iri=found.iri or f"{partner.catalog_url}#{found.identifier}",
                raw=raw,
                content_hash=digest,
                status=status,
                status_reason=reason,
                first_run=run,
                last_changed_run=run,
                **_record_fields(found),
            )
            record.save()
            record.events.create(from_status="", to_status=status, reason=reason or "harvested")
            outcome = "new"
        elif record.content_hash == digest and record.status != RecordStatus.DELISTED:
            outcome = "unchanged"  # a re-read of the same record writes nothing
        else:
            fields = _record_fields(found)
            for name, value in fields.items():
                setattr(record, name, value)
            record.raw, record.content_hash, record.last_changed_run = raw, digest, run
            changed = [*fields, "raw", "content_hash", "last_changed_run"]
            if found.iri and record.iri != found.iri:
                record.iri = found.iri
                changed.append("iri")
            record.save(update_fields=[*changed, "updated_at"])
            if record.status != status:
                transition(
                    record,
                    to=status,
                    actor=None,
                    transitions=RECORD_TRANSITIONS,
                    reason=reason or _("changed at the partner"),
                    changes={"status_reason": reason},
                )
            outcome = "updated"
    if outcome != "unchanged" and status == RecordStatus.REFUSED:
        # Kept, with its raw record, for the operators to see; counted as refused.
        tally.refused += 1
        tally.error(found.iri or found.identifier, reason)
    else:
        setattr(tally, outcome, getattr(tally, outcome) + 1)


def _delist(record: PartnerRecord, *, reason: str, tally: _Tally) -> None:
    with transaction.atomic():
        record = lock_one(PartnerRecord, record.pk)
        if transition(
            record,
            to=RecordStatus.DELISTED,
            actor=None,
            transitions=RECORD_TRANSITIONS,
            reason=reason,
            changes={"status_reason": reason},
        ):
            tally.delisted += 1
            RegistrationRecognition.objects.filter(
                partner_record=record, status=RecognitionStatus.RECOGNISED
            ).update(status=RecognitionStatus.WITHDRAWN, updated_at=timezone.now())


def _read_pages(client, start_url: str, partner: PartnerExchange, tally: _Tally, on_page, kind):
    """Follow hydra:next from `start_url`; FetchRefused ends the walk with its reason."""
    bounds = settings.EXCHANGE_HARVEST_LIMITS
    deadline = time.monotonic() + bounds["run_seconds"]
    url: str | None = start_url
    visited: set[str] = set()
    while url:
        if url in visited:
            raise fetch.FetchRefused(_("paging loop: %(url)s was already read") % {"url": url})
        if len(visited) >= bounds["max_pages"]:
            raise fetch.FetchRefused(
                _("more than %(pages)s pages; the rest is left for the next run")
                % {"pages": bounds["max_pages"]}
            )
        if time.monotonic() > deadline:
            raise fetch.FetchRefused(_("the run took longer than its time limit"))
        if not fetch.same_site(url, partner.catalog_url):
            raise fetch.FetchRefused(
                _("the next page %(url)s is not on the partner's site") % {"url": url}
            )
        visited.add(url)
        document, size = fetch.fetch_json(client, url)
        tally.pages += 1
        tally.bytes_read += size
        graph = parse.page_graph(document, base=url)
        parse.require_type(graph, *kind)
        on_page(url, graph)
        url = parse.next_page(graph)


CATALOG_PAGE = (parse.DCAT.Catalog, "dcat:Catalog")
CHANGES_PAGE = (parse.AS.OrderedCollectionPage, "as:OrderedCollectionPage")


def partner_harvest(
    *, actor: User | None, partner: PartnerExchange, full: bool = False
) -> HarvestRun:
    """Harvest one partner's catalog once; returns the finished run with its counts.

    A run that could not read every page is `failed`: what it took stays (each
    record committed on its own), but nothing is delisted for being absent and
    the next run again asks for everything since the last good one.
    """
    if actor is not None:
        require_operator(actor)
    partner = PartnerExchange.objects.select_related("last_good_run").get(pk=partner.pk)
    since = None
    if not full and partner.last_good_run is not None:
        overlap = settings.EXCHANGE_HARVEST_LIMITS["since_overlap_seconds"]
        since = partner.last_good_run.started_at - dt.timedelta(seconds=overlap)
    if not partner.changes_url:
        since = None  # without a change feed only a full read can tell what vanished
    run = HarvestRun.objects.create(
        partner=partner, full=since is None, changes_since=since, heartbeat_at=timezone.now()
    )
    return _harvest_execute(run, partner, since, attempt=run.attempt)


class _Superseded(Exception):
    """The run was taken over by the recovery (its attempt moved on): this worker stops."""


def _harvest_execute(
    run: HarvestRun, partner: PartnerExchange, since: dt.datetime | None, *, attempt: int
) -> HarvestRun:
    """Read the partner's pages into `run` as its attempt `attempt`, and close the run.

    Each page first renews the run's heartbeat, on condition that the attempt
    is still ours: once the recovery has handed the run to another worker, this
    one stops at its next page and writes nothing more to the run. Records are
    taken one transaction each and are idempotent by their hash, so a page
    read twice (once before a crash, once after) counts as unchanged.
    """
    tally = _Tally()

    def still_ours() -> None:
        alive = HarvestRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempt=attempt)
        if not alive.update(heartbeat_at=timezone.now()):
            raise _Superseded()

    def take_page(url, graph):
        still_ours()
        for node in parse.datasets(graph):
            where = str(node)
            try:
                _take_record(run, partner, graph, node, tally)
            except parse.RecordRefused as exc:
                tally.refused += 1
                tally.error(where, str(exc))
            except Exception as exc:
                log.exception("harvest of %s: record %s failed", partner, where)
                tally.refused += 1
                tally.error(where, _("the record could not be taken: %(error)s") % {"error": exc})

    def take_changes(url, graph):
        still_ours()
        for iri, identifier in parse.removals(graph):
            if iri in tally.seen_iris or (identifier and identifier in tally.seen_identifiers):
                continue  # listed again since: the catalog page is newer news
            query = Q(iri=iri) if iri else Q(pk__in=[])
            if identifier:
                query |= Q(identifier=identifier)
            for record in PartnerRecord.objects.filter(query, partner=partner).exclude(
                status=RecordStatus.DELISTED
            ):
                _delist(record, reason=_("delisted at the partner"), tally=tally)

    try:
        return _harvest_read(run, partner, since, attempt, tally, take_page, take_changes)
    except _Superseded:
        log.warning("harvest run %s: attempt %s was taken over; this worker stops", run.pk, attempt)
        return HarvestRun.objects.get(pk=run.pk)


def _harvest_read(run, partner, since, attempt, tally, take_page, take_changes) -> HarvestRun:
    status = RunStatus.SUCCEEDED
    with fetch.new_client() as client:
        try:
            start = partner.catalog_url
            if since is not None:
                start = _with_query(start, modified_since=since.isoformat())
            _read_pages(client, start, partner, tally, take_page, CATALOG_PAGE)
            if since is not None:
                _read_pages(
                    client,
                    _with_query(partner.changes_url, since=since.isoformat()),
                    partner,
                    tally,
                    take_changes,
                    CHANGES_PAGE,
                )
        except fetch.FetchRefused as exc:
            status = RunStatus.FAILED
            tally.error(getattr(exc, "url", "") or partner.catalog_url, str(exc))
    if status == RunStatus.SUCCEEDED and since is None:
        vanished = PartnerRecord.objects.filter(partner=partner).exclude(
            status=RecordStatus.DELISTED
        )
        for record in vanished.iterator():
            if record.iri in tally.seen_iris or (
                record.identifier and record.identifier in tally.seen_identifiers
            ):
                continue
            _delist(record, reason=_("no longer in the partner's catalog"), tally=tally)
    counts = {f"{name}_count": getattr(tally, name) for name in _COUNTS}
    closed = HarvestRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempt=attempt).update(
        status=status,
        finished_at=timezone.now(),
        pages=tally.pages,
        bytes_read=tally.bytes_read,
        errors=tally.errors,
        **counts,
    )
    if not closed:
        raise _Superseded()
    run.refresh_from_db()
    if status == RunStatus.SUCCEEDED:
        PartnerExchange.objects.filter(pk=partner.pk).update(last_good_run=run)
    log.info(
        "harvest of %s: %s, %s pages, new %s, updated %s, unchanged %s, delisted %s, refused %s",
        partner, status, run.pages, run.new_count, run.updated_count, run.unchanged_count,
        run.delisted_count, run.refused_count,
    )  # fmt: skip
    return run


def harvest_run_resume(*, run_id: int, attempt: int) -> HarvestRun | None:
    """Take over a run a lost worker left `running` (queued by harvest_runs_recover).

    The claim moves the run's attempt on from the one the message names, in
    one conditional UPDATE: a message delivered twice, or one for a run that
    has since finished, does nothing; the worker that lost the run stops at
    its next page. The run is read again from its start with the same scope
    (full, or changes since the same moment), and closed once.
    """
    claimed = HarvestRun.objects.filter(
        pk=run_id, status=RunStatus.RUNNING, attempt=attempt
    ).update(attempt=attempt + 1, heartbeat_at=timezone.now())
    if not claimed:
        return None
    run = HarvestRun.objects.select_related("partner").get(pk=run_id)
    since = None if run.full else run.changes_since
    return _harvest_execute(run, run.partner, since, attempt=attempt + 1)


def harvest_runs_recover(*, now: dt.datetime | None = None) -> dict:
    """Queue again the harvest runs left `running` with no sign of life past the deadline.

    Run by beat every EXCHANGE_JOBS_RECOVER_SECONDS. A harvesting worker
    renews its run's heartbeat at every page (a page is bounded by
    EXCHANGE_HARVEST_LIMITS["page_seconds"], well inside
    EXCHANGE_JOBS_STALE_SECONDS), so a run silent for longer lost its worker.
    Claimed under FOR UPDATE SKIP LOCKED with the heartbeat renewed in the same
    transaction, so two recoveries at once queue a run once; the resume itself
    is idempotent by the run's attempt (harvest_run_resume).
    """
    from interchange.tasks import harvest_run_resume_task

    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=settings.EXCHANGE_JOBS_STALE_SECONDS)
    with transaction.atomic():
        stale = list(
            HarvestRun.objects.select_for_update(skip_locked=True)
            .filter(status=RunStatus.RUNNING)
            .annotate(last_seen=Coalesce("heartbeat_at", "started_at"))
            .filter(last_seen__lt=stale_before)
            .order_by("pk")
            .values_list("pk", "attempt")
        )
        if not stale:
            return {}
        log.warning("harvest runs %s left running by a lost worker; queued again", stale)
        HarvestRun.objects.filter(pk__in=[pk for pk, _attempt in stale]).update(heartbeat_at=now)

        def unsent(rest: list[tuple]) -> None:
            # Not sent: the next recovery takes them at once, not after the deadline.
            HarvestRun.objects.filter(pk__in=[args[0] for args in rest]).update(heartbeat_at=None)

        jobs.send_after_commit(harvest_run_resume_task, stale, on_unsent=unsent)
    return {"requeued": [pk for pk, _attempt in stale]}


def partners_harvest_due(*, now=None) -> list[int]:
    """Harvest every active partner whose interval has passed since its last run.

    A partner with a run still `running` is left alone: that run is either
    being read right now or the recovery's to finish (harvest_runs_recover).
    """
    now = now or timezone.now()
    done = []
    running = HarvestRun.objects.filter(partner=OuterRef("pk"), status=RunStatus.RUNNING)
    partners = PartnerExchange.objects.filter(is_active=True).exclude(Exists(running))
    for partner in partners.order_by("id"):
        last = partner.runs.order_by("-started_at").values_list("started_at", flat=True).first()
        if last is not None and (now - last).total_seconds() < partner.harvest_every_minutes * 60:
            continue
        run = partner_harvest(actor=None, partner=partner)
        done.append(run.pk)
    return done


# --- operators' review of partner listings ---------------------------------------------


@transaction.atomic
def partner_record_approve(
    *, actor: User, record: PartnerRecord, reason: str = ""
) -> PartnerRecord:
    """Publish a partner listing that waited for review (never core-grade data)."""
    require_operator(actor)
    record = lock_one(PartnerRecord, record.pk)
    if record.grade == "core":
        raise BusinessRuleViolation(
            _("core-grade data (核心数据) is never traded"), field="grade", code="core_data"
        )
    if record.status not in (RecordStatus.PENDING_REVIEW, RecordStatus.LISTED):
        raise Conflict(_("only a listing waiting for review can be approved"), code="not_pending")
    transition(
        record,
        to=RecordStatus.LISTED,
        actor=actor,
        transitions=RECORD_TRANSITIONS,
        reason=reason or _("approved by an operator"),
        changes={"status_reason": ""},
    )
    return record


@transaction.atomic
def partner_record_refuse(*, actor: User, record: PartnerRecord, reason: str) -> PartnerRecord:
    require_operator(actor)
    if not (reason or "").strip():
        raise BusinessRuleViolation(_("say why the listing is refused"), field="reason")
    record = lock_one(PartnerRecord, record.pk)
    if record.status == RecordStatus.DELISTED:
        raise Conflict(_("the listing is already delisted"), code="delisted")
    transition(
        record,
        to=RecordStatus.REFUSED,
        actor=actor,
        transitions=RECORD_TRANSITIONS,
        reason=reason,
        changes={"status_reason": reason},
    )
    return record


# --- 登记互认: recognising a partner's registration -----------------------------------


@transaction.atomic
def recognition_create(
    *, actor: User, product: Product, partner: PartnerExchange, registration_number: str
) -> RegistrationRecognition:
    """Record that `product` is already registered at `partner` under that number.

    Checked against the partner's catalog as last harvested: the partner must
    be trusted, list a dataset with that registration number, and name the
    same provider (by credit code). The product must still be a draft; the
    review opened when it is submitted is then compliance only.
    """
    from products.services.common import require_provider_or_operator

    require_provider_or_operator(actor, product.provider_id)
    product = lock_one(Product, product.pk)
    number = (registration_number or "").strip()
    if not number:
        raise BusinessRuleViolation(
            _("give the partner's registration number"), field="registration_number"
        )
    if partner.trust_level != TrustLevel.TRUSTED or not partner.is_active:
        raise BusinessRuleViolation(
            _("registrations are recognised only from trusted partners"), field="partner"
        )
    if product.status != ProductStatus.DRAFT:
        # The review is shortened when it opens, at submission.
        raise BusinessRuleViolation(
            _("only a draft can claim a partner's registration; claim it before submitting"),
            field="product",
        )
    record = (
        PartnerRecord.objects.filter(
            partner=partner, registration_number=number, status=RecordStatus.LISTED
        )
        .order_by("-id")
        .first()
    )
    if record is None:
        raise BusinessRuleViolation(
            _("the partner's catalog lists no product with this registration number"),
            field="registration_number",
            code="not_in_partner_catalog",
        )
    if record.publisher_credit_code != product.provider.credit_code:
        raise BusinessRuleViolation(
            _("the partner registered this number to another provider"),
            field="registration_number",
            code="other_provider",
        )
    recognition, created = RegistrationRecognition.objects.get_or_create(
        product=product,
        partner=partner,
        defaults={
            "partner_record": record,
            "registration_number": number,
            "requested_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    if not created:
        raise Conflict(_("this product already claims a registration at this partner"))
    return recognition


def _recognised_registration(product: Product) -> RegistrationRecognition | None:
    """The product's registration recognised from a trusted partner, if any."""
    return (
        RegistrationRecognition.objects.filter(
            product=product,
            status=RecognitionStatus.RECOGNISED,
            partner__trust_level=TrustLevel.TRUSTED,
        )
        .select_related("partner")
        .first()
    )
