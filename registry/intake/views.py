"""Pages of the intake domain: the public form, own submissions, the review queue."""
from flask import (Blueprint, current_app, flash, g, redirect, render_template,
                   request, session, url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.core.setup import wants_write
from registry.extensions import limiter
from registry.intake import forms, notice, operations
from registry.people import forms as people_forms
from registry.people import operations as people

bp = Blueprint("intake", __name__)


def _limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)


# The public form -----------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("INTAKE_REGISTER_LIMIT", "10 per hour"), methods=["POST"])
def register():
    """Show the public registration form and save a registration when valid."""
    form = forms.RegistrationForm(preferred_lang=str(get_locale()))
    if form.validate_on_submit():
        submission = operations.register(
            forms.registration_data(form), request.remote_addr,
            request.user_agent.string, form.shown_at)
        session["intake_reference"] = submission.reference
        return redirect(url_for("intake.registered"))
    if request.method == "GET" or form.form_errors:
        form.started.data = operations.form_started_token()
    return _public_form(form), 422 if request.method == "POST" else 200


@bp.get("/register/done")
def registered():
    """Show the reference number of the registration just sent."""
    reference = session.get("intake_reference")
    if not reference:
        return redirect(url_for("intake.register"))
    return render_template("intake/registered.html", reference=reference)


@bp.get("/register/confirm/<token>")
@limiter.limit(_limit("INTAKE_CONFIRM_LIMIT", "30 per hour"))
def confirm(token: str):
    """Confirm the e-mail address of a registration from the link in its mail."""
    wants_write()
    try:
        submission = operations.confirm_contact(token[:500])
    except BadInput as error:
        expired = isinstance(error, operations.LinkExpired)
        page = render_template("intake/link_problem.html", message=error.message,
                               expired=expired, form=forms.ResendForm())
        return page, 400
    return render_template("intake/confirmed.html", reference=submission.reference)


@bp.route("/register/resend", methods=["GET", "POST"])
@limiter.limit(_limit("INTAKE_RESEND_LIMIT", "5 per hour"), methods=["POST"])
def resend():
    """Mail a new confirmation link; the answer is the same whether or not one matched."""
    form = forms.ResendForm()
    if form.validate_on_submit():
        operations.resend_confirmation(form.email.data, form.reference.data)
        flash(_("If these details match a registration that is not confirmed yet, we have "
                "sent a new link. Please check your e-mail."), "info")
        return redirect(url_for("intake.resend"))
    status = 422 if request.method == "POST" else 200
    return render_template("intake/resend.html", form=form), status


def _public_form(form: forms.RegistrationForm) -> str:
    return render_template("intake/register.html", form=form, notice=notice,
                           calling_codes=forms.calling_codes())


# District submissions --------------------------------------------------------------

@bp.get("/submissions")
@requires("people.write")
def own_submissions():
    """List the entries the signed-in official submitted, with their state."""
    return render_template("intake/submissions.html",
                           submissions=operations.own_submissions(current_user))


@bp.post("/submissions/<int:submission_id>/resubmit")
@requires("people.write")
def resubmit(submission_id: int):
    """Send a corrected, rejected entry back to review."""
    submission = operations.get_own(submission_id, current_user)
    operations.resubmit(submission, current_user)
    flash(_("The entry was sent again for review."), "success")
    return redirect(url_for("intake.own_submissions"))


# The review queue --------------------------------------------------------------

@bp.get("/review")
@requires("review.manage")
def queue():
    """List everything waiting for an officer's decision, with filters."""
    filters = _filters_from(request.args)
    return render_template(
        "intake/queue.html", items=operations.queue_items(filters), filters=filters,
        sources=operations.queue_sources(), counts=operations.queue_counts(),
        **_filter_choices())


