"""Writing many rows at once, the fastest way each database offers.

PostgreSQL takes rows through COPY, one stream per table: an executemany of
INSERTs, even pipelined, costs the server a parse and a plan per row, which was
most of a large import's time. SQLite takes one executemany on the driver's
cursor, past SQLAlchemy's per-row parameter handling. Values are turned into
what the database stores by the columns' own SQLAlchemy types (JSON text,
SQLite's date format), so the rows read back exactly like rows the ORM wrote.
"""
from sqlalchemy import DateTime, Insert, Table


def insert_rows(connection, table: Table, rows: list[dict]) -> None:
    """Insert rows ({column: value}, all with the same keys) into table.

    The statement runs on connection, inside its transaction.
    """
    if not rows:
        return
    defaults = _defaults(table, rows[0])
    if defaults:
        rows = [{**defaults, **row} for row in rows]
    columns = list(rows[0])
    values = _stored_values(connection.dialect, table, columns, rows)
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        _copy(driver, table.name, columns, values)
    else:
        _executemany(driver, table.name, columns, values)


class Copying:
    """A connection whose plain INSERTs of many rows go through insert_rows.

    For code of another domain that writes in bulk with
    connection.execute(insert(table), rows), such as matching.insert_keys: the
    rows then take COPY too, and every other statement goes on unchanged.
    """

    def __init__(self, connection):
        self._connection = connection

    def execute(self, statement, parameters=None, **options):
        if _is_plain_insert(statement) and isinstance(parameters, list) and not options:
            insert_rows(self._connection, statement.table, parameters)
            return None
        return self._connection.execute(statement, parameters, **options)

    def __getattr__(self, name):
        return getattr(self._connection, name)


def _is_plain_insert(statement) -> bool:
    # No RETURNING, no values of its own, no INSERT ... SELECT: only the rows.
    return (isinstance(statement, Insert) and isinstance(statement.table, Table)
            and not statement._returning and statement.select is None
            and statement._values is None and not statement._multi_values)


def _defaults(table: Table, row: dict) -> dict:
    """Return the Python-side defaults of the columns row leaves out, as an INSERT has."""
    defaults = {}
    for column in table.c:
        default = column.default
        if column.name in row or default is None or not (default.is_scalar or
                                                         default.is_callable):
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    return defaults


def _stored_values(dialect, table: Table, columns: list[str], rows: list[dict]):
    """Yield each row as a list of the values the driver is handed."""
    processors = [(at, _processor(table.c[name], dialect)) for at, name in enumerate(columns)]
    processors = [(at, process) for at, process in processors if process is not None]
    for row in rows:
        values = [row[name] for name in columns]
        for at, process in processors:
            values[at] = process(values[at])
        yield values


def _processor(column, dialect):
    """Return the function that turns a value of column into what is stored, or None."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(column.type, DateTime):
        return process
    # A chunk's rows share one timestamp: format it once.
    done: dict = {}

    def once(value):
        if value not in done:
            done[value] = process(value)
        return done[value]

    return once


def _copy(driver, table: str, columns: list[str], values) -> None:
    # COPY into a timestamp column drops the zone written with a value: every
    # value here is UTC, which is what the registry stores.
    statement = f"COPY {_quoted(table)} ({', '.join(map(_quoted, columns))}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in values:
            copy.write_row(row)


def _executemany(driver, table: str, columns: list[str], values) -> None:
    statement = (f"INSERT INTO {_quoted(table)} ({', '.join(map(_quoted, columns))}) "
                 f"VALUES ({', '.join('?' * len(columns))})")
    cursor = driver.cursor()
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
