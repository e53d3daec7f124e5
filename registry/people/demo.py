"""Synthetic people for the demo and the benchmarks. No real person is in here.

Names follow Thanh Hóa's surname mix, hometowns are current communes, countries
follow the diaspora (Japan, Korea and Taiwan first), and phones are written the
way people write them locally.
"""
import random
from datetime import UTC, date, datetime, timedelta

import phonenumbers

from registry.core.text import fold, tone_key

SURNAMES = [("Nguyễn", 26), ("Lê", 16), ("Trịnh", 6), ("Hoàng", 5), ("Phạm", 6),
            ("Trần", 6), ("Đỗ", 4), ("Mai", 3), ("Hà", 3), ("Vũ", 3), ("Lương", 2),
            ("Đặng", 2), ("Bùi", 3), ("Cao", 2), ("Hồ", 1), ("Tống", 1), ("Lại", 1),
            ("Đinh", 2), ("Trương", 1), ("Phan", 1), ("Ngô", 1), ("Dương", 1), ("Lò", 1)]
MIDDLE = {"male": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Ngọc", "Đình", "Công",
                   "Thành", "Văn", "Văn"],
          "female": ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Phương", "Kim",
                     "Minh", "Thùy"]}
GIVEN = {"male": ["Hùng", "Dũng", "Tuấn", "Anh", "Nam", "Hải", "Sơn", "Thắng", "Cường",
                  "Long", "Quân", "Hoàng", "Đức", "Trung", "Hiếu", "Lâm", "Phúc", "Khoa",
                  "Tài", "Vinh", "Tùng", "Huy", "Bình", "Thành", "Hòa", "Thủy", "Quyết"],
         "female": ["Hương", "Lan", "Hoa", "Linh", "Trang", "Thảo", "Ngọc", "Hà", "Mai",
                    "Nhung", "Hằng", "Thủy", "Hường", "Yến", "Loan", "Huyền", "Phương",
                    "Vân", "Nga", "Oanh", "Tuyết", "Hòa", "Giang", "Quỳnh", "Duyên"]}
COUNTRIES = [("JP", 28, ["Tokyo", "Osaka", "Nagoya", "Saitama", "Fukuoka", "Hiroshima"]),
             ("KR", 20, ["Seoul", "Busan", "Incheon", "Suwon", "Daegu", "Ansan"]),
             ("TW", 17, ["Taipei", "Taichung", "Kaohsiung", "Taoyuan", "Tainan"]),
             ("LA", 6, ["Vientiane", "Savannakhet", "Luang Prabang", "Pakse"]),
             ("DE", 4, ["Berlin", "Leipzig", "Hamburg", "Frankfurt am Main"]),
             ("US", 4, ["Houston", "San Jose", "Westminster", "Seattle"]),
             ("MY", 3, ["Kuala Lumpur", "Penang", "Johor Bahru"]),
             ("RU", 3, ["Moscow", "Saint Petersburg", "Kazan"]),
             ("CZ", 2, ["Prague", "Brno", "Cheb"]), ("AU", 2, ["Sydney", "Melbourne"]),
             ("FR", 2, ["Paris", "Lyon"]), ("SA", 2, ["Riyadh", "Jeddah"]),
             ("AE", 1, ["Dubai"]), ("GB", 1, ["London", "Birmingham"]),
             ("CA", 1, ["Toronto", "Vancouver"]), ("PL", 1, ["Warsaw"]),
             ("SG", 1, ["Singapore"]), ("TH", 1, ["Bangkok", "Udon Thani"])]
PURPOSES = {"JP": "labour", "KR": "labour", "TW": "labour", "MY": "labour", "SA": "labour",
            "AE": "labour", "LA": "business", "DE": "study", "US": "family",
            "AU": "study", "FR": "study", "GB": "study", "CA": "family"}
STATUS_MIX = [("active", 92), ("submitted", 5), ("returned", 2), ("archived", 1)]
OCCUPATIONS = ["Công nhân", "Kỹ sư", "Sinh viên", "Điều dưỡng", "Nội trợ", "Kinh doanh",
               "Nông nghiệp", "Đầu bếp", "Lái xe", "Giáo viên", "Thợ xây dựng", "Bác sĩ"]


