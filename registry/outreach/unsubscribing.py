"""One-click unsubscribe (RFC 8058): a signed link per delivery; the request commits.

The token names the delivery, signed with the application's secret, so that a
link cannot be made up for someone else and a forwarded message unsubscribes
only its own recipient. Links do not expire: a message read a year later must
still let its reader stop the next one.
"""
import logging

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update

from registry.audit import operations as audit
from registry.core.time import utcnow
from registry.extensions import db
from registry.outreach.models import PENDING, SKIPPED, Delivery
from registry.people.models import Person

log = logging.getLogger(__name__)
SALT = "outreach-unsubscribe"
PATH = "/unsubscribe/"


def token_for(delivery_id: int) -> str:
    """Return the signed token of a delivery."""
    return _serializer().dumps(delivery_id)


def link_for(delivery_id: int) -> str:
    """Return the public unsubscribe address of a delivery."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + PATH + token_for(delivery_id)


def delivery_for(token: str) -> Delivery | None:
    """Return the delivery a token names, or None if the token is not ours."""
    try:
        delivery_id = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(delivery_id, int):
        return None
    return db.session.get(Delivery, delivery_id)


def unsubscribe(delivery: Delivery, how: str) -> bool:
    """Opt the delivery's recipient out of all outreach; tell whether it was news.

    how is "one-click" (the mail program's POST) or "page" (the link's button).
    Messages of other campaigns still waiting for this person are skipped now.
    """
    person = db.session.get(Person, delivery.person_id)
    first_time = not person.is_outreach_opted_out
    person.is_outreach_opted_out = True
    if delivery.unsubscribed_at is None:
        delivery.unsubscribed_at = utcnow()
    skipped = db.session.execute(
        update(Delivery).where(Delivery.person_id == person.id, Delivery.status == PENDING)
        .values(status=SKIPPED, last_error="unsubscribed")).rowcount
    db.session.flush()

    audit.record("person.unsubscribe", person,
                 details={"delivery": delivery.id, "campaign": delivery.campaign_id,
                          "how": how, "pending_skipped": skipped})
    log.info("Person %s unsubscribed from outreach (%s, campaign %s)", person.id, how,
             delivery.campaign_id)
    return first_time


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)
