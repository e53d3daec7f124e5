"""Checking a hometown typed on a form against Thanh Hóa's units."""
from flask_babel import gettext as _

from registry.core.errors import BadInput
from registry.places import operations
from registry.places.operations import Resolution

FIELD = "hometown"


class HometownChoice(BadInput):
    """A hometown that fits several units: the user must pick one of choices."""

    def __init__(self, message: str, choices: list[tuple[str, str]]):
        super().__init__(message, FIELD)
        self.choices = choices


def validate_hometown_input(
    text: str | None, chosen_unit_code: str | None = None
) -> tuple[str | None, str | None, str | None]:
    """Return (unit code, former commune code, text as typed) for a typed hometown.

    chosen_unit_code is the unit the user picked when the name fitted several
    units or named a divided commune; it is not used when the name is clear.
    All three are None for a blank hometown. Raise BadInput when no unit fits.
    """
    found = operations.resolve_hometown(text)
    if not found.given:
        return _chosen_only(chosen_unit_code)

    if found.status == operations.EXACT:
        return found.unit.code, _code(found.former), found.given
    if found.status == operations.UNKNOWN:
        raise BadInput(_("No commune or ward of Thanh Hóa is called “%(name)s”. Check "
                         "the spelling, or give the former commune and its district, "
                         "as in “Hoằng Quỳ, Hoằng Hóa”.", name=found.given), FIELD)
    return _choice_among(found, chosen_unit_code)


def _chosen_only(code: str | None) -> tuple[str | None, None, None]:
    if not code:
        return None, None, None
    unit = operations.get_unit(code)
    if unit is None:
        raise BadInput(_("Choose a commune or ward from the list."), FIELD)
    return unit.code, None, None


def _choice_among(found: Resolution, code: str | None) -> tuple[str, str | None, str]:
    unit = next((unit for unit in found.candidates if unit.code == code), None)
    if unit is None:
        choices = [(unit.code, unit.full_name) for unit in found.candidates]
        raise HometownChoice(_choose_message(found), choices)

    if found.status == operations.SPLIT:
        unit = operations.resolve_unit_choice(found.former.code, unit.code)
        return unit.code, found.former.code, found.given
    return unit.code, _only_former_of(found, unit), found.given


def _choose_message(found: Resolution) -> str:
    names = ", ".join(unit.full_name for unit in found.candidates)
    if found.status == operations.SPLIT:
        return _("“%(name)s” was divided on 1 July 2025 between %(units)s. Choose the "
                 "one the person comes from.", name=found.given, units=names)
    return _("Several communes are called “%(name)s”: they are now part of %(units)s. "
             "Choose one, or type the name with its diacritics.",
             name=found.given, units=names)


def _only_former_of(found: Resolution, unit) -> str | None:
    """Return the matched former commune that went to unit, if there is just one."""
    formers = [former for former in found.formers
               if any(link.unit_code == unit.code for link in former.successors)]
    return formers[0].code if len(formers) == 1 else None


def _code(row) -> str | None:
    return row.code if row is not None else None
