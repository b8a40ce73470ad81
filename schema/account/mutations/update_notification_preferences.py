"""updateNotificationPreferences: the channels, quiet hours, language and phone; only the
fields given change."""

from __future__ import annotations

import re
from datetime import time

import phonenumbers
import strawberry

import db
from circulation import Language

from ..._context import GraphQLInfo, Unauthenticated
from ..._errors import UserError, user_error, user_errors
from ..payloads import invalid_time
from ..types import NotificationLanguage, NotificationPreferences

__all__ = [
    "NotificationPreferencesInput",
    "UpdateNotificationPreferencesPayload",
    "resolve_update_notification_preferences",
]

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# Numbers written without a country code are Italian, as on a library card.
_DEFAULT_REGION = "IT"


_NOT_HH_MM = invalid_time(
    "Le ore di silenzio si scrivono HH:MM, per esempio 21:30.",
    "Quiet hours are written HH:MM, for example 21:30.",
)
_HALF_QUIET_HOURS = invalid_time(
    "Le ore di silenzio hanno un inizio e una fine diversi, oppure nessuno dei due.",
    "Quiet hours need a start and a different end, or neither.",
)


@strawberry.input(description="Only the fields given change.")
class NotificationPreferencesInput:
    push: bool | None = strawberry.UNSET
    sms: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Text messages need a phone number."
    )
    email: bool | None = strawberry.UNSET
    quiet_hours_start: str | None = strawberry.field(
        default=strawberry.UNSET,
        description='"HH:MM", Europe/Rome; null with quietHoursEnd null: no quiet hours.',
    )
    quiet_hours_end: str | None = strawberry.field(
        default=strawberry.UNSET, description='"HH:MM", Europe/Rome.'
    )
    language: NotificationLanguage | None = strawberry.UNSET
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Any usual writing (Italian without a country code); kept as E.164. Null"
        " removes it.",
    )


@strawberry.type
class UpdateNotificationPreferencesPayload:
    notification_preferences: NotificationPreferences | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _clock_time(text: str) -> time | None:
    match = _HH_MM.match(text)
    return time(int(match[1]), int(match[2])) if match else None


def _e164(text: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number."""
    try:
        number = phonenumbers.parse(text, _DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _conflicts(
    *, start: time | None, end: time | None, sms: bool, phone: str | None, language: Language
) -> list[UserError]:
    """What the settings as they would be together do not allow."""
    if (start is None) != (end is None) or (start is not None and start == end):
        return user_errors(_HALF_QUIET_HOURS, language)
    if sms and phone is None:
        return [
            user_error(
                "INVALID_PHONE",
                language,
                "Per ricevere SMS serve un numero di telefono."
                if language == "it"
                else "Text messages need a phone number.",
            )
        ]
    return []


async def resolve_update_notification_preferences(
    info: GraphQLInfo, input: NotificationPreferencesInput
) -> UpdateNotificationPreferencesPayload:
    context = info.context
    language = context.language
    principal = await context.principal()
    # Everything the input alone decides is checked before the patron's row is touched.
    quiet: dict[str, time | None] = {}
    for name, given in (("start", input.quiet_hours_start), ("end", input.quiet_hours_end)):
        if given is strawberry.UNSET:
            continue
        parsed = None if given is None else _clock_time(given)
        if given is not None and parsed is None:
            return UpdateNotificationPreferencesPayload(errors=user_errors(_NOT_HH_MM, language))
        quiet[name] = parsed
    phone: str | None = None
    if isinstance(input.phone, str):
        phone = _e164(input.phone)
        if phone is None:
            return UpdateNotificationPreferencesPayload(
                errors=[user_error("INVALID_PHONE", language)]
            )

    async with db.transaction(context.services.sessions) as session:
        patron = await session.get(db.Patron, principal.patron_id, with_for_update=True)
        if patron is None:
            raise Unauthenticated()
        start = quiet.get("start", patron.quiet_hours_start)
        end = quiet.get("end", patron.quiet_hours_end)
        phone = patron.phone if input.phone is strawberry.UNSET else phone
        sms = input.sms if isinstance(input.sms, bool) else patron.notify_sms
        errors = _conflicts(start=start, end=end, sms=sms, phone=phone, language=language)
        if errors:
            return UpdateNotificationPreferencesPayload(errors=errors)
        patron.quiet_hours_start, patron.quiet_hours_end = start, end
        patron.phone, patron.notify_sms = phone, sms
        if isinstance(input.push, bool):
            patron.notify_push = input.push
        if isinstance(input.email, bool):
            patron.notify_email = input.email
        if isinstance(input.language, NotificationLanguage):
            patron.language = input.language.value
    return UpdateNotificationPreferencesPayload(
        notification_preferences=NotificationPreferences.of(patron)
    )
