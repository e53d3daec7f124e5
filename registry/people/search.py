"""Finding people fast: full-text over the folded name, exact keys for the rest.

SQLite answers name searches from an FTS5 index on ``person.name_folded``;
PostgreSQL from a GIN index over the words of the same column (a text-search
vector with the 'simple' configuration, which matches word prefixes without
stemming). Both are created here, for the migrations.
"""
import re
from dataclasses import dataclass, field

from sqlalchemy import (Select, case, func, literal_column, or_, select, text,
                        union)
from sqlalchemy.engine import Engine

from registry.core.text import fold, has_diacritics, tone_key
from registry.people.models import ACTIVE, Email, Person, Phone
from registry.people.normalise import normalise_document, phone_search_keys

COUNT_CAP = 10_000
SORTS = ("name", "updated", "created", "birth")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{6,}$")
_PASSPORT_LIKE = re.compile(r"^[A-Za-z]{1,2}\s?\d{6,9}$")

_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS person_fts USING fts5("
    "name_folded, content='person', content_rowid='id', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS person_fts_insert AFTER INSERT ON person BEGIN "
    "INSERT INTO person_fts(rowid, name_folded) VALUES (new.id, new.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS person_fts_delete AFTER DELETE ON person BEGIN "
    "INSERT INTO person_fts(person_fts, rowid, name_folded) "
    "VALUES ('delete', old.id, old.name_folded); END",
    "CREATE TRIGGER IF NOT EXISTS person_fts_update AFTER UPDATE OF name_folded ON person "
    "BEGIN INSERT INTO person_fts(person_fts, rowid, name_folded) "
    "VALUES ('delete', old.id, old.name_folded); "
    "INSERT INTO person_fts(rowid, name_folded) VALUES (new.id, new.name_folded); END",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS person_fts_insert",
    "DROP TRIGGER IF EXISTS person_fts_delete",
    "DROP TRIGGER IF EXISTS person_fts_update",
    "DROP TABLE IF EXISTS person_fts",
)
_PG_DDL = (
    "CREATE INDEX IF NOT EXISTS ix_person_name_words ON person "
    "USING gin (to_tsvector('simple', name_folded))",
)
# Written out so that it matches the index expression exactly.
_PG_WORDS = literal_column("to_tsvector('simple', person.name_folded)")


@dataclass
class Criteria:
    """What a user asked the people list for."""

    q: str = ""
    country: str | None = None
    hometown: str | None = None
    units: set[str] | None = None  # a former district's units, or a user's scope
    status: str | None = ACTIVE  # None: every status
    purpose: str | None = None
    residence_status: str | None = None
    sort: str = "name"
    filters_used: list[str] = field(default_factory=list)


def install(engine_or_connection) -> None:
    """Create the name search index for the connected database."""
    for statement in _ddl(engine_or_connection, _SQLITE_DDL, _PG_DDL):
        _execute(engine_or_connection, statement)


def uninstall(engine_or_connection) -> None:
    """Drop what install() created (SQLite only; PostgreSQL drops it with the table)."""
    for statement in _ddl(engine_or_connection, _SQLITE_DROP, ()):
        _execute(engine_or_connection, statement)


