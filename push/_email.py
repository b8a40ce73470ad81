"""E-mail through SMTP (aiosmtplib), for patrons with neither push nor SMS."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from ._results import SendResult

__all__ = ["EmailSender"]


class EmailSender:
    """Sends plain-text messages, one SMTP connection each, a few at a time."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        concurrency: int = 4,
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)

    def compose(
        self, *, to: str, subject: str, body: str, message_id: str, language: str, date: datetime
    ) -> EmailMessage:
        """The message; its Message-ID is fixed by the caller, so that one sent again after a
        crash is recognised as the same by mail clients."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(date)
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        # After set_content, which replaces every Content-* header.
        message["Content-Language"] = language
        return message

    async def send(self, message: EmailMessage) -> SendResult:
        """Hand one message to the SMTP server: 4xx and connection trouble are retried,
        5xx refusals are final."""
        async with self._slots:
            try:
                await aiosmtplib.send(
                    message,
                    hostname=self._host,
                    port=self._port,
                    username=self._username,
                    password=self._password,
                    use_tls=self._use_tls,
                    start_tls=self._start_tls,
                    timeout=self._timeout,
                )
            except aiosmtplib.SMTPRecipientsRefused as error:
                codes = [response.code for response in error.recipients]
                if all(code >= 500 for code in codes):
                    return SendResult.failed(f"recipient refused: {codes}")
                return SendResult.retry(f"recipient deferred: {codes}")
            except aiosmtplib.SMTPResponseException as error:
                if error.code >= 500:
                    return SendResult.failed(f"SMTP server refused: {error.code} {error.message}")
                return SendResult.retry(f"SMTP server deferred: {error.code} {error.message}")
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                return SendResult.retry(f"SMTP server unreachable: {error!r}")
        return SendResult.sent()
