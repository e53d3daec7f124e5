"""Pages for people records: list and search, record, forms, history."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.core.setup import wants_write
from registry.people import forms, operations, search, signals
from registry.people.models import PURPOSES, RESIDENCE_STATUSES, STATUSES
from registry.people.normalise import BirthDate, display_phone

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@requires("people.read")
def index():
    """List people matching the search box and filters, a page at a time."""
    criteria = _criteria_from(request.args)
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = 50
    people, total, capped = operations.find_people(criteria, current_user, page, per_page)
    template = "people/_results.html" if request.headers.get("HX-Request") else \
        "people/index.html"
    return render_template(template, people=people, total=total, capped=capped, page=page,
                           per_page=per_page, criteria=criteria, **_filter_choices())


@bp.route("/new", methods=["GET", "POST"])
@requires("people.write")
def create():
    """Show the form for a new person and save it when valid."""
    form = forms.PersonForm(may_set_status=current_user.can("people.set_status"))
    matches = []
    if form.validate_on_submit():
        matches = _possible_duplicates(form, None)
        if not matches and _saved(form, None):
            return redirect(url_for("people.show", person_id=form.saved_id))
    return render_template("people/form.html", form=form, person=None,
                           matches=matches), _status(form)


@bp.get("/<int:person_id>")
@requires("people.read")
def show(person_id: int):
    """Show one person's record."""
    person = operations.get_visible(person_id, current_user)
    return render_template(
        "people/show.html", person=person, consents=operations.active_consents(person),
        police_notes=operations.police_notes(person, current_user),
        status_form=forms.StatusForm(status=person.status),
        note_form=forms.PoliceNoteForm(is_verified=person.is_verified),
    )


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@requires("people.write")
def edit(person_id: int):
    """Show the form for an existing person and save the changes when valid."""
    person = operations.get_visible(person_id, current_user)
    if person.is_personal_data_erased:
        abort(410)
    form = forms.PersonForm(obj=person, may_set_status=current_user.can("people.set_status"))
    matches = []
    if request.method == "GET":
        forms.fill_form(form, person, set(operations.active_consents(person)))
        if person.passport_number or person.national_id:
            wants_write()
            operations.reveal_identity(person, current_user)  # the form shows them
    elif form.validate_on_submit():
        matches = _possible_duplicates(form, person)
        if not matches and _saved(form, person):
            return redirect(url_for("people.show", person_id=person.id))
    return render_template("people/form.html", form=form, person=person,
                           matches=matches), _status(form)


@bp.get("/<int:person_id>/history")
@requires("people.read")
def history(person_id: int):
    """Show every version of a record and who changed what."""
    person = operations.get_visible(person_id, current_user)
    return render_template("people/history.html", person=person,
                           versions=operations.history(person))


@bp.get("/<int:person_id>/identity")
@requires("people.identity")
def identity(person_id: int):
    """Show the identity documents of a person; the view is audited."""
    wants_write()
    person = operations.get_visible(person_id, current_user)
    documents = operations.reveal_identity(person, current_user)
    return render_template("people/_identity.html", person=person, documents=documents)


@bp.post("/<int:person_id>/status")
@requires("people.set_status")
def change_status(person_id: int):
    """Change the lifecycle status of a record."""
    person = operations.get_visible(person_id, current_user)
    form = forms.StatusForm()
    if not form.validate_on_submit():
        abort(400)
    operations.set_status(person, form.status.data, current_user, form.reason.data or "")
    flash(_("The status was changed."), "success")
    return redirect(url_for("people.show", person_id=person.id))


@bp.post("/<int:person_id>/police-notes")
@requires("people.verify")
def add_police_note(person_id: int):
    """Add a police verification note to a record."""
    person = operations.get_visible(person_id, current_user)
    form = forms.PoliceNoteForm()
    if not form.validate_on_submit():
        flash(_("Write the note before saving it."), "error")
    else:
        operations.add_police_note(person, form.body.data, form.is_verified.data, current_user)
        flash(_("The note was added."), "success")
    return redirect(url_for("people.show", person_id=person.id))


