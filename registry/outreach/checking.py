"""What officers use to check a campaign: previews, a test to themselves, the failures.

The request commits. A test message is rendered for the sample recipient of
registry.outreach.rendering, in every language the campaign is written in, and goes
to the officer's own address only, marked [TEST] and without the unsubscribe link,
which would name no delivery.
"""
import logging
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select

from registry.audit import operations as audit
from registry.core import mail
from registry.core.errors import BadInput
from registry.extensions import db
from registry.outreach import audiences, campaigns, rendering
from registry.outreach.models import (FAILED, PENDING, SENDING, SENT, SKIPPED, Campaign,
                                      Delivery)
from registry.people.models import Email, Person
from registry.reports import operations as reports

log = logging.getLogger(__name__)

#: how many of the audience's people the preview offers to choose from
PREVIEW_CHOICES = 50
TEST_MARK = "[TEST]"
FINISHED = (SENT, FAILED, SKIPPED)


@dataclass(frozen=True)
class Preview:
    """A campaign's message as one recipient would read it, or why it cannot be."""

    lang: str
    subject: str = ""
    text: str = ""
    #: the rendered HTML part: every line escaped by rendering, paragraphs in <p>
    html: Markup = Markup("")
    problem: str | None = None


# Progress ------------------------------------------------------------------------

def progress(campaign: Campaign) -> dict:
    """Return the campaign's delivery counts with done (sent, failed, skipped) and percent."""
    tally = campaigns.counts(campaign)
    tally["done"] = sum(tally[status] for status in FINISHED)
    tally["percent"] = 100 * tally["done"] // tally["total"] if tally["total"] else 0
    return tally


def counts_by_campaign(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Return {campaign id: {status: rows}} for the list, in one query."""
    found = {campaign_id: {SENT: 0, FAILED: 0, "waiting": 0} for campaign_id in campaign_ids}
    if not campaign_ids:
        return found
    rows = db.session.execute(select(Delivery.campaign_id, Delivery.status, func.count())
                              .where(Delivery.campaign_id.in_(campaign_ids))
                              .group_by(Delivery.campaign_id, Delivery.status))
    for campaign_id, status, count in rows:
        key = "waiting" if status in (PENDING, SENDING) else status
        if key in found[campaign_id]:
            found[campaign_id][key] += count
    return found


# Previews ------------------------------------------------------------------------

def preview_people(campaign: Campaign) -> list[Person]:
    """Return the first PREVIEW_CHOICES people of the campaign's audience, by name."""
    filters = campaign.audience_filters or campaign.audience.filters
    ids = audiences.members(filters, limit=PREVIEW_CHOICES, channel=campaign.channel)
    if not ids:
        return []
    people = db.session.scalars(select(Person).where(Person.id.in_(ids)))
    return sorted(people, key=lambda person: (person.name_folded or "", person.id))


def sample_previews(campaign: Campaign) -> list[Preview]:
    """Return the message for the sample recipient in each language it is written in."""
    return [_rendered(campaign, message.lang, rendering.SAMPLE_RECIPIENT)
            for message in campaign.messages]


def person_preview(campaign: Campaign, person: Person) -> Preview:
    """Return the message person would receive, in their language."""
    lang = rendering.choose_language(person.preferred_lang,
                                     [message.lang for message in campaign.messages])
    return _rendered(campaign, lang, rendering.recipient_from_person(person))


def _rendered(campaign: Campaign, lang: str, recipient: dict) -> Preview:
    message = campaign.message_in(lang)
    try:
        result = rendering.render(message.subject, message.body, recipient,
                                  campaigns.occasion_values(campaign), lang,
                                  campaign.signature)
    except rendering.RenderError as error:
        return Preview(lang, problem=error.message)
    # rendering escapes every line itself and adds only <p> and <br>
    return Preview(lang, result.subject, result.text, Markup(result.html))


# The test to oneself ----------------------------------------------------------------

def send_test(campaign: Campaign, actor) -> list[str]:
    """Send actor the sample recipient's message in each language; return the languages."""
    previews = sample_previews(campaign)
    problems = [preview.problem for preview in previews if preview.problem]
    if problems:
        raise BadInput(" ".join(problems))
    if not previews:
        raise BadInput(_("Write the message in Vietnamese at least."))

    for preview in previews:
        mail.send_after_commit(_test_message(preview, actor.email))
    languages = [preview.lang for preview in previews]
    audit.record("campaign.test_send", campaign,
                 details={"to": actor.email, "languages": languages}, actor=actor)
    log.info("Test of campaign %s sent to user %s in %s", campaign.id, actor.id, languages)
    return languages


def _test_message(preview: Preview, address: str) -> mail.Message:
    with force_locale(preview.lang):
        note = _("This is a test. The message sent to each recipient ends with the "
                 "link to stop receiving these messages.")
    return mail.Message(to=address, subject=f"{TEST_MARK} {preview.subject}",
                        text=f"{preview.text}\n\n-- \n{note}\n",
                        html=f"{preview.html}\n<hr>\n<p><small>{escape(note)}"
                             "</small></p>\n",
                        headers={"Precedence": "bulk"})


# The failures as CSV -----------------------------------------------------------------

def failures_csv(campaign: Campaign, actor) -> tuple[bytes, int]:
    """Return (file, rows) of the campaign's failed deliveries; audited."""
    lines = [[_("Record number"), _("Full name"), _("E-mail address"), _("Attempts"),
              _("Last error")]]
    lines += [[row.person_id, row.full_name, row.address or "", row.attempts,
               row.last_error or ""] for row in _failed_rows(campaign)]
    rows = len(lines) - 1

    audit.record("campaign.export_failures", campaign, details={"rows": rows}, actor=actor)
    log.info("User %s exported the %d failures of campaign %s", actor.id, rows, campaign.id)
    return reports.csv_file(lines), rows


def _failed_rows(campaign: Campaign):
    # A failed message has no address recorded: the sender's choice is shown instead.
    first_address = (select(Email.address).where(Email.person_id == Person.id)
                     .order_by(Email.is_verified.desc(), Email.id).limit(1)
                     .scalar_subquery())
    query = (select(Delivery.person_id, Person.full_name, Delivery.attempts,
                    Delivery.last_error,
                    func.coalesce(Delivery.address, first_address).label("address"))
             .join(Person, Person.id == Delivery.person_id)
             .where(Delivery.campaign_id == campaign.id, Delivery.status == FAILED)
             .order_by(Delivery.id))
    return db.session.execute(query)
