"""A local SMTP server that records what it receives, for development, tests and benchmarks.

    with SmtpSink() as sink:                 # port 0: the system picks a free port
        with smtplib.SMTP(sink.host, sink.port) as smtp:
            smtp.sendmail(sender, [recipient], message_bytes)
        assert sink.messages[0].subject == "Chúc mừng năm mới"

It accepts everything unless told to refuse: `refuse` answers chosen recipients with
451 (try again later) or 550 (never), `fail_every` answers every Nth message with
`fail_code`. Nothing is delivered anywhere. Every message received is kept in memory
(unless keep=False) and, with record_path, appended to that file as one JSON line,
written at once so another process can follow the file while the sink runs.
"""
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.parser import HeaderParser
from typing import NamedTuple

from aiosmtpd.controller import Controller

from registry.core.time import utcnow

log = logging.getLogger(__name__)
TEMPORARY, PERMANENT = 451, 550
REPLIES = {TEMPORARY: "451 4.3.0 Temporary failure, try again later",
           PERMANENT: "550 5.1.1 Mailbox unavailable"}
ACCEPTED = "250 2.0.0 Message accepted"
#: (attribute, header) recorded of every message
HEADERS = (("message_id", "Message-ID"), ("to", "To"), ("subject", "Subject"),
           ("list_unsubscribe", "List-Unsubscribe"),
           ("list_unsubscribe_post", "List-Unsubscribe-Post"))
_FOLD = re.compile(r"\r?\n(?=[ \t])")
# compat32 hands header values back as plain strings, about 8 times cheaper than the
# default policy's header objects. The header block is decoded as UTF-8 first:
# BytesHeaderParser reads bytes as ASCII, and raw UTF-8 headers (SMTPUTF8) would come
# back as Header objects of unknown-8bit.
_PARSER = HeaderParser(policy=policy.compat32)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    received_at: str  # ISO 8601, UTC
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message_id: str | None
    to: str | None  # decoded: "Nguyễn Văn An <an@example.jp>"
    subject: str | None  # decoded
    list_unsubscribe: str | None
    list_unsubscribe_post: str | None
    size: int  # bytes of the message as received, headers and body
    content: bytes | None = None  # the whole message, only with keep_content

    def as_json(self) -> str:
        """Return the message as one JSON line, without its content."""
        fields = {name: getattr(self, name) for name in self.__slots__ if name != "content"}
        fields["rcpt_tos"] = list(self.rcpt_tos)
        return json.dumps(fields, ensure_ascii=False) + "\n"


class Refusal(NamedTuple):
    stage: str  # "RCPT" for one recipient, "DATA" for the whole message
    code: int
    recipients: tuple[str, ...]