def _possible_duplicates(form: forms.PersonForm, person) -> list:
    """Return the existing records to show before saving, unless the user confirmed."""
    if _confirmed_different():
        return []
    data = forms.form_data(form)
    if not operations.is_hometown_in_scope(data, current_user):
        return []  # saving refuses it with the reason, before any duplicate is shown
    answers = signals.checking_entry.send(data, user=current_user, person=person)
    return [match for _receiver, found in answers for match in found or ()]


def _confirmed_different() -> bool:
    # Ticked under the list of possible duplicates, then the form is sent again.
    return request.form.get("confirm_different") == "yes"


def _saved(form: forms.PersonForm, person) -> bool:
    data = forms.form_data(form)
    try:
        if person is None:
            source = "officer" if current_user.can("people.set_status") else "district"
            saved = operations.create_person(data, current_user, source)
            form.saved_id = saved.id
            flash(_("The person was saved."), "success")
        elif operations.update_person(person, data, current_user):
            saved = person
            flash(_("The changes were saved."), "success")
        else:
            saved = None
            flash(_("Nothing was changed."), "info")
    except BadInput as error:
        getattr(form, error.field or "full_name").errors.append(error.message)
        return False
    if saved is not None and _confirmed_different():
        signals.entry_confirmed.send(saved, user=current_user)
    return True


def _status(form) -> int:
    return 422 if form.errors else 200


def _criteria_from(args) -> search.Criteria:
    # District officials mostly follow their own submissions, so they see every status.
    default = "any" if not current_user.can("people.set_status") else "active"
    status = args.get("status", default)
    return search.Criteria(
        q=args.get("q", "")[:120],
        country=args.get("country") or None,
        hometown=args.get("hometown") or None,
        status=status if status in STATUSES else None,
        purpose=args.get("purpose") if args.get("purpose") in PURPOSES else None,
        residence_status=args.get("residence_status")
        if args.get("residence_status") in RESIDENCE_STATUSES else None,
        sort=args.get("sort") if args.get("sort") in search.SORTS else "name",
    )


def _filter_choices() -> dict:
    from flask_babel import get_locale

    from registry.places import operations as places

    return {
        "country_choices": places.country_choices(str(get_locale())),
        "unit_choices": places.unit_choices(),
        "status_labels": forms.STATUS_LABELS,
        "purpose_labels": forms.PURPOSE_LABELS,
        "residence_labels": forms.RESIDENCE_LABELS,
    }


@bp.app_context_processor
def _labels() -> dict:
    """Give templates the translated labels of the codes a record stores."""
    return {
        "status_label": lambda code: forms.STATUS_LABELS.get(code, code or "—"),
        "gender_label": lambda code: forms.GENDER_LABELS.get(code or "", code),
        "residence_label": lambda code: forms.RESIDENCE_LABELS.get(code, "—"),
        "purpose_label": lambda code: forms.PURPOSE_LABELS.get(code, "—"),
        "consent_label": lambda code: forms.CONSENT_LABELS.get(code, code),
        "source_label": lambda code: forms.SOURCE_LABELS.get(code, code),
        "action_label": lambda code: forms.ACTION_LABELS.get(code, code),
        "field_label": forms.field_label,
        "birth_display": lambda person: BirthDate(
            person.birth_year, person.birth_month, person.birth_day).display(),
        "phone_display": display_phone,
        "user_label": _user_label,
        "history_value": _history_value,
    }


def _history_value(name: str, value) -> str:
    # Identity documents are shown only through the audited "Show" button.
    if value is None or value == [] or value == "":
        return "—"
    if name in operations.IDENTITY_FIELDS:
        return "•••"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _user_label(user_id: int | None) -> str:
    from registry.accounts.operations import display_name

    return display_name(user_id) if user_id else _("the system")
