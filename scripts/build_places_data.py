"""Extract Thanh Hóa's administrative units from the vietnamadminunits package.

Writes registry/places/data/thanh_hoa_units.json: the commune-level units in
force since 1 July 2025, the district-level units and communes abolished that
day, and which current unit(s) took each former commune.

    . .venv/bin/activate && python scripts/build_places_data.py

Only this script needs vietnamadminunits; the application reads the JSON file.
"""
import json
import sqlite3
import sys
import unicodedata
from importlib import metadata, resources
from pathlib import Path

PACKAGE = "vietnamadminunits"
PROVINCE_CODE = "38"  # Tỉnh Thanh Hóa, the same code before and after 2025
OUTPUT = Path(__file__).resolve().parent.parent / "registry/places/data/thanh_hoa_units.json"
KINDS = {"Xã", "Phường", "Thị trấn", "Huyện", "Thị xã", "Thành phố"}
EXPECTED = {"units": 166, "former_districts": 26, "former_communes": 547, "split": 10}


def main() -> int:
    """Build the JSON file; return 1 when the counts are not the expected ones."""
    data_dir = resources.files(PACKAGE) / "data"
    with sqlite3.connect(str(data_dir / "dataset.db")) as connection:
        current = _current_rows(connection)
        legacy = _legacy_rows(connection)
    converter = json.loads((data_dir / "converter_2025.json").read_text("utf-8"))

    document = _document(current, legacy, converter)
    counts = _counts(document)
    _write(document)

    for name, count in counts.items():
        print(f"{name}: {count} (expected {EXPECTED[name]})")
    print(f"written to {OUTPUT}")
    return 0 if counts == EXPECTED else 1


def _current_rows(connection) -> list[sqlite3.Row]:
    connection.row_factory = sqlite3.Row
    return connection.execute(
        "SELECT ward, wardShort, wardType, wardCode, wardKey, provinceKey "
        "FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        (PROVINCE_CODE,),
    ).fetchall()


def _legacy_rows(connection) -> list[sqlite3.Row]:
    connection.row_factory = sqlite3.Row
    return connection.execute(
        "SELECT district, districtShort, districtType, districtCode, districtKey, "
        "ward, wardShort, wardType, wardCode, wardKey, provinceKey "
        "FROM admin_units_legacy WHERE provinceCode = ? ORDER BY wardCode",
        (PROVINCE_CODE,),
    ).fetchall()


def _document(current, legacy, converter) -> dict:
    province_key = current[0]["provinceKey"]
    unit_codes = {row["wardKey"]: row["wardCode"] for row in current}
    successors = _successors(converter, province_key, unit_codes)

    return {
        "source": {"package": PACKAGE, "version": metadata.version(PACKAGE),
                   "province": "Tỉnh Thanh Hóa", "province_code": PROVINCE_CODE},
        "units": [_unit(row) for row in current],
        "former_districts": _districts(legacy),
        "former_communes": [_former(row, successors) for row in legacy],
    }


def _successors(converter, province_key: str, unit_codes: dict) -> dict:
    """Return {legacy key: (successor codes, main code or None)}."""
    found = {}
    whole = converter["DICT_PROVINCE_WARD_NO_DIVIDED"][province_key]
    for unit_key, legacy_keys in whole.items():
        for legacy_key in legacy_keys:
            _once(found, legacy_key, ([unit_codes[unit_key]], unit_codes[unit_key]))

    divided = converter["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {})
    for legacy_key, parts in divided.items():
        codes = sorted(unit_codes[part["newWardKey"]] for part in parts)
        mains = [unit_codes[p["newWardKey"]] for p in parts if p["isDefaultNewWard"]]
        _once(found, legacy_key, (codes, mains[0] if len(mains) == 1 else None))
    return found


def _once(found: dict, key: str, value) -> None:
    if key in found:
        raise SystemExit(f"former commune {key} is mapped twice")
    found[key] = value


def _unit(row) -> dict:
    kind, name = _kind_and_name(row["ward"], row["wardShort"], row["wardType"])
    return {"code": row["wardCode"], "name": name, "kind": kind}


def _districts(legacy) -> list[dict]:
    seen = {}
    for row in legacy:
        kind, name = _kind_and_name(row["district"], row["districtShort"],
                                    row["districtType"])
        seen[row["districtCode"]] = {"code": row["districtCode"], "name": name,
                                     "kind": kind}
    return [seen[code] for code in sorted(seen)]


def _former(row, successors: dict) -> dict:
    key = f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"
    if key not in successors:
        raise SystemExit(f"former commune {key} has no successor")
    codes, main = successors[key]
    kind, name = _kind_and_name(row["ward"], row["wardShort"], row["wardType"])

    record = {"code": row["wardCode"], "name": name, "kind": kind,
              "district": row["districtCode"], "successors": codes}
    if len(codes) > 1:
        record.update(is_split=True, main=main)
    return record


def _kind_and_name(full: str, short: str, kind: str) -> tuple[str, str]:
    """Return the kind and the name without prefix, as the full name gives them.

    The package's type column disagrees once with its own full name (15061,
    "Thị trấn Ngọc Lặc" typed "Xã"); the full name is the official one.
    """
    full, short, kind = _nfc(full), _nfc(short), _nfc(kind)
    if not full.endswith(" " + short) or full[: -len(short) - 1] not in KINDS:
        raise SystemExit(f"unexpected name {full!r} for {kind} {short!r}")
    prefix = full[: -len(short) - 1]
    if prefix != kind:
        print(f"note: {full!r} is typed {kind!r} in the package; kept {prefix!r}")
    return prefix, short


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _counts(document: dict) -> dict:
    formers = document["former_communes"]
    return {"units": len(document["units"]),
            "former_districts": len(document["former_districts"]),
            "former_communes": len(formers),
            "split": sum(1 for former in formers if former.get("is_split"))}


def _write(document: dict) -> None:
    """Write one record per line: small enough to diff, easy to read."""
    lines = ["{", f'  "source": {_compact(document["source"])},']
    tables = ["units", "former_districts", "former_communes"]
    for number, table in enumerate(tables):
        records = [f"    {_compact(record)}" for record in document[table]]
        closing = "  ]," if number < len(tables) - 1 else "  ]"
        lines += [f'  "{table}": [', ",\n".join(records), closing]
    lines.append("}")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


if __name__ == "__main__":
    sys.exit(main())
