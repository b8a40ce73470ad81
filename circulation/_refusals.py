"""Refusals: a stable code for programs and a sentence for patrons, in Italian and English,
saying why and what to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

__all__ = ["Language", "Refusal", "format_day"]

Language = Literal["it", "en"]

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MESSAGES: dict[str, tuple[str, str]] = {
    "NOT_FOUND": ("Non trovato.", "Not found."),
    "FORBIDDEN": (
        "Questa operazione è riservata al personale della biblioteca.",
        "Only library staff may do this.",
    ),
    "HOLD_LIMIT_REACHED": (
        "Hai già {limit} prenotazioni attive, il massimo consentito. Annullane una o attendi"
        " di ritirarne una per prenotare ancora.",
        "You already have {limit} active holds, the most allowed. Cancel one or collect one"
        " to place another.",
    ),
    "ALREADY_HOLDING": (
        "Hai già una prenotazione per questo titolo.",
        "You already have a hold on this title.",
    ),
    "ALREADY_ON_LOAN": (
        "Hai già in prestito una copia di questo titolo.",
        "You already have a copy of this title on loan.",
    ),
    "NOT_HOLDABLE": (
        "Questo titolo non si può prenotare: {reason_it}.",
        "This title cannot be placed on hold: {reason_en}.",
    ),
    "INVALID_PICKUP_LIBRARY": (
        "La biblioteca scelta per il ritiro non fa parte della rete. Scegline un'altra.",
        "The chosen pickup library is not in the network. Choose another one.",
    ),
    "HOLD_NOT_CANCELLABLE": (
        "Questa prenotazione non si può modificare ora: {status_it}.",
        "This hold cannot be changed now: {status_en}.",
    ),
    "RENEWAL_LIMIT_REACHED": (
        "Hai già rinnovato questo prestito {renewals} volte, il massimo consentito. Restituiscilo"
        " entro il {due}.",
        "You have already renewed this loan {renewals} times, the most allowed. Please return"
        " it by {due}.",
    ),
    "NOT_RENEWABLE": (
        "Questo tipo di materiale non si può rinnovare. Restituiscilo entro il {due}.",
        "This kind of material cannot be renewed. Please return it by {due}.",
    ),
    "TOO_EARLY": (
        "È presto per rinnovare: potrai farlo dal {from_day}.",
        "It is too early to renew: you can renew from {from_day}.",
    ),
    "TOO_LATE": (
        "Il termine per rinnovare è passato. Restituisci il documento appena puoi.",
        "The time to renew has passed. Please return the item as soon as you can.",
    ),
    "RESERVED_BY_OTHERS": (
        "Un altro utente ha prenotato questo titolo, quindi il prestito non si può rinnovare."
        " Restituiscilo entro il {due}.",
        "Another patron is waiting for this title, so the loan cannot be renewed. Please"
        " return it by {due}.",
    ),
    "LOAN_LIMIT_REACHED": (
        "Hai già {limit} documenti in prestito, il massimo consentito. Restituiscine uno per"
        " prenderne un altro.",
        "You already have {limit} items on loan, the most allowed. Return one to borrow another.",
    ),
    "MATERIAL_LIMIT_REACHED": (
        "Hai già {limit} documenti del gruppo «{group}» in prestito, il massimo consentito.",
        "You already have {limit} items of the group “{group}” on loan, the most allowed.",
    ),
    "NOT_LOANABLE": (
        "Questo documento non si presta: {reason_it}.",
        "This item is not for loan: {reason_en}.",
    ),
    "EMBARGOED": (
        "Per la legge sul diritto d'autore questo documento si potrà prestare dal {from_day}.",
        "By copyright law this item may be lent from {from_day}.",
    ),
    "ITEM_NOT_AVAILABLE": (
        "Questa copia non è disponibile ora: {status_it}.",
        "This copy is not available now: {status_en}.",
    ),
    "NOT_ON_LOAN": ("Questa copia non risulta in prestito.", "This copy is not on loan."),
    "INVALID_AMOUNT": (
        "Puoi pagare ora {payable_it} €, oppure una parte: un multiplo di {step_it} € di almeno"
        " {minimum_it} €.",
        "You can pay EUR {payable_en} now, or a part of it: a multiple of EUR {step_en}, at"
        " least EUR {minimum_en}.",
    ),
    "INVALID_TIME": ("{detail_it}", "{detail_en}"),
    "PATRON_BLOCKED": ("{standing_it}", "{standing_en}"),
}


def format_day(day: date, language: Language) -> str:
    if language == "it":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Refusal:
    """Why an operation was refused. Values in `days` are dates shown in the patron's format;
    `texts` holds already translated pieces as `name_it` / `name_en`."""

    code: str
    values: Mapping[str, str | int] = field(default_factory=dict)
    days: Mapping[str, date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in _MESSAGES:
            raise ValueError(f"unknown refusal code {self.code}")

    def message(self, language: Language = "it") -> str:
        template = _MESSAGES[self.code][0 if language == "it" else 1]
        values: dict[str, str | int] = dict(self.values)
        values.update({name: format_day(day, language) for name, day in self.days.items()})
        return template.format(**values)
