"""The reasons the services themselves write into status histories, in the reader's language.

Services record a short English reason with each status change ("placed",
"dispute opened: <what the buyer typed>"). The history keeps what was written;
people read it through `reason_text`, which looks the reason up here: a fixed
reason by its catalogue entry, a reason with data in it by its pattern (the
data kept as written). A reason a person typed is not found and reads as typed.
"""

import re

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

REASONS = [
    gettext_noop("registered"),
    gettext_noop("applied"),
    gettext_noop("corrected and sent again"),
    gettext_noop("joining approved"),
    gettext_noop("created"),
    gettext_noop("submitted for review"),
    gettext_noop("review started"),
    gettext_noop("review approved"),
    gettext_noop("submission withdrawn"),
    gettext_noop("withdrawn"),
    gettext_noop("product delisted"),
    gettext_noop("version %(number)s approved and on sale"),
    gettext_noop("placed"),
    gettext_noop("delivered"),
    gettext_noop("cancelled"),
    gettext_noop("accepted by the buyer"),
    gettext_noop("clearing batch %(day)s"),
    gettext_noop("free of charge: nothing to pay"),
    gettext_noop("metered plan agreed to: usage billed monthly"),
    gettext_noop("paid through the channel, reference %(reference)s"),
    gettext_noop("accepted automatically %(days)s days after delivery"),
    gettext_noop("dispute opened: %(reason)s"),
    gettext_noop("dispute resolved (%(outcome)s): %(reason)s"),
    gettext_noop("released to the seller by the dispute's resolution: %(reason)s"),
    gettext_noop("the order was refunded in full"),
    gettext_noop("partial %(refund)s"),
    gettext_noop("refund of %(amount)s: %(reason)s"),
    gettext_noop("refund of %(amount)s asked: %(reason)s"),
    gettext_noop("refund request declined: %(reason)s"),
    gettext_noop("renews %(number)s"),
    gettext_noop("usage of %(month)s: %(calls)s calls"),
    gettext_noop("found by audit #%(run)s"),
    gettext_noop("proposed"),
    gettext_noop("opened"),
    gettext_noop("re-run for orders not yet cleared"),
    gettext_noop("%(count)s orders cleared"),
    gettext_noop("batch %(day)s confirmed"),
    gettext_noop("batch %(day)s settled"),
    gettext_noop("every payout paid or carried over"),
    gettext_noop("declared"),
    gettext_noop("requested"),
    gettext_noop("started"),
    gettext_noop("%(rows)s rows loaded"),
]
# Keys the services put inside a reason, read as words.
OUTCOMES = {"refund": _("refund the buyer"), "release": _("release to the seller")}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    # split() alternates literal text and placeholder names.
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(regex, re.DOTALL)


_PATTERNS = [(_pattern(t), t) for t in REASONS if _PLACEHOLDER.search(t)]


def reason_text(reason: str) -> str:
    """`reason` in the active language; data inside it (and typed reasons) unchanged."""
    if not reason:
        return ""
    if reason in REASONS:
        return gettext(reason)
    for pattern, template in _PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            values = match.groupdict()
            if "outcome" in values:
                values["outcome"] = str(OUTCOMES.get(values["outcome"], values["outcome"]))
            # a reason may carry another service's reason ("refund of 10.00: dispute ...")
            for nested in ("refund", "reason"):
                if nested in values:
                    values[nested] = reason_text(values[nested])
            return gettext(template) % values
    return reason
