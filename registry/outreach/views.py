"""Pages of the outreach domain: the calendar of occasions."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.core.time import vietnam_today
from registry.outreach import forms, operations

bp = Blueprint("outreach", __name__, url_prefix="/outreach")


@bp.get("/occasions")
@requires("outreach.manage")
def occasions():
    """List the occasions with their dates this year and next."""
    year = vietnam_today().year
    every = operations.all_occasions()
    return render_template("outreach/occasions.html", occasions=every, year=year,
                           dates=operations.dates_of(every, year), action_form=forms.ActionForm(),
                           kind_labels=forms.KIND_LABELS)


@bp.route("/occasions/new", methods=["GET", "POST"])
@requires("outreach.manage")
def create():
    """Show the form for a new occasion, and add it."""
    form = forms.OccasionForm()
    if not form.validate_on_submit():
        return _form_page(form), 422 if form.is_submitted() else 200

    occasion = operations.create_occasion(form.fields(), current_user)
    flash(_("The occasion “%(name)s” was added.", name=occasion.name), "success")
    return redirect(url_for("outreach.occasions"))


@bp.route("/occasions/<int:occasion_id>", methods=["GET", "POST"])
@requires("outreach.manage")
def edit(occasion_id: int):
    """Show an occasion's form, and save its changes."""
    occasion = operations.get_occasion(occasion_id)
    form = forms.OccasionForm(obj=occasion)
    if not form.validate_on_submit():
        return _form_page(form, occasion), 422 if form.is_submitted() else 200

    if operations.update_occasion(occasion, form.fields(), current_user):
        flash(_("The occasion “%(name)s” was saved.", name=occasion.name), "success")
    else:
        flash(_("Nothing was changed."), "info")
    return redirect(url_for("outreach.occasions"))


@bp.post("/occasions/<int:occasion_id>/deactivate")
@requires("outreach.manage")
def deactivate(occasion_id: int):
    """Stop showing an occasion on the calendar and in reminders."""
    return _set_active(occasion_id, False)


@bp.post("/occasions/<int:occasion_id>/activate")
@requires("outreach.manage")
def activate(occasion_id: int):
    """Show a deactivated occasion again."""
    return _set_active(occasion_id, True)


def _set_active(occasion_id: int, active: bool):
    occasion = operations.get_occasion(occasion_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)

    operations.set_active(occasion, active, current_user)
    message = (_("The occasion “%(name)s” is active again.", name=occasion.name) if active
               else _("The occasion “%(name)s” was deactivated.", name=occasion.name))
    flash(message, "success")
    return redirect(url_for("outreach.occasions"))


def _form_page(form, occasion=None):
    return render_template("outreach/occasion_form.html", form=form, occasion=occasion)


@bp.app_context_processor
def _helpers() -> dict:
    """Give the home page the coming occasions and the reminders."""
    return {"coming_occasions": operations.coming_occasions,
            "occasion_reminders": operations.reminders}
