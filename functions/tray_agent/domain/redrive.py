"""Dead letters: read them, and redrive them through the path they failed on.

Two shapes arrive (see ``infra/constructs/dead_letters.py``):

- a Lambda **invocation record** in ``failed_invocations``: ``requestContext.functionArn`` names
  the function, ``requestPayload`` is the event it was given, ``requestContext.condition`` and
  ``responsePayload`` say why it failed;
- an **EventBridge event** in ``undelivered_events``: the body is the event itself, the
  ``TARGET_ARN`` attribute names the function, ``ERROR_CODE`` / ``ERROR_MESSAGE`` say why.

A redrive re-invokes the function asynchronously with the original payload, exactly as S3's
notice or the schedule reached it, so the handler's own idempotency applies and a second failure
lands in ``failed_invocations`` again. A message is deleted only after Lambda accepted the
invocation (202); anything else leaves it in its queue and reports why. Only the functions named
in Settings are ever invoked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tray_agent.config import Settings
from tray_agent.data.dead_letters import AsyncInvoker, MessageQueue, QueuedMessage
from tray_agent.errors import UpstreamError
from tray_agent.models.dead_letters import (
    DeadLetter,
    DeadLetterListing,
    DeadLetterQueue,
    QueueListing,
    RedriveReport,
    RedriveRequest,
    RedriveResult,
    RedriveStatus,
)
from tray_agent.observability import logger, metrics

LIST_LIMIT = 100


def function_name(reference: str) -> str:
    """``arn:aws:lambda:region:account:function:name[:qualifier]`` or a bare name -> ``name``."""
    parts = reference.split(":")
    if "function" in parts and parts.index("function") + 1 < len(parts):
        return parts[parts.index("function") + 1]
    return parts[0]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sent_at(message: QueuedMessage) -> datetime | None:
    millis = _int(message.attributes.get("SentTimestamp"))
    return datetime.fromtimestamp(millis / 1000, UTC) if millis is not None else None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def read_dead_letter(queue: DeadLetterQueue, message: QueuedMessage, functions: frozenset[str]) -> DeadLetter:
    """What one message holds, and ``problem`` set when it cannot be redriven as it is."""
    base: dict[str, Any] = {
        "queue": queue,
        "message_id": message.message_id,
        "times_received": _int(message.attributes.get("ApproximateReceiveCount")) or 0,
        "failed_at": _sent_at(message),
    }
    try:
        body = json.loads(message.body)
    except ValueError:
        return DeadLetter(**base, function=None, reason="unreadable", problem="the message body is not JSON")
    if queue is DeadLetterQueue.FAILED_INVOCATIONS:
        letter = _invocation_record(base, body)
    else:
        letter = _undelivered_event(base, body, message.message_attributes)
    if letter.problem is None and letter.function not in functions:
        letter.problem = (
            f"{letter.function} is not a function dead letters are redriven to ({sorted(functions)})"
        )
    return letter


def _invocation_record(base: dict[str, Any], body: Any) -> DeadLetter:
    context = body.get("requestContext") if isinstance(body, dict) else None
    arn = context.get("functionArn") if isinstance(context, dict) else None
    if not isinstance(arn, str) or not arn:
        return DeadLetter(
            **base,
            function=None,
            reason="unreadable",
            problem="not a Lambda invocation record (no requestContext.functionArn)",
        )
    assert isinstance(context, dict)
    response = body.get("responsePayload")
    error = ""
    if isinstance(response, dict):
        error = ": ".join(str(response[k]) for k in ("errorType", "errorMessage") if response.get(k))
    condition = str(context.get("condition") or "failed")
    return DeadLetter(
        **{**base, "failed_at": _timestamp(body.get("timestamp")) or base["failed_at"]},
        function=function_name(arn),
        reason=f"{condition}: {error}" if error else condition,
        attempts=_int(context.get("approximateInvokeCount")),
        payload=body.get("requestPayload"),
        problem=None if "requestPayload" in body else "the record holds no requestPayload to re-submit",
    )


def _undelivered_event(base: dict[str, Any], body: Any, attributes: dict[str, str]) -> DeadLetter:
    target = attributes.get("TARGET_ARN", "")
    code = attributes.get("ERROR_CODE", "")
    detail = attributes.get("ERROR_MESSAGE", "")
    reason = ": ".join(part for part in (code, detail) if part) or "undelivered"
    if attributes.get("EXHAUSTED_RETRY_CONDITION"):
        reason = f"{reason} ({attributes['EXHAUSTED_RETRY_CONDITION']})"
    return DeadLetter(
        **base,
        function=function_name(target) if target else None,
        reason=reason,
        attempts=_int(attributes.get("RETRY_ATTEMPTS")),
        rule_arn=attributes.get("RULE_ARN") or None,
        payload=body,
        problem=None if target else "no TARGET_ARN attribute: not an EventBridge dead letter",
    )


@dataclass
class _Read:
    """Messages received (hidden) during one listing or redrive, to show again at its end."""

    queue: MessageQueue
    to_release: list[str]


class DeadLetterService:
    def __init__(
        self,
        settings: Settings,
        queues: dict[DeadLetterQueue, MessageQueue] | None = None,
        invoker: AsyncInvoker | None = None,
    ) -> None:
        self._settings = settings
        self._queues = queues or {
            DeadLetterQueue.FAILED_INVOCATIONS: MessageQueue(settings.failed_invocations_queue),
            DeadLetterQueue.UNDELIVERED_EVENTS: MessageQueue(settings.undelivered_events_queue),
        }
        self._invoker = invoker or AsyncInvoker()
        self._functions = frozenset({settings.po_intake_function_name, settings.monitor_function_name})

    def list_letters(self, queue: DeadLetterQueue | None = None, limit: int = 50) -> DeadLetterListing:
        """Every queue's depth and up to ``limit`` letters each; the letters stay in their queues."""
        listings = []
        for name in self._selected(queue):
            read = _Read(self._queues[name], [])
            letters: dict[str, DeadLetter] = {}
            try:
                for message in self._sweep(read, limit):
                    read.to_release.append(message.receipt_handle)
                    letters.setdefault(message.message_id, read_dead_letter(name, message, self._functions))
            finally:
                read.queue.release(read.to_release)
            listings.append(
                QueueListing(queue=name, waiting=read.queue.depth(), letters=list(letters.values()))
            )
        return DeadLetterListing(queues=listings)

    def redrive(self, request: RedriveRequest, *, requested_by: str = "") -> RedriveReport:
        """Redrive what was waiting when the call began.

        Letters that arrive meanwhile wait for the next call: among them the new record of a
        re-submission that failed again, which would otherwise be redriven in a loop.
        """
        began = datetime.now(UTC)
        wanted = set(request.message_ids or ())
        results: list[RedriveResult] = []
        for name in self._selected(request.queue):
            read = _Read(self._queues[name], [])
            try:
                for message in self._sweep(read, request.limit - len(results)):
                    arrived = _sent_at(message)
                    later = arrived is not None and arrived > began
                    if later or (wanted and message.message_id not in wanted):
                        read.to_release.append(message.receipt_handle)
                        continue
                    wanted.discard(message.message_id)
                    results.append(self._redrive_one(name, read, message, requested_by))
                    if request.message_ids and not wanted:
                        break
            finally:
                read.queue.release(read.to_release)
            if len(results) >= request.limit or (request.message_ids and not wanted):
                break
        for missing in sorted(wanted):
            results.append(
                RedriveResult(
                    queue=request.queue,
                    message_id=missing,
                    status=RedriveStatus.FAILED,
                    reason="not found in the queue (already redriven, or being read by someone else)",
                )
            )
        redriven = sum(1 for r in results if r.status is RedriveStatus.REDRIVEN)
        return RedriveReport(redriven=redriven, failed=len(results) - redriven, results=results)

    def _redrive_one(
        self, name: DeadLetterQueue, read: _Read, message: QueuedMessage, requested_by: str
    ) -> RedriveResult:
        letter = read_dead_letter(name, message, self._functions)
        log: dict[str, Any] = {
            "queue": name.value,
            "message_id": letter.message_id,
            "function": letter.function,
        }
        if letter.problem is not None:
            read.to_release.append(message.receipt_handle)
            logger.warning("dead letter not redriven", problem=letter.problem, **log)
            return self._result(letter, RedriveStatus.FAILED, letter.problem)
        assert letter.function is not None
        try:
            self._invoker.invoke(letter.function, letter.payload)
        except UpstreamError as exc:
            read.to_release.append(message.receipt_handle)
            logger.warning("dead letter redrive refused", reason=exc.message, **log)
            return self._result(letter, RedriveStatus.FAILED, exc.message)
        metrics.add_metric(name="DeadLettersRedriven", unit="Count", value=1)
        try:
            read.queue.delete(message.receipt_handle)
        except UpstreamError as exc:
            # The work is re-submitted; the message reappears after its timeout and would run twice
            # only where the handler is not idempotent (intake and monitor both are).
            logger.warning("redriven dead letter not deleted", reason=exc.message, **log)
            return self._result(
                letter, RedriveStatus.REDRIVEN, f"re-submitted, but still in the queue: {exc.message}"
            )
        logger.info("dead letter redriven", requested_by=requested_by, **log)
        return self._result(letter, RedriveStatus.REDRIVEN, None)

    @staticmethod
    def _result(letter: DeadLetter, status: RedriveStatus, reason: str | None) -> RedriveResult:
        return RedriveResult(
            queue=letter.queue,
            message_id=letter.message_id,
            function=letter.function,
            status=status,
            reason=reason,
        )

    def _selected(self, queue: DeadLetterQueue | None) -> list[DeadLetterQueue]:
        return [queue] if queue is not None else list(DeadLetterQueue)

    def _sweep(self, read: _Read, limit: int) -> Iterator[QueuedMessage]:
        """Receive until the queue has nothing visible left or ``limit`` messages were yielded.

        Received messages stay hidden until the caller deletes them or releases them (at the end),
        so a sweep sees each message once and ends when every visible one was read.
        """
        yielded = 0
        while yielded < limit:
            batch = read.queue.receive(
                max_messages=limit - yielded,
                visibility_s=self._settings.dead_letter_visibility_s,
                wait_s=self._settings.dead_letter_wait_s,
            )
            if not batch:
                return
            for message in batch:
                yielded += 1
                yield message


def build_dead_letter_service(settings: Settings) -> DeadLetterService:
    return DeadLetterService(settings)
