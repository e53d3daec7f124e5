"""Audiences: who a saved filter reaches, who it never reaches, and its checks."""
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.errors import BadInput
from registry.core.time import utcnow, vietnam_today
from registry.extensions import db
from registry.outreach import audiences
from registry.outreach.models import Audience
from registry.people import operations as people
from registry.people.models import DECEASED, MERGED, RETURNED, Association, Person
from registry.places import operations as places
from registry.places.models import FormerDistrict, Unit
from tests.factories import BIM_SON, MUONG_LAT

ASSOCIATION_JP = "Hội đồng hương Thanh Hóa tại Nhật Bản"
ASSOCIATION_KR = "Hội người Thanh Hóa tại Hàn Quốc"


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Refusals are checked by their English wording."""
    with force_locale("en"):
        yield


@pytest.fixture
def officer(make_user):
    return db.session.get(User, make_user("officer").id)


@pytest.fixture
def make_person(officer):
    """Return a factory of records that every audience reaches unless told otherwise."""
    counter = iter(range(1, 10_000))

    def factory(*, emails=None, consents=("record", "greetings"), country="JP",
                hometown=BIM_SON, associations=(), birth_year=1990, **fields) -> Person:
        number = next(counter)
        data = {"full_name": f"Lê Thị Mai {number}", "gender": "female", "birth": None,
                "hometown": (hometown, None, None), "country_code": country,
                "city": "Osaka", "phones": [],
                "emails": [f"mai{number}@example.test"] if emails is None else emails,
                "associations": list(associations), "consents": list(consents)}
        person = people.create_person(data, officer, "officer")
        person.birth_year = birth_year
        for name, value in fields.items():
            setattr(person, name, value)
        db.session.flush()
        return person

    return factory


def reached(filters=None) -> set[int]:
    return set(db.session.scalars(audiences.audience_query(filters or {})))


def test_a_plain_record_is_reached(make_person):
    person = make_person()

    assert reached() == {person.id}
    assert audiences.count({}) == 1


@pytest.mark.parametrize("case", ["no_greetings", "withdrawn", "opted_out", "merged",
                                  "deceased", "no_email"])
def test_fixed_exclusions(make_person, case):
    kept = make_person()
    if case == "no_greetings":
        person = make_person(consents=("record",))
    elif case == "withdrawn":
        person = make_person()
        for consent in person.consents:
            if consent.purpose == "greetings":
                consent.withdrawn_at = utcnow()
    elif case == "opted_out":
        person = make_person(is_outreach_opted_out=True)
    elif case == "merged":
        person = make_person(status=MERGED, merged_into_id=kept.id)
    elif case == "deceased":
        person = make_person(status=DECEASED)
    else:
        person = make_person(emails=[])
    db.session.flush()

    everyone = {"statuses": ["active", "archived", "returned", "submitted", MERGED,
                             DECEASED]}
    assert person.id not in reached(everyone)
    assert reached() == {kept.id}


def test_merged_and_deceased_even_when_asked_for(make_person):
    make_person(status=DECEASED)

    assert reached({"statuses": [DECEASED, MERGED]}) == set()
    with pytest.raises(BadInput, match="other than merged or deceased"):
        audiences.clean_filters({"statuses": [DECEASED]})


def test_statuses_default_to_active(make_person):
    active = make_person()
    returned = make_person(status=RETURNED)

    assert reached() == {active.id}
    assert reached({"statuses": [RETURNED]}) == {returned.id}
    assert reached({"statuses": ["active", RETURNED]}) == {active.id, returned.id}


def test_country_filter(make_person):
    japan = make_person(country="JP")
    korea = make_person(country="KR")
    make_person(country="TW")

    assert reached({"countries": ["JP"]}) == {japan.id}
    assert reached({"countries": ["JP", "KR"]}) == {japan.id, korea.id}


def test_unit_filter(make_person):
    bim_son = make_person(hometown=BIM_SON)
    make_person(hometown=MUONG_LAT)

    assert reached({"units": [BIM_SON]}) == {bim_son.id}


def test_former_district_means_its_current_units(make_person):
    district = db.session.scalars(select(FormerDistrict.code).order_by(FormerDistrict.code)
                                  ).first()
    inside = sorted(places.units_in_former_district(district))
    outside = db.session.scalars(select(Unit.code).where(Unit.code.not_in(inside))).first()
    first, last = make_person(hometown=inside[0]), make_person(hometown=inside[-1])
    make_person(hometown=outside)

    filters = audiences.clean_filters({"units": [district]})
    assert filters["units"] == [district]
    assert reached(filters) == {first.id, last.id}


def test_association_filter(make_person):
    japan = make_person(associations=[ASSOCIATION_JP])
    korea = make_person(associations=[ASSOCIATION_KR], country="KR")
    make_person()
    ids = {name: db.session.scalar(select(Association.id).where(Association.name == name))
           for name in (ASSOCIATION_JP, ASSOCIATION_KR)}

    assert reached({"associations": [ids[ASSOCIATION_JP]]}) == {japan.id}
    assert reached({"associations": list(ids.values())}) == {japan.id, korea.id}


def test_language_filter(make_person):
    make_person(preferred_lang="vi")
    english = make_person(preferred_lang="en")

    assert reached({"languages": ["en"]}) == {english.id}


def test_age_range_by_year_of_birth_in_vietnam(make_person):
    year = vietnam_today().year
    twenty = make_person(birth_year=year - 20)
    thirty = make_person(birth_year=year - 30)
    forty = make_person(birth_year=year - 40)
    make_person(birth_year=None)

    assert reached({"age_min": 30}) == {thirty.id, forty.id}
    assert reached({"age_max": 30}) == {twenty.id, thirty.id}
    assert reached({"age_min": 25, "age_max": 35}) == {thirty.id}
    assert reached({"age_min": 30, "age_max": 30}) == {thirty.id}


def test_filters_combine(make_person):
    wanted = make_person(country="KR", preferred_lang="en")
    make_person(country="KR")
    make_person(country="JP", preferred_lang="en")

    assert reached({"countries": ["KR"], "languages": ["en"]}) == {wanted.id}


def test_count_equals_members_over_pages(make_person):
    for number in range(7):
        make_person(country="JP" if number % 2 else "KR")
    make_person(is_outreach_opted_out=True)
    filters = {"countries": ["JP", "KR"]}

    pages, after = [], 0
    while page := audiences.members(filters, after_id=after, limit=3):
        pages.append(page)
        after = page[-1]
    ids = [person_id for page in pages for person_id in page]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert ids == sorted(set(ids))
    assert audiences.count(filters) == len(ids) == 7


def test_save_and_update_are_audited(officer):
    audience = audiences.save_audience("  Japan, for Tết ", {"countries": ["jp"]}, officer)

    assert audience.name == "Japan, for Tết"
    assert audience.filters == {**audiences.EMPTY_FILTERS, "countries": ["JP"]}
    assert audience.created_by_id == officer.id
    assert not audiences.update_audience(audience, "Japan, for Tết", {"countries": ["JP"]},
                                         officer)
    assert audiences.update_audience(audience, "Japan and Korea",
                                     {"countries": ["JP", "KR"], "age_min": 18}, officer)
    db.session.commit()

    saved = db.session.get(Audience, audience.id)
    assert saved.filters["countries"] == ["JP", "KR"] and saved.filters["age_min"] == 18
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    actions = [event.action for event in events if event.action.startswith("audience.")]
    assert actions == ["audience.create", "audience.update"]
    assert set(events[-1].details["changes"]) == {"name", "filters"}


@pytest.mark.parametrize("name, filters, message", [
    ("", {}, "Give the audience a name."),
    ("   ", {}, "Give the audience a name."),
    ("x", {"countries": ["XX"]}, "Unknown country code: XX."),
    ("x", {"countries": ["Japan"]}, "Unknown country code: JAPAN."),
    ("x", {"units": ["99999"]}, "Unknown unit or former district: 99999."),
    ("x", {"age_min": 40, "age_max": 30}, "The minimum age is above the maximum age."),
    ("x", {"age_min": "old"}, "An age is a whole number of years."),
    ("x", {"age_max": 200}, "An age is between 0 and 130."),
    ("x", {"statuses": ["lost"]}, "Unknown status: lost."),
    ("x", {"languages": ["fr"]}, "Unknown language: fr."),
    ("x", {"associations": [123456]}, "Unknown association: 123456."),
])
def test_refusals(officer, name, filters, message):
    with pytest.raises(BadInput) as refusal:
        audiences.save_audience(name, filters, officer)

    assert refusal.value.message == message
    assert db.session.scalar(select(Audience.id)) is None


def test_update_checks_too(officer):
    audience = audiences.save_audience("Everyone", {}, officer)

    with pytest.raises(BadInput, match="Unknown country code: ZZ."):
        audiences.update_audience(audience, "Everyone", {"countries": ["ZZ"]}, officer)
    assert audience.filters["countries"] == []


def test_only_email_for_now():
    with pytest.raises(ValueError):
        audiences.audience_query({}, channel="sms")