class PeopleGenerator:
    """Make synthetic person rows, reproducibly from a seed."""

    def __init__(self, unit_codes: list[str], seed: int = 2026):
        self.random = random.Random(seed)
        self.unit_codes = unit_codes
        self.surnames = [name for name, _ in SURNAMES]
        self.surname_weights = [weight for _, weight in SURNAMES]
        self.countries = [c for c, _, _ in COUNTRIES]
        self.country_weights = [w for _, w, _ in COUNTRIES]
        self.cities = {c: cities for c, _, cities in COUNTRIES}
        self.phone_templates = {c: _phone_template(c) for c in self.countries}

    def person(self, number: int, now: datetime | None = None) -> dict:
        """Return the columns of one synthetic person, with phones and e-mails."""
        pick = self.random
        gender = pick.choice(("male", "female"))
        family = pick.choices(self.surnames, self.surname_weights)[0]
        middle, given = pick.choice(MIDDLE[gender]), pick.choice(GIVEN[gender])
        full = f"{family} {middle} {given}"
        country = pick.choices(self.countries, self.country_weights)[0]
        year, month, day = self._birth()
        created = (now or datetime.now(UTC)) - timedelta(days=pick.randint(0, 1500))
        return {
            "full_name": full, "family_name": family, "middle_name": middle,
            "given_name": given, "name_folded": fold(full), "name_tone_key": tone_key(full),
            "gender": gender, "birth_year": year, "birth_month": month, "birth_day": day,
            "hometown_code": pick.choice(self.unit_codes), "country_code": country,
            "city": pick.choice(self.cities[country]),
            "residence_status": "worker" if PURPOSES.get(country) == "labour" else
            pick.choice(("permanent_resident", "student", "naturalised", "other")),
            "purpose": PURPOSES.get(country, "other"),
            "passport_number": f"C{pick.randint(1000000, 9999999)}" if pick.random() < .7
            else None,
            "occupation": pick.choice(OCCUPATIONS), "preferred_lang": "vi",
            "status": pick.choices([s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX])[0],
            "source": pick.choice(("officer", "district", "self", "import")),
            "created_at": created, "updated_at": created, "version": 1,
            "is_outreach_opted_out": pick.random() < .03, "is_verified": False,
            "phones": [self.phone(country)],
            "emails": [f"{fold(given)}.{fold(family)}{number}@example.com"]
            if pick.random() < .6 else [],
        }

    def phone(self, country: str) -> tuple[str, str, str]:
        """Return (as written locally, E.164, national digits) of a made-up mobile."""
        region_code, national = self.phone_templates[country]
        keep = max(len(national) - 6, 2)
        digits = national[:keep] + "".join(
            str(self.random.randint(0, 9)) for _ in range(len(national) - keep))
        e164 = f"+{region_code}{digits}"
        number = phonenumbers.parse(e164, None)
        local = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return local, e164, digits

    def _birth(self) -> tuple[int, int | None, int | None]:
        year = self.random.randint(1962, 2006)
        roll = self.random.random()
        if roll < .1:
            return year, None, None
        month = self.random.randint(1, 12)
        if roll < .2:
            return year, month, None
        return year, month, self.random.randint(1, 28)


def _phone_template(region: str) -> tuple[int, str]:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    return example.country_code, str(example.national_number)


def birth_date_or_none(row: dict) -> date | None:
    """Return the full date of birth of a row, when it has one."""
    if row["birth_day"]:
        return date(row["birth_year"], row["birth_month"], row["birth_day"])
    return None


def insert_people(connection, rows: list[dict]) -> list[int]:
    """Insert generated rows with their phones, e-mails and consents; return the ids."""
    from sqlalchemy import insert

    from registry.people.models import Consent, Email, Person, PersonVersion, Phone
    from registry.people.signals import people_inserted

    people = [{k: v for k, v in row.items() if k not in ("phones", "emails")} for row in rows]
    result = connection.execute(
        insert(Person.__table__).returning(Person.id, sort_by_parameter_order=True), people)
    ids = [row_id for (row_id,) in result]
    phones = [{"person_id": pid, "number": e164, "national_digits": digits}
              for pid, row in zip(ids, rows) for _, e164, digits in row["phones"]]
    emails = [{"person_id": pid, "address": address}
              for pid, row in zip(ids, rows) for address in row["emails"]]
    consents = [{"person_id": pid, "purpose": purpose, "channel": "form",
                 "notice_version": "2026-01", "given_at": row["created_at"]}
                for pid, row in zip(ids, rows) for purpose in _purposes(row)]
    versions = [{"person_id": pid, "version": 1, "action": "create",
                 "changed_at": row["created_at"], "snapshot": first_snapshot(row)}
                for pid, row in zip(ids, rows)]
    for table, values in ((Phone, phones), (Email, emails), (Consent, consents),
                          (PersonVersion, versions)):
        if values:
            connection.execute(insert(table.__table__), values)
    people_inserted.send(connection, people=list(zip(ids, rows)))  # matching writes keys
    return ids


def _purposes(row: dict) -> tuple[str, ...]:
    return ("record",) if row["is_outreach_opted_out"] else ("record", "greetings")


def first_snapshot(row: dict) -> dict:
    """Return the history's first copy of a generated row, as a saved record has it."""
    from registry.people.operations import SNAPSHOT_FIELDS

    values = {name: _plain(row.get(name)) for name in SNAPSHOT_FIELDS}
    values.update(phones=[e164 for _, e164, _digits in row["phones"]],
                  emails=list(row["emails"]), associations=[],
                  consents=sorted(_purposes(row)))
    return values


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value
