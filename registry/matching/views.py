"""Pages of the duplicate queue: pairs side by side, merge, undo, batch scans."""
from flask import (Blueprint, abort, flash, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from registry.accounts.access import requires
from registry.core.errors import BadInput
from registry.extensions import db
from registry.matching import forms, merging
from registry.matching import operations as matching
from registry.matching.models import (BANDS, OPEN, RUN_QUEUED, RUN_RUNNING, DedupeRun,
                                      MatchPair, Merge)
from registry.people import forms as people_forms
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import display_phone

bp = Blueprint("matching", __name__, url_prefix="/duplicates")
PER_PAGE = 50
MERGES_PER_PAGE = 50
NEXT_PAIR_PAGES = 4  # pages of the queue looked through for the next open pair
RUNNING = (RUN_QUEUED, RUN_RUNNING)


@bp.get("/")
@requires("duplicates.manage")
def index():
    """List the pairs waiting for a decision, best score first, with the latest scan."""
    band = request.args.get("band") if request.args.get("band") in BANDS else None
    page = max(request.args.get("page", 1, type=int), 1)
    pairs, total = matching.open_pairs(matching.PairFilters(band=band), page, PER_PAGE)
    return render_template(
        "matching/index.html", pairs=pairs, total=total, page=page, per_page=PER_PAGE,
        band=band, counts=matching.pair_counts(), run=matching.latest_run(),
        **_labels())


@bp.post("/runs")
@requires("duplicates.manage")
def start_run():
    """Start a scan of every record for duplicates, in the background."""
    run = matching.queue_run(current_user)
    flash(_("The scan for duplicates has started."), "info")
    return redirect(url_for("matching.run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@requires("duplicates.manage")
def run(run_id: int):
    """Show a scan and its progress bar."""
    return render_template("matching/run.html", run=_get(DedupeRun, run_id),
                           running=RUNNING, **_labels())


@bp.get("/runs/<int:run_id>/progress")
@requires("duplicates.manage")
def run_progress(run_id: int):
    """Return the progress bar of a scan; reload the page once it is over."""
    scan = _get(DedupeRun, run_id)
    response = make_response(render_template("matching/_progress.html", run=scan,
                                             running=RUNNING, **_labels()))
    if scan.state not in RUNNING:
        response.headers["HX-Refresh"] = "true"
    return response


@bp.get("/pairs/<int:pair_id>")
@requires("duplicates.manage")
def pair(pair_id: int):
    """Show the two records of a pair side by side, with why they were paired."""
    found = _get(MatchPair, pair_id)
    records = [found.person_a, found.person_b]
    group = merging.group_of(found) if found.state in merging.UNDECIDED else []
    return render_template(
        "matching/pair.html", pair=found, records=records, rows=_rows(records),
        group=group if len(group) > 2 else [], is_open=_is_open(found), **_labels())


@bp.get("/pairs/<int:pair_id>/group")
@requires("duplicates.manage")
def group(pair_id: int):
    """Show every record of the group a pair belongs to, side by side."""
    found = _get(MatchPair, pair_id)
    records = _records_or_back(merging.group_of(found), found)
    if isinstance(records, str):
        return redirect(records)
    return render_template("matching/group.html", pair=found, records=records,
                           rows=_rows(records), **_labels())


@bp.post("/pairs/<int:pair_id>/not-same")
@requires("duplicates.manage")
def not_same(pair_id: int):
    """Remember that the two records are different people, then show the next pair."""
    found = _get(MatchPair, pair_id)
    try:
        merging.mark_not_same(found, current_user)
    except BadInput as error:
        flash(error.message, "error")
        return redirect(url_for("matching.pair", pair_id=found.id))
    flash(_("Noted: these are two different people. The pair will not be proposed "
            "again."), "success")
    return _to_next(found)


@bp.post("/pairs/<int:pair_id>/skip")
@requires("duplicates.manage")
def skip(pair_id: int):
    """Put a pair off for later and show the next one."""
    found = _get(MatchPair, pair_id)
    merging.put_off(found, current_user)
    return _to_next(found)


@bp.route("/merge", methods=["GET", "POST"])
@requires("duplicates.manage")
def merge():
    """Show, field by field, which values survive a merge; merge when confirmed."""
    ids = request.args.getlist("people", type=int)
    back = _back_url()
    try:
        records = merging.records_to_merge(ids)
    except BadInput as error:
        flash(error.message, "error")
        return redirect(back)
    survivor = merging.default_survivor(records)
    form = forms.merge_form(records, merging.default_choices(records), survivor.id)
    if form.validate_on_submit():
        done = _merged(form, records)
        if done is not None:
            return redirect(url_for("matching.merge_done", merge_id=done.id))
    return render_template(
        "matching/merge.html", records=records, form=form, back=back,
        rows=_rows(records), fields=merging.FIELD_COLUMNS, **_labels()), \
        422 if form.errors else 200


@bp.get("/merges")
@requires("duplicates.manage")
def merges():
    """List the merges done, newest first, with those that can be undone."""
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(Merge).order_by(Merge.id.desc())
    found = db.session.scalars(query.limit(MERGES_PER_PAGE + 1)
                               .offset((page - 1) * MERGES_PER_PAGE)).all()
    return render_template("matching/merges.html", merges=found[:MERGES_PER_PAGE],
                           has_next=len(found) > MERGES_PER_PAGE, page=page,
                           names=_names_of(found))


@bp.get("/merges/<int:merge_id>")
@requires("duplicates.manage")
def merge_done(merge_id: int):
    """Show the record kept by a merge, with the button that undoes it."""
    done = _get(Merge, merge_id)
    survivor = done.survivor
    return render_template(
        "matching/merged.html", merge=done, person=survivor,
        consents=people.active_consents(survivor), names=_names_of([done]), **_labels())


@bp.post("/merges/<int:merge_id>/undo")
@requires("duplicates.manage")
def undo(merge_id: int):
    """Undo a merge: every record back as it was, the survivor's later edits kept."""
    done = _get(Merge, merge_id)
    try:
        merging.undo_merge(done, current_user)
    except BadInput as error:
        flash(error.message, "error")
        return redirect(url_for("matching.merge_done", merge_id=done.id))
    flash(_("The merge was undone: the records are separate again."), "success")
    return redirect(url_for("matching.merges"))


@bp.app_context_processor
def _navigation() -> dict:
    """Give the navigation bar the number of pairs waiting, counted only when shown."""
    return {"duplicates_open_count": lambda: matching.pair_counts()["open"]}


def _merged(form: forms.MergeForm, records: list[Person]) -> Merge | None:
    survivor = next((p for p in records if str(p.id) == form.survivor.data), None)
    if survivor is None:
        form.survivor.errors.append(_("Choose the record to keep."))
        return None
    try:
        done = merging.merge_people(records, survivor, form.chosen(), current_user,
                                    form.seen_versions())
    except BadInput as error:
        form.form_errors.append(error.message)
        return None
    flash(_("The records were merged."), "success")
    return done


def _to_next(current: MatchPair):
    following = _next_pair(current)
    if following is None:
        flash(_("No other pair is waiting."), "info")
        return redirect(url_for("matching.index"))
    return redirect(url_for("matching.pair", pair_id=following.id))


def _next_pair(current: MatchPair) -> MatchPair | None:
    put_off = None
    for page in range(1, NEXT_PAIR_PAGES + 1):
        pairs, total = matching.open_pairs(matching.PairFilters(), page, PER_PAGE)
        for candidate in pairs:
            if candidate.id == current.id:
                continue
            if candidate.state == OPEN:
                return candidate
            put_off = put_off or candidate
        if page * PER_PAGE >= total:
            break
    return put_off


def _records_or_back(ids: list[int], found: MatchPair):
    try:
        return merging.records_to_merge(ids)
    except BadInput as error:
        flash(error.message, "error")
        return url_for("matching.pair", pair_id=found.id)


def _is_open(found: MatchPair) -> bool:
    return found.state in merging.UNDECIDED and all(
        matching.is_candidate(p) for p in (found.person_a, found.person_b))


def _rows(records: list[Person]) -> list[dict]:
    """Return the side-by-side rows: label, value per record, whether they differ."""
    rows = [_row(name, forms.FIELD_LABELS[name], [forms.display(p, name) for p in records])
            for name in merging.FIELD_COLUMNS]
    for name, label in forms.LIST_LABELS.items():
        rows.append(_row(name, label, [_listed(p, name) for p in records]))
    return rows


def _row(name: str, label, values: list) -> dict:
    return {"name": name, "label": label, "values": values,
            "differs": len({_comparable(v) for v in values}) > 1}


def _comparable(value) -> tuple:
    return tuple(value) if isinstance(value, list) else (value,)


def _listed(person: Person, name: str):
    if name == "phones":
        return [display_phone(phone.number) for phone in person.phones]
    if name == "emails":
        return [email.address for email in person.emails]
    if name == "associations":
        return sorted(m.association.name for m in person.memberships if m.association)
    if name == "consents":
        return [str(people_forms.CONSENT_LABELS.get(purpose, purpose))
                for purpose in sorted(people.active_consents(person))]
    if name == "status":
        return str(people_forms.STATUS_LABELS.get(person.status, person.status))
    if name == "source":
        return str(people_forms.SOURCE_LABELS.get(person.source, person.source))
    if name == "verified":
        return _("Yes") if person.is_verified else _("No")
    return person.notes or ""


def _names_of(found: list[Merge]) -> dict[int, str]:
    ids = {pid for done in found for pid in [done.survivor_id, *done.absorbed_ids]}
    rows = db.session.execute(select(Person.id, Person.full_name)
                              .where(Person.id.in_(sorted(ids)))).all()
    return dict(rows)


def _back_url() -> str:
    pair_id = request.args.get("pair", type=int)
    if pair_id:
        return url_for("matching.pair", pair_id=pair_id)
    return url_for("matching.index")


def _get(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def _labels() -> dict:
    return {"band_labels": forms.BAND_LABELS, "state_labels": forms.STATE_LABELS,
            "run_state_labels": forms.RUN_STATE_LABELS, "stage_labels": forms.STAGE_LABELS,
            "comparison_labels": forms.COMPARISON_LABELS,
            "level_labels": forms.LEVEL_LABELS}
