"""The configured channels: one job (a leased delivery with its text and address) becomes one
attempt on its channel, and a SendResult whatever happens."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from circulation import Clock

from ._deliveries import EMAIL, PUSH, SMS, Channels
from ._email import EmailSender
from ._messages import Message
from ._results import SendResult
from ._sms import SmsSender
from ._webpush import PushTarget, WebPushSender

__all__ = ["Dispatcher", "Job"]

log = logging.getLogger("tessera.notifier")


@dataclass(frozen=True)
class Job:
    delivery_id: int
    # The attempt number claimed: the fencing token its result is recorded with.
    attempts: int
    key: str
    channel: str
    message: Message
    language: str
    push: PushTarget | None = None
    subscription_id: int | None = None
    # The E.164 number or the e-mail address.
    address: str | None = None


class Dispatcher:
    """Sends jobs on push, SMS or e-mail, each through its one shared client."""

    def __init__(
        self,
        *,
        push: WebPushSender | None,
        sms: SmsSender | None,
        email: EmailSender | None,
        clock: Clock,
        app_url: str | None = None,
        mail_domain: str = "tessera.invalid",
    ) -> None:
        self._push, self._sms, self._email = push, sms, email
        self._clock = clock
        self._app_url = app_url.rstrip("/") if app_url else None
        self._mail_domain = mail_domain
        self.channels = Channels(
            push=push is not None, sms=sms is not None, email=email is not None
        )

    async def send(self, job: Job) -> SendResult:
        """One attempt; an unexpected error is a result too (retried), so that one message's
        surprise does not lose the results of the others sent with it."""
        try:
            return await self._send(job)
        except Exception as error:
            log.exception("sending delivery %s failed", job.key)
            return SendResult.retry(f"unexpected error: {error!r}")

    async def _send(self, job: Job) -> SendResult:
        message = job.message
        if job.channel == PUSH and self._push is not None and job.push is not None:
            payload = json.dumps(
                message.push_payload(), ensure_ascii=False, separators=(",", ":")
            ).encode()
            return await self._push.send(
                job.push, payload, ttl=message.ttl, urgency=message.urgency, topic=message.tag
            )
        if job.channel == SMS and self._sms is not None and job.address is not None:
            # The delivery key is the reference: the same on every retry and every re-send.
            return await self._sms.send(to=job.address, text=message.sms, reference=job.key)
        if job.channel == EMAIL and self._email is not None and job.address is not None:
            body = message.body
            if self._app_url is not None:
                body += f"\n\n{self._app_url}/{message.url.lstrip('/')}"
            email = self._email.compose(
                to=job.address,
                subject=message.title,
                body=body,
                message_id=f"<{job.key.replace(':', '.')}@{self._mail_domain}>",
                language=job.language,
                date=self._clock.now(),
            )
            return await self._email.send(email)
        return SendResult.failed(f"the {job.channel} channel is not configured")

    async def close(self) -> None:
        for sender in (self._push, self._sms):
            if sender is not None:
                await sender.close()
