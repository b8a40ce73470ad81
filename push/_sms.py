"""SMS through the contract's HTTP gateway: numbers in E.164, texts in GSM-7 where that keeps
their meaning, and the same `reference` on every retry so that the gateway sends one SMS."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import phonenumbers

from ._gsm import encode_sms
from ._results import SendResult, retry_after_seconds

__all__ = ["SmsSender", "normalise_phone"]

_TEXTABLE = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def normalise_phone(number: str, *, region: str = "IT") -> str | None:
    """The number in E.164 if it is a valid mobile number (a national one is read as Italian),
    else None."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in _TEXTABLE:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class SmsSender:
    """POSTs {to, text, reference} with the gateway's Bearer token; a 2xx is delivery to the
    gateway, anything else is retried later with the same reference (the contract)."""

    def __init__(
        self, *, url: str, token: str, concurrency: int = 10, timeout: float = 15.0
    ) -> None:
        self._url = url
        self._token = token
        self._concurrency = concurrency
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._concurrency),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"Authorization": f"Bearer {self._token}"},
            )
        return self._session

    async def send(self, *, to: str, text: str, reference: str) -> SendResult:
        """Hand one SMS to the gateway."""
        body = {"to": to, "text": encode_sms(text).text, "reference": reference}
        async with self._slots:
            try:
                async with self._client().post(self._url, json=body) as response:
                    await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                return SendResult.retry(f"SMS gateway unreachable: {error!r}")
        if 200 <= status < 300:
            return SendResult.sent()
        after = retry_after_seconds(retry_after, now=time.time())
        return SendResult.retry(f"SMS gateway answered {status}", after=after)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
