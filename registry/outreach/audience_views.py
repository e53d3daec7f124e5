"""Pages of the audiences: the saved filters of the people a campaign writes to.

The routes sit on the outreach blueprint; registry.outreach.init_app imports this
module before it registers the blueprint.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.outreach import audience_forms as forms
from registry.outreach import audiences
from registry.outreach.views import bp


@bp.get("/audiences", endpoint="audiences")
@requires("outreach.manage")
def audience_list():
    """List the audiences with their filters in words and how many people each reaches."""
    # TODO: one count query per audience (on SQLite, 76 ms for 50,000 people without
    # filters); with a million people and many audiences, load each count with htmx.
    every = audiences.all_audiences()
    return render_template(
        "outreach/audiences.html", audiences=every,
        summaries={audience.id: audiences.describe(audience.filters) for audience in every},
        counts={audience.id: audiences.count(audience.filters) for audience in every},
        always_excluded=forms.ALWAYS_EXCLUDED)


@bp.route("/audiences/new", methods=["GET", "POST"])
@requires("outreach.manage")
def create_audience():
    """Show the form for a new audience, and add it."""
    form = forms.form_for(None)
    if form.validate_on_submit() and _saved(form, None):
        return redirect(url_for("outreach.audiences"))
    return _form_page(form), 422 if form.is_submitted() else 200


@bp.route("/audiences/<int:audience_id>", methods=["GET", "POST"])
@requires("outreach.manage")
def edit_audience(audience_id: int):
    """Show an audience's form, and save its changes."""
    audience = audiences.get_audience(audience_id)
    form = forms.form_for(audience)
    if form.validate_on_submit() and _saved(form, audience):
        return redirect(url_for("outreach.audiences"))
    return _form_page(form, audience), 422 if form.is_submitted() else 200


@bp.get("/audiences/count")
@requires("outreach.manage")
def audience_count():
    """Answer how many people the filters in the query string reach, as a fragment."""
    form = forms.AudienceForm(formdata=request.args, meta={"csrf": False})
    form.validate()
    return render_template("outreach/_audience_count.html", **_reach(form))


def _saved(form: forms.AudienceForm, audience) -> bool:
    """Add or change the audience; a refusal goes beside its field and saves nothing."""
    name, filters = form.name.data, form.filters()
    try:
        if audience is None:
            audience = audiences.save_audience(name, filters, current_user)
            flash(_("The audience “%(name)s” was added.", name=audience.name), "success")
        elif audiences.update_audience(audience, name, filters, current_user):
            flash(_("The audience “%(name)s” was saved.", name=audience.name), "success")
        else:
            flash(_("Nothing was changed."), "info")
    except BadInput as error:
        forms.show_error(form, error)
        return False
    return True


def _reach(form: forms.AudienceForm) -> dict:
    """Return the count of the form's filters, or why there is none."""
    reach = {"count": None, "count_error": None, "always_excluded": forms.ALWAYS_EXCLUDED}
    filter_errors = [error for name in audiences.EMPTY_FILTERS
                     for error in getattr(form, name).errors]
    if filter_errors:
        reach["count_error"] = " ".join(str(error) for error in filter_errors)
        return reach

    try:
        reach["count"] = audiences.count(audiences.clean_filters(form.filters()))
    except BadInput as error:
        reach["count_error"] = error.message
    return reach


def _form_page(form: forms.AudienceForm, audience=None):
    return render_template("outreach/audience_form.html", form=form, audience=audience,
                           **_reach(form))
