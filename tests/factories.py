"""Small builders of test data shared by the test modules."""
from registry.accounts.models import AREA_COMMUNE
from registry.extensions import db
from registry.people import operations
from registry.people.normalise import parse_birth_date

BIM_SON = "14812"  # Phường Bỉm Sơn
MUONG_LAT = "14845"  # Xã Mường Lát


def person_form(**changes) -> dict:
    """Return the fields of a valid person form as a browser would post them."""
    data = {
        "full_name": "Nguyễn Thị Hương", "gender": "female", "date_of_birth": "12/05/1991",
        "hometown": "Phường Bỉm Sơn", "hometown_code": BIM_SON, "country": "JP",
        "city": "Osaka", "address_abroad": "", "abroad_since": "2019",
        "residence_status": "worker", "purpose": "labour", "phones-0": "090-1234-5678",
        "emails-0": "huong.nguyen@example.com", "passport_number": "C1234567",
        "national_id": "", "occupation": "Công nhân", "employer": "", "education_level": "",
        "expertise": "", "associations-0": "Hội đồng hương Thanh Hóa tại Nhật Bản",
        "relative_name": "", "relative_relation": "", "relative_phone": "",
        "relative_address": "", "preferred_lang": "vi", "consent_record": "y",
        "consent_channel": "paper", "notes": "", "status": "active",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def create_person(actor, **changes):
    """Create a person through the operation, as an officer's form would."""
    values = person_form(**changes)
    data = {
        "full_name": values["full_name"], "gender": values.get("gender") or None,
        "birth": parse_birth_date(values.get("date_of_birth")),
        "hometown": (values["hometown_code"], None, values["hometown"]),
        "country_code": values["country"], "city": values.get("city"),
        "phones": [], "emails": [], "associations": [], "consents": ["record"],
        "passport_number": values.get("passport_number"), "status": values.get("status"),
    }
    person = operations.create_person(data, actor, "officer")
    db.session.commit()
    return person


def commune_area(code: str = BIM_SON) -> tuple[str, str]:
    return (AREA_COMMUNE, code)
