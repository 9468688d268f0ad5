from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class InvalidTransition(Exception):
    """A status move that the model's transition table does not allow (HTTP 409)."""

    def __init__(self, *, model_label: str, current: str, target: str, detail: str = ""):
        self.model_label = model_label
        self.current = current
        self.target = target
        self.detail = detail or str(
            _("%(model)s cannot move from '%(current)s' to '%(target)s'.")
            % {"model": model_label, "current": current, "target": target}
        )
        super().__init__(self.detail)


class BusinessRuleViolation(Exception):
    """A request that is well formed but breaks a rule of the exchange (HTTP 400).

    `field` names the input at fault, so the API can say which field and why.
    """

    def __init__(
        self, message: str | Promise, *, field: str = "non_field_errors", code: str = "invalid"
    ):
        self.message = str(message)
        self.field = field
        self.code = code
        super().__init__(self.message)


class Conflict(Exception):
    """The request collides with the current state of another record (HTTP 409)."""

    def __init__(self, message: str, *, code: str = "conflict", extra: dict | None = None):
        self.message = str(message)
        self.code = code
        self.extra = extra or {}
        super().__init__(self.message)


class BrokerUnavailable(Exception):
    """The job queue cannot be reached, so work cannot be accepted now (HTTP 503).

    Raised before anything is recorded: the caller may simply try again later.
    """

    def __init__(self, message: str | Promise = ""):
        self.message = str(
            message or _("The job queue cannot be reached just now; try again shortly.")
        )
        super().__init__(self.message)