class SmtpSink:
    """Receive mail on host:port and record it; start and stop, or use `with`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 record_path: str | os.PathLike | None = None, *,
                 refuse: Callable[[str], int | None] | None = None,
                 fail_every: int | None = None, fail_code: int = TEMPORARY,
                 keep: bool = True, keep_content: bool = False,
                 on_message: Callable[[ReceivedMessage], None] | None = None):
        """Prepare the sink; refuse(address) returns 451, 550 or None to accept.

        keep=False keeps nothing in memory (a long run that only writes the file);
        on_message is called in the sink's thread after each message is recorded.
        """
        if fail_every is not None and fail_every < 1:
            raise ValueError("fail_every must be 1 or more")
        self.host, self.port, self.record_path = host, port, record_path
        self.refuse, self.fail_every, self.fail_code = refuse, fail_every, fail_code
        self.keep, self.keep_content, self.on_message = keep, keep_content, on_message
        self._messages: list[ReceivedMessage] = []
        self._refusals: list[Refusal] = []
        self._received = self._attempts = 0
        self._changed = threading.Condition()
        self._record_fd: int | None = None
        self._controller: _Controller | None = None

    def start(self) -> "SmtpSink":
        """Open the record file, listen, and return the sink once it answers."""
        if self.record_path is not None:
            self._record_fd = os.open(self.record_path,
                                      os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

        # server_hostname: without it aiosmtpd asks the resolver for this host's name
        self._controller = _Controller(self, hostname=self.host, port=self.port,
                                       server_hostname="smtp-sink.localhost",
                                       enable_SMTPUTF8=True)
        self._controller.start()
        self.port = self._controller.port
        log.info("SMTP sink listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop listening and close the record file."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._record_fd is not None:
            os.close(self._record_fd)
            self._record_fd = None
        log.info("SMTP sink stopped after %d messages", self._received)

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Return a copy of the messages received so far, oldest first."""
        with self._changed:
            return list(self._messages)

    @property
    def refusals(self) -> list[Refusal]:
        """Return a copy of the refusals answered so far, oldest first."""
        with self._changed:
            return list(self._refusals)

    @property
    def received(self) -> int:
        """Return how many messages were accepted, kept in memory or not."""
        with self._changed:
            return self._received

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until count messages were accepted; return False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._received >= count, timeout)

    def clear(self) -> None:
        """Forget the messages and refusals kept in memory (not the record file)."""
        with self._changed:
            self._messages.clear()
            self._refusals.clear()

    # aiosmtpd's hooks, called in the sink's thread

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        code = self.refuse(address) if self.refuse else None
        if code:
            self._note_refusal(Refusal("RCPT", code, (address,)))
            return _reply(code)

        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self._failing_now():
            self._note_refusal(Refusal("DATA", self.fail_code, tuple(envelope.rcpt_tos)))
            return _reply(self.fail_code)

        message = _read(envelope, self.keep_content)
        self._record(message)
        if self.on_message is not None:
            self.on_message(message)
        return ACCEPTED

    def _failing_now(self) -> bool:
        with self._changed:
            self._attempts += 1
            return bool(self.fail_every) and self._attempts % self.fail_every == 0

    def _note_refusal(self, refusal: Refusal) -> None:
        with self._changed:
            if self.keep:
                self._refusals.append(refusal)

    def _record(self, message: ReceivedMessage) -> None:
        # one write() of the whole line: a reader never sees half a line from the
        # sink, and the line is in the file before the sender hears 250
        if self._record_fd is not None:
            os.write(self._record_fd, message.as_json().encode("utf-8"))
        with self._changed:
            self._received += 1
            if self.keep:
                self._messages.append(message)
            self._changed.notify_all()


class _Controller(Controller):
    """aiosmtpd's Controller, also for port 0 (aiosmtpd issue #388)."""

    def _trigger_server(self):
        # start() connects to self.port to check the server answers: make it the port
        # the system chose, which is also the one the sink reports
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def read_record(path: str | os.PathLike) -> list[dict]:
    """Return the messages of a record file, skipping a last line still being written."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.endswith("\n")]


def _read(envelope, keep_content: bool) -> ReceivedMessage:
    content = envelope.original_content or b""
    headers = _PARSER.parsestr(_header_block(content).decode("utf-8", "replace"))
    values = {name: _decoded(headers[header]) for name, header in HEADERS}
    return ReceivedMessage(received_at=utcnow().isoformat(),
                           mail_from=envelope.mail_from,
                           rcpt_tos=tuple(envelope.rcpt_tos), size=len(content),
                           content=content if keep_content else None, **values)


def _header_block(content: bytes) -> bytes:
    end = content.find(b"\r\n\r\n")
    return content if end < 0 else content[:end + 2]


def _decoded(value: str | None) -> str | None:
    if value is None:
        return None
    value = _FOLD.sub("", value).strip()
    if "=?" in value:
        value = str(make_header(decode_header(value)))
    return value


def _reply(code: int) -> str:
    return REPLIES.get(code) or f"{code} Refused by the SMTP sink"
