"""The notifier: follows the outbox, turns each notification event into deliveries (one per
device, SMS, or e-mail), and sends those that are due.

Exactly once, by design:
- Reading. The outbox is read in order, at least once (db.OutboxReader). Each event's
  deliveries have a unique key, f"{event_id}:{channel}:{target}", inserted with ON CONFLICT DO
  NOTHING: an event read again (a crash before the acknowledgement, two workers reading at once)
  makes no second delivery.
- Claiming. A worker takes due deliveries in a short transaction (FOR UPDATE SKIP LOCKED on
  PostgreSQL; SQLite has one writer at a time) and marks them `sending` with a lease:
  next_attempt_at = now + lease, attempts + 1. No other worker takes them while the lease runs,
  so two workers never send the same delivery.
- Sending happens outside any transaction: holding a row lock (and on SQLite the database's one
  write lock) across HTTP calls that may take seconds would stall circulation. So a crash between
  the receiver's 2xx and the mark `sent` cannot be ruled out; the delivery is then claimed again
  when the lease runs out and sent again *as the same message*: the SMS with the same
  `reference` (the delivery key), which the gateway deduplicates on; the push message with the
  same Topic (the push service replaces a message it still holds with the same topic) and the
  same tag (the device replaces the notification it shows); the e-mail with the same Message-ID.
  The text is built once, stored before the first send, and reused by every retry. A crash
  before the send loses nothing: the lease runs out and the delivery is sent. (The lease must
  outlast a batch's sends; a gateway hanging to the timeout on every request could outlast it,
  and then too the second send carries the same reference.)
- Marking. Results are written with the attempt number claimed as a fencing token, so a worker
  whose lease ran out cannot overwrite what the next owner recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from circulation import NOTIFICATION_EVENTS, Circulation, Clock
from db import Delivery, OutboxConsumer, OutboxReader, Patron, PushSubscription, transaction

from ._content import EventToBuild, build_messages
from ._deliveries import (
    EMAIL,
    PUSH,
    SMS,
    ResultRow,
    delivery_rows,
    email_wanted,
    insert_deliveries,
    lock_due,
    record_results,
    retry_delay,
    store_messages,
    subscriptions_of,
)
from ._dispatch import Dispatcher, Job
from ._email import EmailSender
from ._messages import Message
from ._quiet import quiet_until
from ._results import Outcome
from ._sms import SmsSender, normalise_phone
from ._webpush import PushTarget, WebPushSender

__all__ = ["CONSUMER", "DeliveryReport", "Notifier"]

CONSUMER = "notifier"
# An SMS kept as a fallback looks again this often for the push message's fate.
FALLBACK_POLL = timedelta(seconds=30)

log = logging.getLogger("tessera.notifier")


@dataclass
class DeliveryReport:
    """What one `deliver_due` did."""

    # Outbox events read, and the deliveries they make (one read again makes none again).
    events: int = 0
    created: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    subscriptions_removed: int = 0

    @property
    def anything(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))


@dataclass(frozen=True)
class _Leased:
    delivery: Delivery
    patron: Patron
    subscription: PushSubscription | None


class Notifier:
    """Delivers the notification events of the outbox on web push, SMS and e-mail.

    A channel is used when configured: push with a VAPID key, SMS with the gateway's URL and
    token, e-mail with an SMTP host and sender. `clock` (circulation's, by default) rules quiet
    hours, retries and leases; `concurrency` bounds the requests in flight to push services;
    `sms_only_as_fallback` sends an SMS only when no push message was accepted; `app_url`, the
    PWA's public address, puts a link in e-mails. Nothing connects before `deliver_due`.
    """

    def __init__(
        self,
        *,
        circulation: Circulation,
        clock: Clock | None = None,
        vapid_private_key: ec.EllipticCurvePrivateKey | None = None,
        vapid_subject: str = "mailto:tessera@example.org",
        allow_loopback: bool = False,
        sms_url: str | None = None,
        sms_token: str | None = None,
        sms_only_as_fallback: bool = False,
        smtp_host: str | None = None,
        smtp_port: int = 25,
        smtp_sender: str | None = None,
        app_url: str | None = None,
        concurrency: int = 200,
        batch_size: int = 500,
        lanes: int = 2,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 16,
        retry_base: timedelta = timedelta(seconds=30),
        retry_cap: timedelta = timedelta(hours=1),
        max_event_age: timedelta | None = timedelta(days=7),
        request_timeout: float = 30.0,
    ) -> None:
        if lease.total_seconds() <= request_timeout:
            raise ValueError("the lease must outlast a request, or a slow send is sent twice")
        self._circulation = circulation
        self._sessions = circulation.sessions
        # Circulation time: quiet hours, retries and leases (a manual clock in tests).
        self._clock = clock or circulation.clock
        push = (
            WebPushSender(
                private_key=vapid_private_key,
                subject=vapid_subject,
                allow_loopback=allow_loopback,
                concurrency=concurrency,
                timeout=request_timeout,
            )
            if vapid_private_key is not None
            else None
        )
        sms = (
            SmsSender(url=sms_url, token=sms_token, timeout=request_timeout)
            if sms_url and sms_token
            else None
        )
        email = (
            EmailSender(host=smtp_host, port=smtp_port, sender=smtp_sender, timeout=request_timeout)
            if smtp_host and smtp_sender
            else None
        )
        self._dispatcher = Dispatcher(
            push=push,
            sms=sms,
            email=email,
            clock=self._clock,
            app_url=app_url,
            mail_domain=(smtp_sender or "tessera.invalid").rpartition("@")[2].strip(">"),
        )
        self._channels = self._dispatcher.channels
        self._sms_only_as_fallback = sms_only_as_fallback
        self._batch_size = batch_size
        self._lanes = lanes
        self._lease = lease
        self._max_attempts = max_attempts
        self._retry_base = retry_base.total_seconds()
        self._retry_cap = retry_cap.total_seconds()
        self._max_event_age = max_event_age
        self._reader = OutboxReader(
            self._sessions, consumer=CONSUMER, event_types=NOTIFICATION_EVENTS
        )
        self._consumer_ready = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP clients (the notifier may be used again: they reopen)."""
        await self._dispatcher.close()

    async def deliver_due(self) -> DeliveryReport:
        """Read the new outbox events into deliveries, then send every delivery due now."""
        report = DeliveryReport()
        await self._read_outbox(report)
        await asyncio.gather(*(self._drain(report) for _ in range(self._lanes)))
        return report

    async def _drain(self, report: DeliveryReport) -> None:
        """Claim, send and record batches until none is due. Several lanes run at once, each
        on a connection of its own, so that one batch's texts are built (database work) while
        another's are on the network; they take disjoint batches as two workers would."""
        while True:
            leased, claimed = await self._claim(report)
            if not claimed:
                return
            jobs = await self._prepare(leased, report) if leased else []
            if jobs:
                await self._send(jobs, report)

    # -- reading the outbox ------------------------------------------------------------------

    async def _ensure_consumer(self) -> None:
        """The consumer's position row exists before two workers might create it at once."""
        if self._consumer_ready:
            return
        async with transaction(self._sessions) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            await session.execute(
                insert(OutboxConsumer)
                .values(name=CONSUMER, last_event_id=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        self._consumer_ready = True

    async def _read_outbox(self, report: DeliveryReport) -> None:
        await self._ensure_consumer()
        while True:
            before = await self._reader.position()
            events, position = await self._reader.fetch(limit=self._batch_size)
            if position == before:
                return
            now = self._clock.now()
            if self._max_event_age is not None:
                # Stale news is not news: after a long stop, old reminders are not sent.
                fresh = [e for e in events if now - e.occurred_at <= self._max_event_age]
                if len(fresh) < len(events):
                    log.warning(
                        "%d events older than %s not notified",
                        len(events) - len(fresh),
                        self._max_event_age,
                    )
                events = fresh
            if events:
                async with transaction(self._sessions) as session:
                    patron_ids = {int(e.payload.get("patronId", 0)) for e in events}
                    patrons = {
                        p.id: p
                        for p in await session.scalars(
                            select(Patron).where(Patron.id.in_(patron_ids))
                        )
                    }
                    subscriptions = (
                        await subscriptions_of(session, patrons) if self._channels.push else {}
                    )
                    rows = delivery_rows(
                        events=events,
                        patrons=patrons,
                        subscriptions=subscriptions,
                        channels=self._channels,
                        now=now,
                    )
                    await insert_deliveries(session, rows)
                report.events += len(events)
                report.created += len(rows)
            await self._reader.acknowledge(position)

    # -- claiming ------------------------------------------------------------------------------

    async def _claim(self, report: DeliveryReport) -> tuple[list[_Leased], int]:
        """Lock a batch of due deliveries and decide each: defer (quiet hours), skip (turned
        off, a push already accepted), wait (a fallback SMS), or lease it to this worker. The
        transaction does no more than that: on SQLite it holds the database's write lock."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            due = await lock_due(session, now=now, limit=self._batch_size)
            if not due:
                return [], 0
            patrons = {
                p.id: p
                for p in await session.scalars(
                    select(Patron).where(Patron.id.in_({d.patron_id for d in due}))
                )
            }
            sub_ids = {d.subscription_id for d in due if d.subscription_id is not None}
            subscriptions = {
                s.id: s
                for s in await session.scalars(
                    select(PushSubscription).where(PushSubscription.id.in_(sub_ids))
                )
            }
            siblings = await self._push_siblings(session, due)
            leased: list[_Leased] = []
            for delivery in due:
                patron = patrons[delivery.patron_id]
                reason = self._unwanted(delivery, patron, subscriptions)
                if reason is not None:
                    self._finish(delivery, "skipped", reason, report)
                    continue
                until = quiet_until(now, start=patron.quiet_hours_start, end=patron.quiet_hours_end)
                if until is not None:
                    delivery.status, delivery.next_attempt_at = "deferred", until
                    report.deferred += 1
                    continue
                if delivery.channel == SMS:
                    if normalise_phone(patron.phone or "") is None:
                        self._finish(delivery, "failed", "not a mobile phone number", report)
                        continue
                    if self._sms_only_as_fallback and self._await_push(
                        delivery, siblings.get(delivery.event_id, []), now, report
                    ):
                        continue
                delivery.status = "sending"
                delivery.attempts += 1
                delivery.next_attempt_at = now + self._lease
                subscription = subscriptions.get(delivery.subscription_id or 0)
                leased.append(_Leased(delivery, patron, subscription))
            return leased, len(due)

    def _await_push(
        self,
        delivery: Delivery,
        fates: list[tuple[str, int]],
        now: datetime,
        report: DeliveryReport,
    ) -> bool:
        """For a fallback SMS: skip it if a push message was accepted, put it off while one
        has not had its first try; False when it should go now."""
        if any(status == "sent" for status, _ in fates):
            self._finish(delivery, "skipped", "a push message was accepted", report)
            return True
        if any(s == "sending" or (s in ("pending", "deferred") and a == 0) for s, a in fates):
            delivery.status = "pending"
            delivery.next_attempt_at = now + FALLBACK_POLL
            return True
        return False

    async def _push_siblings(
        self, session: AsyncSession, due: list[Delivery]
    ) -> dict[int, list[tuple[str, int]]]:
        """For fallback SMS: the status and attempts of the same event's push deliveries."""
        events = {d.event_id for d in due if d.channel == SMS}
        found: dict[int, list[tuple[str, int]]] = defaultdict(list)
        if not events or not self._sms_only_as_fallback:
            return found
        rows = await session.execute(
            select(Delivery.event_id, Delivery.status, Delivery.attempts).where(
                Delivery.event_id.in_(events), Delivery.channel == PUSH
            )
        )
        for event_id, status, attempts in rows:
            found[event_id].append((status, attempts))
        return found

    def _unwanted(
        self, delivery: Delivery, patron: Patron, subscriptions: dict[int, PushSubscription]
    ) -> str | None:
        """Why the patron no longer wants this delivery (preferences changed since), if so."""
        if delivery.channel == PUSH:
            if not patron.notify_push:
                return "push turned off"
            if delivery.subscription_id not in subscriptions:
                return "the device unsubscribed"
        elif delivery.channel == SMS and not (patron.notify_sms and patron.phone):
            return "SMS turned off"
        elif delivery.channel == EMAIL and not email_wanted(patron):
            return "e-mail turned off"
        return None

    def _finish(self, delivery: Delivery, status: str, reason: str, report: DeliveryReport) -> None:
        delivery.status, delivery.last_error = status, reason
        if status == "skipped":
            report.skipped += 1
        else:
            report.failed += 1

    async def _prepare(self, leased: list[_Leased], report: DeliveryReport) -> list[Job]:
        """The jobs to send: texts built now for the deliveries that have none yet (read
        without the write lock), then stored, so that a retry sends the very same message."""
        to_build: list[EventToBuild] = [
            (item.delivery.event_id, item.delivery.event_type, item.delivery.payload, item.patron)
            for item in leased
            if item.delivery.message is None
        ]
        built: Mapping[int, Message | str | None] = {}
        if to_build:
            async with self._sessions() as session:
                built = await build_messages(
                    circulation=self._circulation, session=session, events=to_build
                )
        now = self._clock.now()
        jobs: list[Job] = []
        stored: list[tuple[int, int, dict[str, Any]]] = []
        ended: list[ResultRow] = []
        for item in leased:
            delivery = item.delivery
            text = delivery.message
            if text is None:
                message = built.get(delivery.event_id)
                if message is None or isinstance(message, str):
                    status = "skipped" if message is None else "failed"
                    error = message or "nothing left to say"
                    ended.append(
                        ResultRow(delivery.id, delivery.attempts, status, now, None, error)
                    )
                    report.skipped += status == "skipped"
                    report.failed += status == "failed"
                    continue
                text = message.to_json()
                stored.append((delivery.id, delivery.attempts, text))
            jobs.append(self._job(item, Message.from_json(text)))
        if stored or ended:
            async with transaction(self._sessions) as session:
                await store_messages(session, stored)
                await record_results(session, ended, gone_subscriptions=())
        return jobs

    def _job(self, item: _Leased, message: Message) -> Job:
        delivery, patron = item.delivery, item.patron
        push: PushTarget | None = None
        address: str | None = None
        if delivery.channel == PUSH and item.subscription is not None:
            sub = item.subscription
            push = PushTarget(sub.endpoint, sub.p256dh, sub.auth)
        elif delivery.channel == SMS:
            address = normalise_phone(patron.phone or "")
        else:
            address = patron.email
        return Job(
            delivery_id=delivery.id,
            attempts=delivery.attempts,
            key=delivery.key,
            channel=delivery.channel,
            message=message,
            language=patron.language,
            push=push,
            subscription_id=delivery.subscription_id,
            address=address,
        )

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, jobs: list[Job], report: DeliveryReport) -> None:
        results = await asyncio.gather(*(self._dispatcher.send(job) for job in jobs))
        now = self._clock.now()
        rows: list[ResultRow] = []
        gone: set[int] = set()
        for job, result in zip(jobs, results, strict=True):
            if result.outcome is Outcome.SENT:
                rows.append(ResultRow(job.delivery_id, job.attempts, "sent", now, now, None))
                report.sent += 1
            elif result.outcome is Outcome.RETRY and job.attempts < self._max_attempts:
                wait = retry_delay(
                    job.attempts, result.retry_after, base=self._retry_base, cap=self._retry_cap
                )
                rows.append(
                    ResultRow(
                        job.delivery_id, job.attempts, "pending", now + wait, None, result.error
                    )
                )
                report.retried += 1
            else:
                if result.outcome is Outcome.GONE and job.subscription_id is not None:
                    gone.add(job.subscription_id)
                error = (
                    result.error
                    if result.outcome is not Outcome.RETRY
                    else (f"gave up after {job.attempts} attempts: {result.error}")
                )
                rows.append(ResultRow(job.delivery_id, job.attempts, "failed", now, None, error))
                report.failed += 1
        async with transaction(self._sessions) as session:
            await record_results(session, rows, gone_subscriptions=gone)
        report.subscriptions_removed += len(gone)
