"""Pages of the rights domain: a person's own data by signed link, officers' tickets."""
import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.extensions import limiter
from registry.people.forms import CHANNEL_LABELS, EDUCATION_LABELS, LANGUAGE_LABELS
from registry.rights import forms, operations
from registry.rights.models import DELETION, KINDS, STATES

bp = Blueprint("rights", __name__)
PER_PAGE = 50
#: "pending" lists what waits for an officer, "any" every ticket
STATE_FILTERS = ("pending", *STATES, "any")
REFUSAL_STATUS = {"invalid": 404, "expired": 410, "erased": 410}


def _limit_per_address() -> str:
    return current_app.config.get("RIGHTS_LINK_LIMIT_PER_ADDRESS", "10 per hour")


def _limit_per_email() -> str:
    return current_app.config.get("RIGHTS_LINK_LIMIT_PER_EMAIL", "3 per hour")


def _email_key() -> str:
    # A digest, so that the limiter's storage holds no e-mail addresses.
    typed = (request.form.get("email") or "").strip().lower()
    return "rights-link:" + hashlib.sha256(typed.encode()).hexdigest()


# The person's pages, opened without signing in


@bp.route("/my-data", methods=["GET", "POST"])
@limiter.limit(_limit_per_address, methods=["POST"])
@limiter.limit(_limit_per_email, methods=["POST"], key_func=_email_key)
def ask_link():
    """Show the form that mails a link to one's own data, and mail it."""
    form = forms.LinkRequestForm()
    if not form.validate_on_submit():
        return render_template("rights/ask_link.html", form=form), _status(form)

    operations.send_data_links(form.email.data)
    # The same answer whether or not the address is known.
    flash(_("If we hold a record with this address, we have sent a link to it. "
            "The link works for 24 hours."), "info")
    return redirect(url_for("rights.ask_link"))


@bp.get("/my-data/<token>")
def my_data(token: str):
    """Show the person of a data link what the registry holds about them."""
    return _data_page(_person_of(token), token)


@bp.post("/my-data/<token>/access")
def ask_access(token: str):
    """Ask for an official copy of one's data."""
    person = _person_of(token)
    if not forms.ActionForm().validate_on_submit():
        return _data_page(person, token), 400

    ticket = operations.ask_for_access(person, request.remote_addr)
    _flash_received(ticket)
    return redirect(url_for("rights.my_data", token=token))


@bp.post("/my-data/<token>/correction")
def ask_correction(token: str):
    """Ask for a correction of one's record."""
    person = _person_of(token)
    form = forms.CorrectionForm()
    if not form.validate_on_submit():
        return _data_page(person, token, correction_form=form), 422

    ticket = operations.ask_for_correction(person, form.details.data, request.remote_addr)
    _flash_received(ticket)
    return redirect(url_for("rights.my_data", token=token))


@bp.post("/my-data/<token>/withdraw/<purpose>")
def withdraw(token: str, purpose: str):
    """Withdraw a consent at once; withdrawing the record's own asks for deletion."""
    person = _person_of(token)
    if purpose == "record":
        return redirect(url_for("rights.ask_deletion", token=token))
    if not forms.ActionForm().validate_on_submit():
        return _data_page(person, token), 400

    operations.withdraw_consent(person, purpose, request.remote_addr)
    flash(_("Your consent has been withdrawn. It took effect at once."), "success")
    return redirect(url_for("rights.my_data", token=token))


@bp.route("/my-data/<token>/delete", methods=["GET", "POST"])
def ask_deletion(token: str):
    """Ask, after a confirmation, for the deletion of one's personal data."""
    person = _person_of(token)
    form = forms.DeletionForm()
    if not form.validate_on_submit():
        page = render_template("rights/confirm_deletion.html", form=form, token=token,
                               person=person)
        return page, _status(form)

    ticket = operations.ask_for_deletion(person, form.details.data or "", request.remote_addr)
    _flash_received(ticket)
    return redirect(url_for("rights.my_data", token=token))


@bp.errorhandler(operations.LinkRefused)
def _link_refused(refusal: operations.LinkRefused):
    return render_template("rights/link_refused.html", reason=refusal.reason), \
        REFUSAL_STATUS[refusal.reason]


# The officers' tickets