@bp.route("/review/<int:submission_id>", methods=["GET", "POST"])
@requires("review.manage")
def review_item(submission_id: int):
    """Show a submission with its record as a form; save corrections and accept."""
    submission = operations.get_submission(submission_id)
    person = submission.person
    form = people_forms.PersonForm(obj=person)
    if request.method == "GET":
        _fill(form, person)
    elif form.validate_on_submit() and _accepted(form, submission):
        return redirect(url_for("intake.queue"))
    return _review_page(submission, form), 422 if form.errors else 200


@bp.post("/review/<int:submission_id>/accept")
@requires("review.manage")
def accept(submission_id: int):
    """Accept a submission as it stands."""
    operations.accept(operations.get_submission(submission_id), current_user)
    flash(_("The entry was accepted."), "success")
    return redirect(url_for("intake.queue"))


@bp.post("/review/<int:submission_id>/reject")
@requires("review.manage")
def reject(submission_id: int):
    """Reject a submission with a reason its author can read."""
    submission = operations.get_submission(submission_id)
    form = forms.RejectForm()
    if not form.validate_on_submit():
        people_form = people_forms.PersonForm(obj=submission.person, formdata=None)
        _fill(people_form, submission.person)
        return _review_page(submission, people_form, form), 422
    operations.reject(submission, current_user, form.reason.data,
                      tell_reason=form.tell_reason.data)
    flash(_("The entry was rejected."), "success")
    return redirect(url_for("intake.queue"))


@bp.post("/review/accept")
@requires("review.manage")
def accept_selected():
    """Accept every submission ticked in the queue."""
    ids = request.form.getlist("submission", type=int)
    accepted = operations.accept_many(ids, current_user)
    flash(_("Entries accepted: %(count)s.", count=accepted), "success")
    return redirect(url_for("intake.queue"))


@bp.post("/review/batches/<int:batch_id>/accept")
@requires("review.manage")
def accept_batch(batch_id: int):
    """Accept every pending row of an import batch."""
    accepted = operations.accept_batch(batch_id, current_user)
    flash(_("Entries accepted: %(count)s.", count=accepted), "success")
    return redirect(url_for("intake.queue"))


def _accepted(form, submission) -> bool:
    try:
        operations.accept_with_changes(submission, people_forms.form_data(form), current_user)
    except BadInput as error:
        target = getattr(form, error.field or "", None)
        if target is None:
            raise
        target.errors.append(error.message)
        return False
    flash(_("The entry was accepted."), "success")
    return True


def _fill(form, person) -> None:
    consents = people.active_consents(person)
    people_forms.fill_form(form, person, set(consents))
    channels = [consent.channel for consent in consents.values()]
    form.consent_channel.data = channels[0] if channels else None
    if person.passport_number or person.national_id:
        wants_write()
        people.reveal_identity(person, current_user)  # the form shows them


def _review_page(submission, form, reject_form=None) -> str:
    person = submission.person
    return render_template(
        "intake/review_item.html", submission=submission, person=person, form=form,
        reject_form=reject_form or forms.RejectForm(formdata=None),
        consents=people.active_consents(person), matches=operations.matches_for(person))


def _filters_from(args) -> operations.QueueFilters:
    names = {source.name for source in operations.queue_sources()}
    age = args.get("age", "")
    return operations.QueueFilters(
        kind=args.get("kind") if args.get("kind") in names else None,
        unit=(args.get("unit") or "")[:10] or None,
        country=(args.get("country") or "")[:2].upper() or None,
        min_days=int(age) if age in forms.AGES and age else None,
        batch_id=args.get("batch", type=int))


def _filter_choices() -> dict:
    from registry.places import operations as places

    return {"unit_choices": places.unit_choices(),
            "country_choices": places.country_choices(str(get_locale())),
            "age_labels": forms.AGES}


@bp.app_context_processor
def _review_count() -> dict:
    """Give the navigation bar the number of items waiting for review."""
    return {"review_pending_count": _pending_total}


def _pending_total() -> int:
    if not current_user.is_authenticated or not current_user.can("review.manage"):
        return 0
    if "review_pending" not in g:
        g.review_pending = sum(operations.queue_counts().values())
    return g.review_pending
