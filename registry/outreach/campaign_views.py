"""Pages of the campaigns: draft, preview, approval by a second officer, sending.

The routes sit on the outreach blueprint; registry.outreach.init_app imports this
module before it registers the blueprint. A refused action (BadInput) changes
nothing: the session is rolled back and the message shown on the campaign's page.
"""
import logging

from flask import (Response, abort, current_app, flash, make_response, redirect,
                   render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts import operations as accounts
from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.core.setup import wants_write
from registry.extensions import db
from registry.outreach import campaign_forms as forms
from registry.outreach import campaigns, checking, rendering
from registry.outreach.forms import ActionForm
from registry.outreach.models import SENDING
from registry.outreach.views import bp
from registry.people import operations as people

log = logging.getLogger(__name__)
SAMPLE = "sample"
MAX_RECORD_DIGITS = 9  # a longer record number is beyond any integer column: nobody


# Lists and forms ------------------------------------------------------------------

@bp.get("/campaigns", endpoint="campaigns")
@requires("outreach.manage")
def campaign_list():
    """List the campaigns with their state, audience, counts, author and approver."""
    every = campaigns.all_campaigns()
    return render_template(
        "outreach/campaigns.html", campaigns=every,
        counts=checking.counts_by_campaign([campaign.id for campaign in every]),
        names=_staff_names(every), state_labels=forms.STATE_LABELS,
        state_badges=forms.STATE_BADGES)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@requires("outreach.manage")
def new_campaign():
    """Show the form for a new campaign, and save it as a draft."""
    form = forms.form_for(None)
    if form.validate_on_submit():
        campaign = _saved(form, None)
        if campaign is not None:
            return redirect(url_for("outreach.campaign", campaign_id=campaign.id))
    return _form_page(form), 422 if form.is_submitted() else 200


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@requires("outreach.manage")
def edit_campaign(campaign_id: int):
    """Show a draft's form, and save its changes."""
    campaign = campaigns.get_campaign(campaign_id)
    if campaign.state not in campaigns.EDITABLE:
        flash(_("Only a draft or a campaign awaiting approval can be changed."), "warning")
        return redirect(url_for("outreach.campaign", campaign_id=campaign.id))

    form = forms.form_for(campaign)
    if form.validate_on_submit() and _saved(form, campaign) is not None:
        return redirect(url_for("outreach.campaign", campaign_id=campaign.id))
    return _form_page(form, campaign), 422 if form.is_submitted() else 200


@bp.get("/campaigns/occasion-date")
@requires("outreach.manage")
def campaign_occasion_date():
    """Answer the occasion date field filled with the chosen occasion's next date."""
    form = forms.CampaignForm(formdata=None, meta={"csrf": False})
    chosen = request.args.get("occasion_id", "")
    if chosen.isdigit():
        form.occasion_date.data = forms.next_occasion_date(chosen)
    return render_template("outreach/_campaign_occasion_date.html", form=form)


def _saved(form: forms.CampaignForm, campaign):
    """Add or change the campaign; a refusal goes beside its field and saves nothing."""
    try:
        if campaign is None:
            campaign = campaigns.create_campaign(form.fields(), form.messages(),
                                                 current_user)
            flash(_("The campaign “%(name)s” was saved as a draft.", name=campaign.name),
                  "success")
        elif campaigns.update_campaign(campaign, form.fields(), form.messages(),
                                       current_user):
            flash(_("The campaign “%(name)s” was saved.", name=campaign.name), "success")
        else:
            flash(_("Nothing was changed."), "info")
    except BadInput as error:
        db.session.rollback()
        form.show_error(error)
        return None
    return campaign


def _form_page(form: forms.CampaignForm, campaign=None):
    return render_template("outreach/campaign_form.html", form=form, campaign=campaign,
                           placeholders=rendering.PLACEHOLDERS, filters=rendering.FILTERS,
                           morning_hour=current_app.config["OUTREACH_LOCAL_MORNING_HOUR"])


# The campaign's page ---------------------------------------------------------------

@bp.get("/campaigns/<int:campaign_id>", endpoint="campaign")
@requires("outreach.manage")
def campaign_page(campaign_id: int):
    """Show the campaign: its state, who drafted and approved it, a preview, actions."""
    campaign = campaigns.get_campaign(campaign_id)
    # A record number typed in stands for anyone, beyond the first people offered.
    chosen = request.args.get("record", "").strip() or request.args.get("person", SAMPLE)
    return render_template("outreach/campaign.html", **_page_values(campaign),
                           **_preview_values(campaign, chosen))


@bp.get("/campaigns/<int:campaign_id>/progress")
@requires("outreach.manage")
def campaign_progress(campaign_id: int):
    """Answer the progress fragment; the page reloads once sending has stopped."""
    campaign = campaigns.get_campaign(campaign_id)
    response = make_response(render_template("outreach/_campaign_progress.html",
                                             campaign=campaign,
                                             **_progress_values(campaign)))
    if request.headers.get("HX-Request") and campaign.state != SENDING:
        response.headers["HX-Refresh"] = "true"  # the buttons change with the state
    return response


def _page_values(campaign) -> dict:
    return {"campaign": campaign, **_progress_values(campaign),
            "audience_size": campaigns.audience_size(campaign),
            "names": _staff_names([campaign]),
            "may_approve": campaigns.can_approve(campaign, current_user),
            "editable": campaign.state in campaigns.EDITABLE,
            "cancellable": campaign.state in campaigns.CANCELLABLE,
            "action_form": ActionForm(), "return_form": forms.ReturnForm()}


def _preview_values(campaign, chosen: str) -> dict:
    return {"preview_people": checking.preview_people(campaign), "chosen": chosen,
            "previews": _previews(campaign, chosen), "sample": rendering.SAMPLE_RECIPIENT,
            "language_names": forms.LANGUAGE_NAMES}


def _progress_values(campaign) -> dict:
    return {"progress": checking.progress(campaign), "state_labels": forms.STATE_LABELS,
            "state_badges": forms.STATE_BADGES, "delivery_labels": forms.DELIVERY_LABELS}


def _previews(campaign, chosen: str) -> list:
    if not campaign.messages:
        return []
    if chosen == SAMPLE or not chosen.isdigit() or len(chosen) > MAX_RECORD_DIGITS:
        return checking.sample_previews(campaign)
    person = people.get_visible(int(chosen), current_user)
    return [checking.person_preview(campaign, person)]


def _staff_names(every) -> dict[int, str]:
    ids = {campaign.created_by_id for campaign in every}
    ids |= {campaign.approved_by_id for campaign in every if campaign.approved_by_id}
    return {user_id: accounts.display_name(user_id) for user_id in ids}


# Actions ----------------------------------------------------------------------------

@bp.post("/campaigns/<int:campaign_id>/submit")
@requires("outreach.manage")
def submit_campaign(campaign_id: int):
    """Ask another officer to approve the draft."""
    return _act(campaign_id, campaigns.submit,
                _("The campaign was submitted: another officer must now approve it."))


@bp.post("/campaigns/<int:campaign_id>/return")
@requires("outreach.manage")
def return_campaign(campaign_id: int):
    """Send an awaiting campaign back to its author, with the reason."""
    form = forms.ReturnForm()
    if not form.validate_on_submit():
        campaign = campaigns.get_campaign(campaign_id)
        flash(" ".join(str(error) for error in form.reason.errors)
              or _("The form could not be read. Try again."), "danger")
        return redirect(url_for("outreach.campaign", campaign_id=campaign.id))
    reason = form.reason.data or ""
    return _act(campaign_id, lambda campaign, actor: campaigns.return_to_draft(
        campaign, actor, reason), _("The campaign went back to draft."))


@bp.post("/campaigns/<int:campaign_id>/approve")
@requires("outreach.manage")
def approve_campaign(campaign_id: int):
    """Approve the campaign and, unless it waits for its time, send it."""
    return _act(campaign_id, campaigns.approve, _("The campaign was approved."),
                for_update=True)


@bp.post("/campaigns/<int:campaign_id>/pause")
@requires("outreach.manage")
def pause_campaign(campaign_id: int):
    """Stop sending until resumed."""
    return _act(campaign_id, campaigns.pause, _("Sending is paused."), for_update=True)


@bp.post("/campaigns/<int:campaign_id>/resume")
@requires("outreach.manage")
def resume_campaign(campaign_id: int):
    """Go on sending a paused campaign."""
    return _act(campaign_id, campaigns.resume, _("Sending goes on."), for_update=True)


@bp.post("/campaigns/<int:campaign_id>/cancel")
@requires("outreach.manage")
def cancel_campaign(campaign_id: int):
    """Cancel the campaign: nobody not yet sent will be."""
    return _act(campaign_id, campaigns.cancel,
                _("The campaign was cancelled; nothing more will be sent."),
                for_update=True)


@bp.post("/campaigns/<int:campaign_id>/test")
@requires("outreach.manage")
def test_send(campaign_id: int):
    """Send the signed-in officer the message as the sample recipient would get it."""
    return _act(campaign_id, checking.send_test,
                _("A test was sent to %(address)s.", address=current_user.email))


@bp.get("/campaigns/<int:campaign_id>/failures.csv")
@requires("outreach.manage")
def campaign_failures(campaign_id: int):
    """Download the campaign's failed messages as CSV."""
    wants_write()  # the export is audited
    campaign = campaigns.get_campaign(campaign_id)
    content, _rows = checking.failures_csv(campaign, current_user)
    response = Response(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="campaign-{campaign.id}-failures.csv"')
    return response


def _act(campaign_id: int, action, done: str, for_update: bool = False):
    """Run action(campaign, current_user) and come back to the campaign's page."""
    campaign = campaigns.get_campaign(campaign_id, for_update=for_update)
    if not ActionForm().validate_on_submit():
        abort(400)

    try:
        action(campaign, current_user)
    except BadInput as error:
        db.session.rollback()
        log.info("User %s was refused an action on campaign %s: %s", current_user.id,
                 campaign_id, error.message)
        flash(error.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("outreach.campaign", campaign_id=campaign_id))