@bp.get("/requests")
@requires("review.manage")
def index():
    """List the requests of people about their data, with their legal clocks."""
    state = request.args.get("state", "pending")
    state = state if state in STATE_FILTERS else "pending"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    page = max(request.args.get("page", 1, type=int), 1)

    tickets, has_next = operations.find_requests(None if state == "any" else state, kind,
                                                 page, PER_PAGE)
    return render_template("rights/requests.html", tickets=tickets, state=state, kind=kind,
                           page=page, has_next=has_next, state_filters=STATE_FILTERS,
                           kinds=KINDS, clocks={t.id: operations.clock_of(t) for t in tickets})


@bp.get("/requests/<int:request_id>")
@requires("review.manage")
def show(request_id: int):
    """Show one request with what can be done about it."""
    return _ticket_page(operations.get_request(request_id))


@bp.post("/requests/<int:request_id>/acknowledge")
@requires("review.manage")
def acknowledge(request_id: int):
    """Acknowledge a request; the person is told by e-mail."""
    ticket = operations.get_request(request_id)
    if not forms.ActionForm().validate_on_submit():
        return _ticket_page(ticket), 400

    operations.acknowledge(ticket, current_user)
    flash(_("The request was acknowledged and the person told."), "success")
    return redirect(url_for("rights.show", request_id=ticket.id))


@bp.post("/requests/<int:request_id>/complete")
@requires("review.manage")
def complete(request_id: int):
    """Close a request as done, saying what was done."""
    ticket = operations.get_request(request_id)
    form = forms.OutcomeForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, outcome_form=form), 422

    operations.complete(ticket, form.outcome.data, current_user)
    flash(_("The request was completed and the person told."), "success")
    return redirect(url_for("rights.show", request_id=ticket.id))


@bp.post("/requests/<int:request_id>/refuse")
@requires("review.manage")
def refuse(request_id: int):
    """Refuse a request on legal grounds."""
    ticket = operations.get_request(request_id)
    form = forms.RefuseForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, refuse_form=form), 422

    operations.refuse(ticket, form.reason.data, current_user)
    flash(_("The request was refused and the person told."), "success")
    return redirect(url_for("rights.show", request_id=ticket.id))


@bp.post("/requests/<int:request_id>/erase")
@requires("review.manage")
def erase(request_id: int):
    """Erase the personal data of the person who asked for deletion."""
    ticket = operations.get_request(request_id)
    form = forms.EraseForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, erase_form=form), 422

    operations.erase_person(ticket, current_user)
    flash(_("The personal data was erased. Only a trace without personal data remains."),
          "success")
    return redirect(url_for("rights.show", request_id=ticket.id))


@bp.app_context_processor
def _helpers() -> dict:
    """Give templates the labels of tickets and the date of an erasure."""
    return {
        "request_kind_label": lambda code: forms.KIND_LABELS.get(code, code),
        "request_state_label": lambda code: forms.STATE_LABELS.get(code, code),
        "request_state_style": lambda code: forms.STATE_STYLES.get(code, "secondary"),
        "erasure_date": operations.erasure_date,
    }


def _person_of(token: str):
    person, _address = operations.person_from_token(token)
    return person


def _data_page(person, token: str, correction_form=None):
    from registry.people import operations as people

    return render_template(
        "rights/my_data.html", person=person, token=token,
        active=people.active_consents(person), requests=operations.requests_of(person),
        correction_form=correction_form or forms.CorrectionForm(formdata=None),
        action_form=forms.ActionForm(), withdrawable=operations.WITHDRAWABLE,
        channel_labels=CHANNEL_LABELS, education_labels=EDUCATION_LABELS,
        language_labels=LANGUAGE_LABELS,
    )


def _ticket_page(ticket, outcome_form=None, refuse_form=None, erase_form=None):
    return render_template(
        "rights/request.html", ticket=ticket, clock=operations.clock_of(ticket),
        action_form=forms.ActionForm(),
        outcome_form=outcome_form or forms.OutcomeForm(formdata=None),
        refuse_form=refuse_form or forms.RefuseForm(formdata=None),
        erase_form=erase_form or forms.EraseForm(formdata=None), deletion=DELETION,
    )


def _flash_received(ticket) -> None:
    flash(_("Your request no. %(number)d has been received. We will acknowledge it within "
            "two working days.", number=ticket.id), "success")


def _status(form) -> int:
    return 422 if form.errors else 200