def rebuild(connection) -> None:
    """Rebuild the SQLite index from the table, after bulk loads that skip triggers."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("INSERT INTO person_fts(person_fts) VALUES ('rebuild')"))


def build_query(criteria: Criteria, dialect: str) -> Select:
    """Return the select of people matching criteria, sorted, not yet paged."""
    query = select(Person)
    query = _apply_text(query, criteria.q, dialect)
    query = _apply_filters(query, criteria)
    return query.order_by(*_ordering(criteria))


def count_capped(session, query: Select) -> tuple[int, bool]:
    """Return (count, is_capped): counting stops at COUNT_CAP to stay fast."""
    limited = query.order_by(None).with_only_columns(Person.id).limit(COUNT_CAP + 1)
    total = session.scalar(select(func.count()).select_from(limited.subquery()))
    return min(total, COUNT_CAP), total > COUNT_CAP


def classify(q: str) -> str:
    """Tell what a search box text is: "email", "phone", "document" or "name"."""
    q = q.strip()
    if "@" in q:
        return "email"
    if _PHONE_LIKE.match(q):
        return "phone"
    if _PASSPORT_LIKE.match(q):
        return "document"
    return "name"


def fts_expression(q: str) -> str:
    """Return the FTS5 query for q: whole words, the last one possibly half-typed."""
    words = fold(q).split()
    return " ".join(f'"{word}"' for word in words[:-1]) + f' "{words[-1]}"*'


def tsquery_expression(q: str) -> str:
    """Return the PostgreSQL tsquery for q, with the same meaning as fts_expression."""
    words = fold(q).split()
    return " & ".join([*words[:-1], f"{words[-1]}:*"])


def _apply_text(query: Select, q: str, dialect: str) -> Select:
    q = (q or "").strip()
    if not q:
        return query
    kind = classify(q)
    if kind == "email":
        ids = select(Email.person_id).where(Email.address == q.lower())
        return query.where(Person.id.in_(ids))
    if kind == "phone":
        by_id_number = select(Person.id).where(Person.national_id == _digits(q))
        return query.where(Person.id.in_(union(_phone_ids(q), by_id_number)))
    if kind == "document":
        document = normalise_document(q)
        return query.where(or_(Person.passport_number == document,
                               Person.national_id == document))
    return _apply_name(query, q, dialect)


def _apply_name(query: Select, q: str, dialect: str) -> Select:
    # TODO: a short half-typed word after a common family name ("trinh th") matches
    # tens of thousands of people, and sorting them by name reads each one from the
    # wide person table: about 150 ms on PostgreSQL at a million people, against
    # 40-80 ms for ordinary searches. A narrow table of (id, name_folded, status)
    # kept beside the index would make that sort cheap.
    words = fold(q).split()
    if not words:
        return query
    if dialect == "sqlite":
        matches = text("SELECT rowid FROM person_fts WHERE person_fts MATCH :fts")
        return query.where(Person.id.in_(matches.bindparams(fts=fts_expression(q))))
    tsquery = func.to_tsquery("simple", tsquery_expression(q))
    return query.where(_PG_WORDS.op("@@")(tsquery))


def _apply_filters(query: Select, criteria: Criteria) -> Select:
    if criteria.status:
        query = query.where(Person.status == criteria.status)
    if criteria.country:
        query = query.where(Person.country_code == criteria.country)
    if criteria.hometown:
        query = query.where(Person.hometown_code == criteria.hometown)
    if criteria.units is not None:
        query = query.where(Person.hometown_code.in_(sorted(criteria.units)))
    if criteria.purpose:
        query = query.where(Person.purpose == criteria.purpose)
    if criteria.residence_status:
        query = query.where(Person.residence_status == criteria.residence_status)
    return query


def _ordering(criteria: Criteria) -> list:
    if criteria.sort == "updated":
        return [Person.updated_at.desc(), Person.id.desc()]
    if criteria.sort == "created":
        return [Person.created_at.desc(), Person.id.desc()]
    if criteria.sort == "birth":
        return [Person.birth_year, Person.birth_month, Person.birth_day, Person.id]
    order = [Person.name_folded, Person.id]
    if criteria.q and has_diacritics(criteria.q) and classify(criteria.q) == "name":
        # People whose name has exactly the marks typed come first.
        pattern = "%" + _escape_like(tone_key(criteria.q)) + "%"
        order.insert(0, case((Person.name_tone_key.like(pattern), 0), else_=1))
    return order


def _phone_ids(q: str):
    international, national = phone_search_keys(q)
    condition = Phone.national_digits == national
    if international:
        condition = or_(Phone.number.in_(sorted(international)), condition)
    return select(Phone.person_id).where(condition)


def _digits(q: str) -> str:
    return re.sub(r"\D", "", q)


def _escape_like(value: str) -> str:
    return value.replace("\\", "").replace("%", "").replace("_", "")


def _ddl(bind, sqlite_statements, pg_statements):
    name = bind.dialect.name
    return sqlite_statements if name == "sqlite" else pg_statements if name == "postgresql" else ()


def _execute(bind, statement: str) -> None:
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            connection.execute(text(statement))
    else:
        bind.execute(text(statement))
