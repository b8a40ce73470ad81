"""Expected refusals are data: `errors: [UserError!]!` with the contract's codes."""

from __future__ import annotations

import strawberry

from circulation import Language, Refusal

__all__ = ["UserError", "user_error", "user_errors"]

# Messages for the codes the GraphQL layer gives itself (not the circulation core's).
_OWN_MESSAGES: dict[str, tuple[str, str]] = {
    "INVALID_CREDENTIALS": (
        "Numero di tessera o PIN non corretti.",
        "The card number or the PIN is not right.",
    ),
    "TOO_MANY_ATTEMPTS": (
        "Troppi tentativi non riusciti. Riprova tra 15 minuti o chiedi in biblioteca.",
        "Too many failed attempts. Try again in 15 minutes or ask at the library.",
    ),
    "INVALID_TOKEN": (
        "La sessione non è più valida: accedi di nuovo.",
        "This session is no longer valid: please sign in again.",
    ),
    "WEAK_PIN": (
        "Il nuovo PIN è troppo facile: almeno 4 cifre, non tutte uguali, non le ultime della"
        " tessera.",
        "The new PIN is too easy to guess: at least 4 digits, not all the same, not the last"
        " digits of the card.",
    ),
    "TEST_CLOCK_DISABLED": (
        "L'orologio di prova non è attivo su questo server.",
        "The test clock is not enabled on this server.",
    ),
    "INVALID_SUBSCRIPTION": (
        "Questa iscrizione alle notifiche non è valida.",
        "This notification subscription is not valid.",
    ),
    "INVALID_PHONE": (
        "Il numero di telefono non è valido.",
        "The phone number is not valid.",
    ),
    "NOT_FOUND": ("Non trovato.", "Not found."),
    "FORBIDDEN": (
        "Questa operazione è riservata al personale della biblioteca.",
        "Only library staff may do this.",
    ),
}


@strawberry.type(description="An expected refusal: a stable code and a message for people.")
class UserError:
    code: str
    message: str


def user_error(code: str, language: Language, detail: str | None = None) -> UserError:
    """A refusal the GraphQL layer itself gives (detail: a sentence that replaces the
    standard message)."""
    italian, english = _OWN_MESSAGES[code]
    return UserError(code=code, message=detail or (italian if language == "it" else english))


def user_errors(refusal: Refusal | None, language: Language) -> list[UserError]:
    """The payload's errors for a circulation outcome (empty when it succeeded)."""
    if refusal is None:
        return []
    return [UserError(code=refusal.code, message=refusal.message(language))]
