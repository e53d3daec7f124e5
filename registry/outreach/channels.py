"""Channels a campaign's messages go out through: e-mail by SMTP, and a logging stand-in.

A channel opens a connection; the sender hands it one message at a time and
learns from the exception it raises whether to retry (TransientFailure) or give
up on that person (PermanentFailure). Other channels (SMS, Zalo) plug in here.

E-mail is written out by hand rather than with email.message.EmailMessage: the
standard class spends over a millisecond per message on policy machinery, more
than the SMTP hand-off itself, and a campaign sends tens of thousands of them.
Every header value passes through one_line() and non-ASCII text is RFC 2047
encoded, so no value can start a header of its own.
"""
import base64
import contextlib
import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.utils import formataddr, formatdate

from flask import current_app

log = logging.getLogger(__name__)

EMAIL, SMS, ZALO = "email", "sms", "zalo"
CRLF = "\r\n"
_WORD_BYTES = 45  # of text in an encoded word of a header: 72 characters, of 75 allowed


class TransientFailure(Exception):
    """The message may go through later: the connection dropped, or a 4xx answer."""


class PermanentFailure(Exception):
    """The message will never go through to this address: a 5xx answer."""


@dataclass
class OutgoingMessage:
    """One rendered message to one person."""

    to_address: str
    to_name: str
    subject: str
    text: str
    html: str
    message_id: str  # with its angle brackets
    headers: dict[str, str] = field(default_factory=dict)


def one_line(value: str) -> str:
    """Return value with every run of white space, line breaks included, as one space."""
    return " ".join(str(value).split())


def email_bytes(message: OutgoingMessage, sender: str) -> bytes:
    """Return message as a MIME multipart/alternative e-mail, CRLF line ends."""
    boundary = "=_" + uuid.uuid4().hex
    headers = [
        ("From", sender),
        ("To", _address_header(message.to_name, message.to_address)),
        ("Subject", _encoded(message.subject)),
        ("Date", formatdate(localtime=False, usegmt=True)),
        ("Message-ID", one_line(message.message_id)),
        ("MIME-Version", "1.0"),
        *((name, _encoded(value)) for name, value in message.headers.items()),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    lines = [f"{name}: {value}" for name, value in headers]
    lines += ["", f"--{boundary}", *_part("text/plain", message.text),
              f"--{boundary}", *_part("text/html", message.html), f"--{boundary}--", ""]
    return CRLF.join(lines).encode("ascii")


def _address_header(name: str, address: str) -> str:
    name = one_line(name)
    if name.isascii():
        return formataddr((name, one_line(address)))
    return f"{_encoded(name)} <{one_line(address)}>"


def _encoded(value: str) -> str:
    value = one_line(value)
    if value.isascii() and len(value) < 900:
        return value
    return (CRLF + " ").join(_encoded_words(value))


def _encoded_words(value: str):
    """Yield value as RFC 2047 base64 words of whole characters, one a folded line."""
    # By hand: email.header.Header cost 7 times as much, and splits where this does.
    start, size = 0, 0
    for at, char in enumerate(value):
        length = len(char.encode("utf-8"))
        if size + length > _WORD_BYTES:
            yield _word(value[start:at])
            start, size = at, 0
        size += length
    yield _word(value[start:])


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _part(content_type: str, body: str) -> list[str]:
    encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii").rstrip("\n")
    return [f"Content-Type: {content_type}; charset=utf-8",
            "Content-Transfer-Encoding: base64", "", *encoded.split("\n")]


class SmtpConnection:
    """One SMTP session kept open for many messages, reopened when it drops."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: OutgoingMessage) -> None:
        """Hand message to the SMTP server; raise TransientFailure or PermanentFailure."""
        raw = email_bytes(message, _sender(self.config))
        envelope_from = self.config["MAIL_FROM"]
        try:
            self._connected().sendmail(envelope_from, [message.to_address], raw)
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()))
            raise _failure(code, answer) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _failure(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise TransientFailure(str(error) or type(error).__name__) from None

    def _connected(self) -> smtplib.SMTP:
        if self.smtp is None:
            config = self.config
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self.smtp = smtp
        return self.smtp

    def close(self) -> None:
        """Say goodbye to the server, ignoring a connection already gone."""
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


class BackendConnection:
    """The development and test backends of registry.core.mail: memory, console, file."""

    def __init__(self, config, backend: str):
        self.config = config
        self.backend = backend

    def send(self, message: OutgoingMessage) -> None:
        """Keep, print or append the message as the backend says."""
        raw = email_bytes(message, _sender(self.config))
        if self.backend == "memory":
            parsed = message_from_bytes(raw, policy=policy.default)
            current_app.extensions.setdefault("mail_outbox", []).append(parsed)
        elif self.backend == "file":
            path = self.config.get("MAIL_FILE") or "mail.log"
            with open(path, "ab") as out:
                out.write(raw + b"\r\n" + b"=" * 72 + b"\r\n")
        else:
            print(raw.decode("ascii"), flush=True)

    def close(self) -> None:
        """Nothing to close."""


class LoggingConnection:
    """A channel with no gateway yet: it logs what it would send and sends nothing."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, message: OutgoingMessage) -> None:
        """Log the message's id and length."""
        # TODO: there is no SMS or Zalo gateway contract yet, so these channels only
        # log; a real one raises TransientFailure and PermanentFailure like SMTP.
        log.info("%s message %s (%d characters) not sent: no gateway", self.channel,
                 message.message_id, len(message.text))

    def close(self) -> None:
        """Nothing to close."""


@contextlib.contextmanager
def connect(channel: str = EMAIL):
    """Yield a connection of channel, closed afterwards."""
    config = current_app.config
    if channel == EMAIL:
        backend = config.get("MAIL_BACKEND", "console")
        connection = (SmtpConnection(config) if backend == "smtp"
                      else BackendConnection(config, backend))
    else:
        connection = LoggingConnection(channel)
    try:
        yield connection
    finally:
        connection.close()


def _failure(code: int, answer) -> Exception:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    reason = f"{code} {one_line(text)}"[:400]
    return PermanentFailure(reason) if 500 <= code < 600 else TransientFailure(reason)


def _sender(config) -> str:
    name = config.get("MAIL_FROM_NAME", "")
    return _address_header(name, config["MAIL_FROM"]) if name else config["MAIL_FROM"]
