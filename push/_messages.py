"""What each notification says, in Italian and English: a title and body for push and e-mail,
a short text for SMS, the PWA page it opens, and how the push service should treat it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from circulation import Language, format_day

from ._gsm import encode_sms

__all__ = [
    "DueLoan",
    "LateLoan",
    "Message",
    "Urgency",
    "account_suspended",
    "due_soon",
    "fit_sms",
    "hold_expired",
    "hold_ready",
    "loan_renewed",
    "overdue",
    "pickup_reminder",
]

Urgency = Literal["very-low", "low", "normal", "high"]

HOLDS_URL = "/#/holds"
LOANS_URL = "/#/loans"
ACCOUNT_URL = "/#/account"

_HOUR = 3600
_DAY = 24 * _HOUR
# RFC 8030 topics: at most 32 characters of the URL-safe base64 alphabet.
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# A title is shortened to keep an SMS in one segment, but not below this.
_SHORTEST_TITLE = 16


@dataclass(frozen=True)
class Message:
    """One notification as sent on every channel. `tag` is also the push Topic: a message
    sent again (after a crash) or superseded replaces the one the push service still holds,
    and the one the device shows."""

    type: str
    title: str
    body: str
    url: str
    tag: str
    sms: str
    urgency: Urgency
    ttl: int

    def __post_init__(self) -> None:
        if not _TOPIC.match(self.tag):
            raise ValueError(f"{self.tag!r} cannot be a push topic")

    def push_payload(self) -> dict[str, str]:
        """The JSON the service worker receives (the contract's five fields)."""
        return {
            "type": self.type,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "tag": self.tag,
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(**data)


@dataclass(frozen=True)
class DueLoan:
    title: str
    due: date
    renewable: bool
    renewable_from: date | None


@dataclass(frozen=True)
class LateLoan:
    title: str
    due: date
    days_late: int


def _quoted(title: str, language: Language) -> str:
    return f"«{title}»" if language == "it" else f"“{title}”"


def _shortened(title: str, length: int) -> str:
    return title if len(title) <= length else title[: max(1, length - 3)].rstrip() + "..."


def fit_sms(make: Callable[[str], str], title: str) -> str:
    """The text `make` writes around the title, with the title shortened as little as needed
    for the whole to fit one SMS segment (if even a short title cannot, the full one)."""
    text = make(title)
    if encode_sms(text).segments == 1:
        return text
    low, high, best = _SHORTEST_TITLE, len(title) - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = make(_shortened(title, middle))
        if encode_sms(candidate).segments == 1:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best if best is not None else text


def hold_ready(
    *, language: Language, hold_id: int, title: str, library: str, deadline: date
) -> Message:
    day = format_day(deadline, language)
    if language == "it":
        heading = "Prenotazione pronta"
        body = f"{_quoted(title, language)} ti aspetta presso {library} fino al {day}."
        sms = fit_sms(
            lambda t: f'Prenotazione pronta: "{t}" ti aspetta presso {library} fino al {day}.',
            title,
        )
    else:
        heading = "Your hold is ready"
        body = f"{_quoted(title, language)} is waiting for you at {library} until {day}."
        sms = fit_sms(
            lambda t: f'Hold ready: "{t}" is waiting for you at {library} until {day}.', title
        )
    return Message("HOLD_READY", heading, body, HOLDS_URL, f"hold-{hold_id}", sms, "high", 3 * _DAY)


def pickup_reminder(*, language: Language, hold_id: int, title: str, library: str) -> Message:
    if language == "it":
        heading = "Ultimo giorno per il ritiro"
        body = f"Oggi è l'ultimo giorno per ritirare {_quoted(title, language)} presso {library}."
        sms = fit_sms(lambda t: f'Ultimo giorno: ritira oggi "{t}" presso {library}.', title)
    else:
        heading = "Last day to collect"
        body = f"Today is the last day to collect {_quoted(title, language)} at {library}."
        sms = fit_sms(lambda t: f'Last day: collect "{t}" today at {library}.', title)
    return Message(
        "HOLD_PICKUP_REMINDER", heading, body, HOLDS_URL, f"hold-{hold_id}", sms, "high", 12 * _HOUR
    )


def hold_expired(*, language: Language, hold_id: int, title: str) -> Message:
    if language == "it":
        heading = "Prenotazione scaduta"
        body = (
            f"{_quoted(title, language)} non è stato ritirato in tempo: la prenotazione è scaduta."
        )
        sms = fit_sms(
            lambda t: f'Prenotazione scaduta: "{t}" non è stato ritirato in tempo.', title
        )
    else:
        heading = "Hold expired"
        body = f"{_quoted(title, language)} was not collected in time: the hold has expired."
        sms = fit_sms(lambda t: f'Hold expired: "{t}" was not collected in time.', title)
    return Message(
        "HOLD_EXPIRED", heading, body, HOLDS_URL, f"hold-{hold_id}", sms, "normal", 3 * _DAY
    )


def _renewal_note(loan: DueLoan, language: Language) -> str:
    if loan.renewable:
        return "rinnovabile ora" if language == "it" else "you can renew it now"
    if loan.renewable_from is not None:
        day = format_day(loan.renewable_from, language)
        return f"rinnovabile dal {day}" if language == "it" else f"renewable from {day}"
    return "non rinnovabile" if language == "it" else "it cannot be renewed"


def _due_soon_sms(loans: Sequence[DueLoan], language: Language) -> str:
    if len(loans) == 1:
        loan = loans[0]
        day, note = format_day(loan.due, language), _renewal_note(loan, language)
        if language == "it":
            return fit_sms(lambda t: f'Restituisci "{t}" entro il {day} ({note}).', loan.title)
        return fit_sms(lambda t: f'Please return "{t}" by {day} ({note}).', loan.title)
    first = format_day(min(loan.due for loan in loans), language)
    now = sum(1 for loan in loans if loan.renewable)
    later = [loan.renewable_from for loan in loans if loan.renewable_from is not None]
    never = len(loans) - now - len(later)
    parts: list[str] = []
    if language == "it":
        if now:
            parts.append(f"{now} rinnovabil{'e' if now == 1 else 'i'} ora")
        if later:
            parts.append(f"{len(later)} dal {format_day(min(later), language)}")
        if never:
            parts.append(f"{never} non rinnovabil{'e' if never == 1 else 'i'}")
        return (
            f"{len(loans)} prestiti in scadenza dal {first}: {', '.join(parts)}. Dettagli nell'app."
        )
    if now:
        parts.append(f"{now} can be renewed now")
    if later:
        parts.append(f"{len(later)} from {format_day(min(later), language)}")
    if never:
        parts.append(f"{never} cannot be renewed")
    return f"{len(loans)} loans due from {first}: {', '.join(parts)}. Details in the app."


def due_soon(*, language: Language, event_id: int, loans: Sequence[DueLoan]) -> Message:
    """One digest for all the loans coming due: when each is due and whether it can be renewed
    now, or from when."""
    lines = []
    for loan in loans:
        day = format_day(loan.due, language)
        due = f"entro il {day}" if language == "it" else f"due {day}"
        lines.append(f"{_quoted(loan.title, language)} {due}: {_renewal_note(loan, language)}")
    if language == "it":
        heading = (
            "Prestito in scadenza" if len(loans) == 1 else f"{len(loans)} prestiti in scadenza"
        )
    else:
        heading = "A loan is due soon" if len(loans) == 1 else f"{len(loans)} loans are due soon"
    return Message(
        "DUE_SOON",
        heading,
        "\n".join(lines),
        LOANS_URL,
        f"due-{event_id}",
        _due_soon_sms(loans, language),
        "normal",
        2 * _DAY,
    )


def overdue(*, language: Language, event_id: int, loans: Sequence[LateLoan]) -> Message:
    lines = []
    for loan in loans:
        day = format_day(loan.due, language)
        if language == "it":
            lines.append(f"{_quoted(loan.title, language)}: scaduto il {day}")
        else:
            lines.append(f"{_quoted(loan.title, language)}: was due {day}")
    first = format_day(min(loan.due for loan in loans), language)
    if language == "it":
        heading = "Prestito scaduto" if len(loans) == 1 else f"{len(loans)} prestiti scaduti"
        lines.append(
            "Restituiscilo appena puoi." if len(loans) == 1 else "Restituiscili appena puoi."
        )
        if len(loans) == 1:
            sms = fit_sms(
                lambda t: f'Prestito scaduto il {first}: restituisci "{t}" appena puoi.',
                loans[0].title,
            )
        else:
            sms = f"{len(loans)} prestiti scaduti dal {first}: restituiscili appena puoi."
    else:
        heading = "Overdue loan" if len(loans) == 1 else f"{len(loans)} overdue loans"
        lines.append(
            "Please return it as soon as you can."
            if len(loans) == 1
            else "Please return them as soon as you can."
        )
        if len(loans) == 1:
            sms = fit_sms(
                lambda t: f'Overdue since {first}: please return "{t}" soon.', loans[0].title
            )
        else:
            sms = f"{len(loans)} loans overdue since {first}: please return them soon."
    return Message(
        "OVERDUE",
        heading,
        "\n".join(lines),
        LOANS_URL,
        f"overdue-{event_id}",
        sms,
        "normal",
        7 * _DAY,
    )


def loan_renewed(*, language: Language, event_id: int, title: str, due: date) -> Message:
    day = format_day(due, language)
    if language == "it":
        heading = "Prestito rinnovato"
        body = f"{_quoted(title, language)} va ora restituito entro il {day}."
        sms = fit_sms(lambda t: f'Prestito rinnovato: "{t}" va restituito entro il {day}.', title)
    else:
        heading = "Loan renewed"
        body = f"{_quoted(title, language)} is now due on {day}."
        sms = fit_sms(lambda t: f'Loan renewed: "{t}" is now due on {day}.', title)
    return Message(
        "LOAN_RENEWED", heading, body, LOANS_URL, f"renewed-{event_id}", sms, "low", _DAY
    )


def account_suspended(*, language: Language, revoked: bool, explanation: str) -> Message:
    """A block on the card; `explanation` is circulation's own sentence (why, until when)."""
    if language == "it":
        heading = "Prestiti revocati" if revoked else "Tessera sospesa"
    else:
        heading = "Borrowing rights revoked" if revoked else "Card suspended"
    return Message(
        "ACCOUNT_SUSPENDED",
        heading,
        explanation,
        ACCOUNT_URL,
        "account",
        explanation,
        "normal",
        7 * _DAY,
    )
