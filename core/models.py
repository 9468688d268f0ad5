"""Abstract building blocks every app shares."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


def keep_prefetched(instance: models.Model, relation: str, rows: list) -> None:
    """Keep `rows` as `instance`'s prefetched `relation`, as prefetch_related would.

    For rows a service has just written (or knows there are none of), so the
    caller reading `instance.<relation>.all()` needs no query. Writing through
    the instance's related manager (`.create()`, `.add()`) drops what is kept,
    and the next read asks the database again.
    """
    # What prefetch_related leaves on an instance (django.db.models.query.prefetch_one_level).
    kept = getattr(instance, relation).all()
    kept._result_cache = rows
    kept._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[relation] = kept


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


def event_actor_field(**options) -> models.ForeignKey:
    """Who made a status change, empty for the system; an event table may index it otherwise."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system itself made the change (a scheduled job)."),
        **options,
    )


class StatusEvent(models.Model):
    """One recorded status change: who moved the subject, from what, to what, when and why.

    Concrete event models add `subject = ForeignKey(<Model>, related_name="events")`.
    Rows are only ever inserted.
    """

    actor = event_actor_field()
    from_status = models.CharField(_("from status"), max_length=32, blank=True)
    to_status = models.CharField(_("to status"), max_length=32)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_label(self.from_status)} → {self.status_label(self.to_status)}"

    def status_label(self, value: str) -> str:
        """A status as people read it: the subject's label for the key ("submitted" -> 待审核)."""
        if not value:
            return "-"
        for field in self._meta.get_fields():
            subject = field.related_model if field.many_to_one else None
            if subject is None or subject is self._meta.get_field("actor").related_model:
                continue
            try:
                status = subject._meta.get_field("status")
            except FieldDoesNotExist:
                continue
            choices = dict(getattr(status, "flatchoices", ()))
            if value in choices:
                return str(choices[value])
        return value

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language: the services' own reasons are catalogued
        (core.event_reasons); a reason a person typed comes out as typed."""
        from core.event_reasons import reason_text

        return reason_text(self.reason)
