"""The audit page's action filter lists every action the code records."""
import pathlib
import re

from registry.audit.operations import ACTIONS

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "registry"
# audit.record("x.y", ...), _audit("x.y", ...) and the conditional forms
# `"a" if ... else "b"` that pick an action before recording it.
LITERAL = re.compile(r'(?:record|_audit)\(\s*"([a-z_]+(?:\.[a-z_]+)*)"')
CHOSEN = re.compile(
    r'(?:record\(|action = )"([a-z_]+\.[a-z_]+)" if .+ else "([a-z_]+\.[a-z_]+)"')


def recorded_actions() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        found.update(LITERAL.findall(source))
        for pair in CHOSEN.findall(source):
            found.update(pair)
    return found


def test_every_recorded_action_is_listed():
    assert recorded_actions() - set(ACTIONS) == set()


def test_no_action_is_listed_twice():
    assert len(ACTIONS) == len(set(ACTIONS))
