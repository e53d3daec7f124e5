"""Sending e-mail: through SMTP in production, to the console or a file in development.

Mail is sent only after the request's transaction commits, so that a message
never announces something the database then rolled back.
"""
import logging
import os
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, g, has_request_context

log = logging.getLogger(__name__)


@dataclass
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None

    def as_email(self, sender: str) -> EmailMessage:
        """Return the message as a standard e-mail, header values made safe."""
        email = EmailMessage()
        email["From"] = sender
        email["To"] = _one_line(self.to)
        email["Subject"] = _one_line(self.subject)
        email["Message-ID"] = self.message_id or make_msgid(domain=_domain(sender))
        for name, value in self.headers.items():
            email[name] = _one_line(value)
        email.set_content(self.text)
        if self.html:
            email.add_alternative(self.html, subtype="html")
        return email


def send_after_commit(message: Message) -> None:
    """Queue message for sending once the current request has committed."""
    if not has_request_context():
        send(message)
        return
    g.setdefault("outbox", []).append(message)


def flush_outbox() -> None:
    """Send the messages queued by this request; called after its commit."""
    for message in g.pop("outbox", []):
        try:
            send(message)
        except (OSError, smtplib.SMTPException):
            # The change is saved; the person can ask for the message again.
            log.exception("Mail could not be sent after the commit")


def discard_outbox() -> None:
    """Forget the messages of a request that rolled back."""
    g.pop("outbox", None)


def send(message: Message) -> None:
    """Send message now with the configured backend."""
    backend = current_app.config.get("MAIL_BACKEND", "console")
    email = message.as_email(sender())
    if backend == "smtp":
        _send_smtp(email)
    elif backend == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(email)
    elif backend == "file":
        _append_to_file(email)
    else:
        print(email.as_string(), flush=True)
    log.info("Mail %s sent through %s", email["Message-ID"], backend)


def sender() -> str:
    """Return the From address of the registry's mail."""
    config = current_app.config
    return formataddr((config.get("MAIL_FROM_NAME", ""), config["MAIL_FROM"]))


def sent_messages() -> list[EmailMessage]:
    """Return what the memory backend collected (tests)."""
    return current_app.extensions.setdefault("mail_outbox", [])


def _send_smtp(email: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def _append_to_file(email: EmailMessage) -> None:
    path = current_app.config.get("MAIL_FILE") or os.path.join(
        current_app.instance_path, "mail.log")
    with open(path, "a", encoding="utf-8") as out:
        out.write(email.as_string() + "\n" + "=" * 72 + "\n")


def _one_line(value: str) -> str:
    # A line break in a header would let a name or subject add headers of its own.
    return " ".join(str(value).split())


def _domain(address: str) -> str:
    return address.rpartition("@")[2].rstrip(">") or "localhost"
