"""The annual report counts every record as it stood at the end of the cut-off day."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from registry.accounts.models import User
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.matching import merging
from registry.matching.models import Merge
from registry.people import operations as people
from registry.people.models import (ACTIVE, ARCHIVED, RETURNED, SUBMITTED, Person,
                                    PersonVersion)
from registry.people.normalise import parse_birth_date
from registry.reports import operations
from registry.reports.models import AnnualReport
from registry.rights import operations as rights
from tests.factories import create_person

# Everything a test records before calling before_the_cut_off() happened three days
# ago; what it does afterwards happens now, after the cut-off two days ago.
EARLIER = timedelta(days=3)


@pytest.fixture
def officer(app_ctx, make_user):
    return db.session.get(User, make_user("officer").id)


def cut_off():
    return vietnam_today() - timedelta(days=2)


def report(officer) -> dict:
    year = (vietnam_today() - EARLIER).year
    figures = operations.create_annual_report(year, cut_off(), officer).figures
    db.session.commit()
    return figures


def cells(figures: dict, name: str) -> dict[str, int]:
    return dict(map(tuple, figures["tables"][name]))


def before_the_cut_off() -> None:
    """Move everything recorded so far back by three days, to before the cut-off."""
    _move_back(Person.__table__, "created_at", "updated_at")
    _move_back(PersonVersion.__table__, "changed_at")
    _move_back(Merge.__table__, "merged_at")
    db.session.commit()


def _move_back(table, *names: str) -> None:
    # Through the table, not the ORM: the record's version number must not move.
    columns = [table.c[name] for name in names]
    for row in db.session.execute(select(table.c.id, *columns)).mappings().all():
        earlier = {name: row[name] - EARLIER for name in names if row[name] is not None}
        db.session.execute(update(table).where(table.c.id == row["id"]).values(earlier))


def edit(person: Person, officer, **changes) -> None:
    """Save person's record as the edit form would, with changes."""
    data = {"full_name": person.full_name, "birth": parse_birth_date("12/05/1991"),
            "hometown": (person.hometown_code, None, person.hometown_given),
            "country_code": person.country_code, "phones": [], "emails": [],
            "associations": [], **changes}
    people.update_person(person, data, officer)
    db.session.commit()


def test_a_status_changed_after_the_cut_off_counts_as_it_was_that_day(officer):
    archived_later = create_person(officer, full_name="Lê Văn Một")
    returned_later = create_person(officer, full_name="Lê Văn Hai")
    returned_before = create_person(officer, full_name="Lê Văn Ba")
    people.set_status(returned_before, RETURNED, officer)
    db.session.commit()
    before_the_cut_off()

    people.set_status(archived_later, ARCHIVED, officer)
    people.set_status(returned_later, RETURNED, officer)
    db.session.commit()
    figures = report(officer)

    assert cells(figures, "status") == {"active": 2, "returned": 1}
    assert figures["totals"]["people"] == 2


def test_fields_changed_after_the_cut_off_count_as_they_were(officer):
    moved = create_person(officer, full_name="Lê Văn Một")
    edit(moved, officer, purpose="labour", occupation="Công nhân")
    before_the_cut_off()

    edit(moved, officer, country_code="KR", purpose="study", occupation="Sinh viên")
    figures = report(officer)

    assert cells(figures, "country") == {"JP": 1}
    assert cells(figures, "purpose") == {"labour": 1}
    assert cells(figures, "occupation") == {"workers": 1}
    assert figures["totals"]["updated"] == 1


def test_a_person_entered_after_the_cut_off_is_not_counted(officer):
    create_person(officer, full_name="Lê Văn Một")
    before_the_cut_off()

    create_person(officer, full_name="Người Đến Sau")
    figures = report(officer)

    assert figures["totals"]["people"] == 1
    assert figures["totals"]["registrations"] == 1
    assert sum(cells(figures, "month").values()) == 1


def test_a_record_accepted_after_the_cut_off_was_waiting_then_not_registered(officer):
    waiting = create_person(officer, full_name="Lê Văn Một", status=SUBMITTED)
    before_the_cut_off()

    people.set_status(waiting, ACTIVE, officer)
    db.session.commit()
    figures = report(officer)

    assert cells(figures, "status") == {"submitted": 1}
    assert figures["totals"]["people"] == 0
    assert figures["totals"]["registrations"] == 0


def test_a_person_merged_before_the_cut_off_counts_once_even_if_undone_later(officer):
    kept = create_person(officer, full_name="Lê Văn Một")
    absorbed = create_person(officer, full_name="Lê Văn Một")
    merge = merging.merge_people([kept, absorbed], kept, None, officer)
    db.session.commit()
    before_the_cut_off()

    merging.undo_merge(db.session.get(Merge, merge.id), officer)
    db.session.commit()
    figures = report(officer)

    assert figures["totals"]["people"] == 1
    assert cells(figures, "status") == {"active": 1}
    assert figures["totals"]["merges"] == 1


def test_a_person_merged_after_the_cut_off_still_counts_as_the_two_records_were(officer):
    kept = create_person(officer, full_name="Lê Văn Một")
    absorbed = create_person(officer, full_name="Lê Văn Một")
    before_the_cut_off()

    merging.merge_people([kept, absorbed], kept, None, officer)
    db.session.commit()
    figures = report(officer)

    assert figures["totals"]["people"] == 2
    assert figures["totals"]["merges"] == 0


def test_a_consent_withdrawn_after_the_cut_off_leaves_the_person_counted(officer):
    person = create_person(officer, full_name="Lê Văn Một")
    edit(person, officer, consents=["record", "greetings"])
    before_the_cut_off()

    rights.withdraw_consent(person, "greetings", None)
    db.session.commit()
    figures = report(officer)

    assert figures["totals"]["people"] == 1
    assert cells(figures, "country") == {"JP": 1}


def test_a_record_erased_after_the_cut_off_is_not_counted_for_its_history_is_gone(officer):
    # The erasure deletes the versions that could say how the record stood.
    create_person(officer, full_name="Lê Văn Một")
    erased = create_person(officer, full_name="Lê Văn Hai")
    ticket = rights.ask_for_deletion(erased, "", None)
    db.session.commit()
    before_the_cut_off()

    rights.erase_person(ticket, officer)
    db.session.commit()
    figures = report(officer)

    assert figures["totals"]["people"] == 1


def test_a_report_built_again_for_the_same_cut_off_gives_the_same_figures(officer):
    first = create_person(officer, full_name="Lê Văn Một")
    second = create_person(officer, full_name="Lê Văn Hai")
    edit(second, officer, occupation="Kỹ sư")
    before_the_cut_off()
    figures = report(officer)

    people.set_status(first, RETURNED, officer)
    edit(second, officer, country_code="KR", occupation="Giáo viên")
    merging.merge_people([first, second], second, None, officer)
    create_person(officer, full_name="Người Đến Sau")
    db.session.commit()
    again = report(officer)

    kept = db.session.scalars(select(AnnualReport).order_by(AnnualReport.id)).first()
    assert kept.figures == figures
    assert again["totals"] == figures["totals"]
    assert again["tables"] == figures["tables"]
