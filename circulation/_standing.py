"""A patron's standing: stored blocks (staff, dated) combined with those that follow from the
loans and fees as they are today, so that an operation never relies on a stale state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from db import Patron, StandingCode, StandingSource

from ._policy import Policy
from ._refusals import Language, Refusal, format_day
from ._rules import days_late

__all__ = ["Standing", "evaluate_standing"]

_REASONS: dict[str, tuple[str, str]] = {
    "OK": ("Tessera in regola.", "Your card is in good standing."),
    "STAFF_SUSPENDED": (
        "La tessera è sospesa dalla biblioteca. Rivolgiti al banco prestiti per riattivarla.",
        "Your card has been suspended by the library. Ask at the loans desk to re-enable it.",
    ),
    "STAFF_REVOKED": (
        "I diritti di prestito sono stati revocati. Solo il personale della biblioteca può"
        " riabilitarti: rivolgiti al banco prestiti.",
        "Your borrowing rights have been revoked. Only library staff can re-enable them:"
        " please ask at the loans desk.",
    ),
    "OVERDUE_REVOKED": (
        "I diritti di prestito sono stati revocati per un ritardo di oltre {days} giorni. Solo il"
        " personale della biblioteca può riabilitarti dopo la restituzione.",
        "Your borrowing rights were revoked for a loan more than {days} days late. Only library"
        " staff can re-enable them after the return.",
    ),
    "OVERDUE": (
        "La tessera è sospesa perché un prestito è in ritardo di oltre {days} giorni. Sarà"
        " riattivata alla restituzione.",
        "Your card is suspended because a loan is more than {days} days late. It will be"
        " re-enabled when you return it.",
    ),
    "OVERDUE_UNPAID": (
        "La tessera è sospesa per un ritardo di oltre {days} giorni. Sarà riattivata dopo la"
        " restituzione e il pagamento della tariffa.",
        "Your card is suspended for a delay of more than {days} days. It will be re-enabled"
        " once the items are returned and the fee is paid.",
    ),
    "LATE_RETURN": (
        "La tessera è sospesa fino al {until} per una restituzione in ritardo.",
        "Your card is suspended until {until} because of a late return.",
    ),
    "EXPIRED": (
        "L'iscrizione è scaduta il {until}. Rinnovala in biblioteca per continuare a usare i"
        " servizi.",
        "Your registration expired on {until}. Renew it at the library to keep using the services.",
    ),
}


@dataclass(frozen=True)
class Standing:
    code: StandingCode
    # The last blocked day; None while blocked means until return/payment, or REVOKED.
    until: date | None
    reason: str
    days: int = 0
    # Whether the block is one the rules lift by themselves (the scheduler stores it so).
    automatic: bool = False

    @property
    def blocked(self) -> bool:
        return self.code is not StandingCode.OK

    def message(self, language: Language = "it") -> str:
        template = _REASONS[self.reason][0 if language == "it" else 1]
        until = format_day(self.until, language) if self.until else ""
        return template.format(days=self.days, until=until)

    def refusal(self) -> Refusal:
        return Refusal(
            "PATRON_BLOCKED",
            {"standing_it": self.message("it"), "standing_en": self.message("en")},
        )


def evaluate_standing(
    policy: Policy,
    *,
    patron: Patron,
    open_due_dates: Iterable[date],
    unpaid_fee_days_late: Iterable[int],
    today: date,
) -> Standing:
    """The standing today, the strongest block first."""
    worst_late = max((days_late(due, today) for due in open_due_dates), default=0)
    unpaid_late = max(unpaid_fee_days_late, default=-1)

    if patron.standing is StandingCode.REVOKED:
        if patron.standing_source is StandingSource.STAFF:
            return Standing(StandingCode.REVOKED, None, "STAFF_REVOKED")
        revoke_days = min(
            (block.after_days_late for block in policy.blocks if block.kind == "revoke"), default=0
        )
        return Standing(StandingCode.REVOKED, None, "OVERDUE_REVOKED", revoke_days, automatic=True)
    for block in policy.blocks:
        if block.kind == "revoke" and worst_late > block.after_days_late:
            return Standing(
                StandingCode.REVOKED, None, "OVERDUE_REVOKED", block.after_days_late, True
            )
    if patron.standing is StandingCode.SUSPENDED and patron.standing_source is StandingSource.STAFF:
        return Standing(StandingCode.SUSPENDED, patron.standing_until, "STAFF_SUSPENDED")
    for block in policy.blocks:
        if block.kind != "while_overdue":
            continue
        if worst_late > block.after_days_late:
            reason = "OVERDUE_UNPAID" if block.until_paid else "OVERDUE"
            return Standing(StandingCode.SUSPENDED, None, reason, block.after_days_late, True)
        if block.until_paid and unpaid_late > block.after_days_late:
            return Standing(
                StandingCode.SUSPENDED, None, "OVERDUE_UNPAID", block.after_days_late, True
            )
    if (
        patron.standing is StandingCode.SUSPENDED
        and patron.standing_until is not None
        and patron.standing_until >= today
    ):
        return Standing(StandingCode.SUSPENDED, patron.standing_until, "LATE_RETURN", 0, True)
    if patron.registration_expires is not None and patron.registration_expires < today:
        return Standing(StandingCode.EXPIRED, patron.registration_expires, "EXPIRED")
    return Standing(StandingCode.OK, None, "OK")
