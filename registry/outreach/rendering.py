"""Greeting messages: placeholders, the checks on a template, and rendering.

An officer writes a subject and a body as plain text with placeholders, as in
"Kính gửi {{ honorific }} {{ full_name }}". Two constructs are allowed:

- ``{{ placeholder }}``, optionally through one case filter (``upper``, ``lower``,
  ``capitalize``, ``title``, ``trim``);
- ``{% if placeholder %} … {% elif … %} … {% else %} … {% endif %}`` (with ``not``),
  so that a value some recipients lack, such as the city, can be left out.

Everything else (attributes, items, calls, literals, loops, assignments, macros,
includes) is refused by check_template before a campaign is saved, and the sandbox
refuses it again when rendering. A placeholder whose value a recipient lacks is
false in ``{% if %}`` but fails when printed, so that nobody receives "in ," and
the preview names the line instead.

The body is plain text. Its HTML part is the rendered text escaped as a whole,
paragraphs from blank lines: autoescaping would escape the values but not the
officer's own text, and an officer typing "<3" means those two characters.

Honorifics follow the register of a department's formal letter:

- Vietnamese: "Em" for anyone under 18 in the current year; otherwise "Ông" for
  men, "Bà" for women, "Ông/Bà" when the gender is unknown or "other". Adults of
  any age are Ông/Bà: "Anh"/"Chị" is familiar speech, not an official letter.
- English: "Mr", "Ms", "Mr/Ms" for adults; none for anyone under 18 ("Dear Nguyễn
  Thị Mai", not "Dear Ms"). The empty honorific leaves no double space: runs of
  spaces inside a line are made single.

Age is the age reached this year (current year minus birth year), since the
registry often knows only the year; an unknown birth year counts as adult.
"""
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jinja2 import (StrictUndefined, Template, TemplateError, TemplateSyntaxError,
                    UndefinedError, meta, nodes)
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from registry.core.errors import BadInput
from registry.core.time import vietnam_today
from registry.places.operations import country_name

log = logging.getLogger(__name__)

DEFAULT_LANG = "vi"
ADULT_AGE = 18

#: The placeholders a template may use, with the help shown beside the editor.
PLACEHOLDERS = {
    "honorific": _l("Ông, Bà or Ông/Bà (Mr, Ms or Mr/Ms) by gender; Em for minors"),
    "full_name": _l("Full name, as recorded"),
    "given_name": _l("Given name"),
    "country": _l("Country of residence, in the recipient's language"),
    "city": _l("City of residence, as recorded"),
    "occasion": _l("The occasion, in the recipient's language"),
    "occasion_date": _l("The occasion's date this year, in the recipient's language"),
    "signature": _l("The signature"),
}
FILTERS = ("upper", "lower", "capitalize", "title", "trim")
SUBJECT, BODY = "subject", "body"

HONORIFICS = {
    "vi": {"male": "Ông", "female": "Bà", None: "Ông/Bà", "minor": "Em"},
    "en": {"male": "Mr", "female": "Ms", None: "Mr/Ms", "minor": ""},
}
DATE_FORMATS = {"vi": "dd/MM/y", "en": "d MMMM y"}  # 17/02/2026, 17 February 2026

# Values a recipient's record gives when the template checker tries a template.
SAMPLE_RECIPIENT = {"full_name": "Lê Thị Mẫu", "given_name": "Mẫu", "gender": "female",
                    "birth_year": 1980, "country_code": "JP", "city": "Osaka"}
SAMPLE_OCCASION = {"name": {"vi": "Tết Nguyên Đán", "en": "Lunar New Year"},
                   "date": date(2026, 2, 17)}

# Characters a value must not carry: controls (CR, LF, NUL, NEL…), line and
# paragraph separators, and the bidirectional overrides that disguise text.
_UNSAFE_CATEGORIES = {"Cc", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                     "\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")
_INNER_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_TEMPLATE_FILE = "<template>"  # the file name Jinja gives frames of a from_string


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template cannot be used, and where."""

    line: int
    message: str
    part: str = BODY  # SUBJECT or BODY


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for a channel: a one-line subject, plain text and HTML."""

    subject: str
    text: str
    html: str


class RenderError(BadInput):
    """A template that could not be rendered for one recipient."""

    def __init__(self, problems: list[TemplateProblem]):
        super().__init__(describe(problems))
        self.problems = problems


class MissingValueError(UndefinedError):
    """A placeholder printed for a recipient who has no value for it."""

    def __init__(self, name: str):
        super().__init__(f"{name!r} has no value")
        self.missing_name = name


class _MissingValue(StrictUndefined):
    """A value the recipient lacks: false in {% if %}, an error when printed."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        raise MissingValueError(self._undefined_name)


# Honorifics, dates and languages ----------------------------------------------

def honorific(gender: str | None, birth_year: int | None, today: date,
              lang: str) -> str:
    """Return how the letter addresses the person (see the module's rules)."""
    forms = HONORIFICS.get(_base_lang(lang), HONORIFICS["en"])
    # TODO: languages other than Vietnamese and English use the English forms
    # until someone supplies the right ones.
    if birth_year and today.year - birth_year < ADULT_AGE:
        return forms["minor"]
    return forms.get(gender if gender in ("male", "female") else None)


def format_occasion_date(day: date, lang: str) -> str:
    """Return day as written in a letter in lang: 17/02/2026 or 17 February 2026."""
    base = _base_lang(lang)
    pattern = DATE_FORMATS.get(base, DATE_FORMATS["en"])
    return format_date(day, pattern, locale=base if base in DATE_FORMATS else "en")


def choose_language(preferred_lang: str | None, available_langs) -> str:
    """Return the recipient's language if the template has it, else Vietnamese.

    When the template has no Vietnamese either, the first of its languages in
    alphabetical order is used, so that something is always chosen.
    """
    available = sorted({_base_lang(lang) for lang in available_langs if lang})
    preferred = _base_lang(preferred_lang)
    if preferred in available:
        return preferred
    if DEFAULT_LANG in available or not available:
        return DEFAULT_LANG
    return available[0]


def _base_lang(lang: str | None) -> str:
    return re.split(r"[-_]", (lang or "").strip().lower())[0]


# Values ------------------------------------------------------------------------

def placeholder_values(recipient: dict, occasion: dict, lang: str,
                       signature: str | None, today: date | None = None) -> dict:
    """Return {placeholder: text} for a recipient, leaving out the values it lacks.

    recipient has full_name, given_name, gender, birth_year, country_code and city
    (any may be missing or None); occasion has name (a text, or {lang: text}) and
    date. Every value is cleaned of line breaks and control characters; the
    signature keeps its line breaks and is cleaned line by line.
    """
    base = _base_lang(lang)
    today = today or vietnam_today()
    values = {
        "honorific": honorific(recipient.get("gender"), recipient.get("birth_year"),
                               today, base),
        "full_name": recipient.get("full_name"),
        "given_name": recipient.get("given_name"),
        "country": country_name(recipient.get("country_code"), base),
        # TODO: cities are shown as recorded; there is no table of city names
        # in other languages to translate them with.
        "city": recipient.get("city"),
        "occasion": _occasion_name(occasion, base),
        "occasion_date": _occasion_date(occasion, base),
    }
    cleaned = {name: clean_value(value) for name, value in values.items()}
    cleaned["signature"] = _clean_lines(signature)
    # The honorific is always there: empty, for a minor in English, is a value.
    return {name: value for name, value in cleaned.items()
            if value or name == "honorific"}


def recipient_from_person(person) -> dict:
    """Return the recipient fields render needs, read from a Person."""
    return {name: getattr(person, name) for name in
            ("full_name", "given_name", "gender", "birth_year", "country_code", "city")}


def clean_value(value) -> str:
    """Return value as one line: controls removed, white space made single spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    kept = "".join(" " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
                   for ch in text if ch not in _BIDI_CONTROLS)
    return _SPACES.sub(" ", kept).strip()


def _clean_lines(text: str | None) -> str:
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(clean_value(line) for line in lines).strip("\n")


def _occasion_name(occasion: dict, lang: str) -> str | None:
    name = occasion.get("name")
    if isinstance(name, dict):
        return name.get(lang) or name.get(DEFAULT_LANG)
    return name


def _occasion_date(occasion: dict, lang: str) -> str | None:
    day = occasion.get("date")
    return format_occasion_date(day, lang) if day else None


# Checking ----------------------------------------------------------------------

def check_template(subject: str, body: str) -> list[TemplateProblem]:
    """Return what is wrong with a subject and body, or an empty list."""
    problems = _check_subject_shape(subject) + _check_part(subject, SUBJECT)
    problems += _check_part(body, BODY)
    if not problems:
        problems = _try_render(subject, body)
    return problems


def describe(problems: list[TemplateProblem]) -> str:
    """Return the problems as one text for a flash or an error page."""
    parts = {SUBJECT: _("Subject"), BODY: _("Body")}
    return "; ".join(
        _("%(part)s, line %(line)s: %(message)s", part=parts[problem.part],
          line=problem.line, message=problem.message)
        for problem in problems
    )


def _check_subject_shape(subject: str) -> list[TemplateProblem]:
    if not (subject or "").strip():
        return [TemplateProblem(1, _("The subject is empty."), SUBJECT)]
    if "\n" in subject or "\r" in subject:
        return [TemplateProblem(2, _("The subject must be one line."), SUBJECT)]
    return []


def _check_part(source: str, part: str) -> list[TemplateProblem]:
    if part == BODY and not (source or "").strip():
        return [TemplateProblem(1, _("The message is empty."), part)]
    try:
        tree = _ENVIRONMENT.parse(source or "")
    except TemplateSyntaxError as error:
        message = _("This cannot be read: %(reason)s", reason=error.message)
        return [TemplateProblem(error.lineno or 1, message, part)]

    problems = [TemplateProblem(line, message, part)
                for line, message in _refused_constructs(tree)]
    problems += _unknown_placeholders(tree, part)
    return sorted(problems, key=lambda problem: problem.line)


def _refused_constructs(tree: nodes.Template) -> list[tuple[int, str]]:
    """Return (line, reason) for every construct beyond placeholders and if."""
    found: list[tuple[int, str]] = []
    for node in tree.body:
        found += _statement_problems(node)
    return found


def _statement_problems(node: nodes.Node) -> list[tuple[int, str]]:
    if isinstance(node, nodes.Output):
        return [problem for child in node.nodes if not isinstance(
            child, nodes.TemplateData) for problem in _expression_problems(child)]
    if isinstance(node, nodes.If):
        found = _condition_problems(node.test)
        for child in (*node.body, *node.elif_, *node.else_):
            found += _statement_problems(child)
        return found
    return [(node.lineno, _("Only {{ placeholder }} and {% if placeholder %} … "
                            "{% endif %} are allowed here."))]


def _condition_problems(test: nodes.Expr) -> list[tuple[int, str]]:
    if isinstance(test, nodes.Not):
        test = test.node
    if isinstance(test, nodes.Name):
        return []
    return [(test.lineno, _("A condition may only test a placeholder, as in "
                            "{% if city %}."))]


def _expression_problems(node: nodes.Expr) -> list[tuple[int, str]]:
    if isinstance(node, nodes.Name):
        return []
    if isinstance(node, nodes.Filter):
        return _filter_problems(node)
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        return [(node.lineno, _("Attributes and items cannot be used: write only "
                                "{{ placeholder }}."))]
    return [(node.lineno, _("Only a placeholder may stand between {{ and }}."))]


def _filter_problems(node: nodes.Filter) -> list[tuple[int, str]]:
    if node.name not in FILTERS:
        return [(node.lineno, _("The filter %(name)s cannot be used; these can: "
                                "%(allowed)s.", name=node.name,
                                allowed=", ".join(FILTERS)))]
    if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
        return [(node.lineno, _("The filter %(name)s takes no arguments here.",
                                name=node.name))]
    return _expression_problems(node.node) if node.node else []


def _unknown_placeholders(tree: nodes.Template, part: str) -> list[TemplateProblem]:
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError:
        # An unknown filter or test stops Jinja's walk; it is reported already,
        # so every name read is taken as a placeholder instead.
        undeclared = {node.name for node in tree.find_all(nodes.Name)
                      if node.ctx == "load"}
    unknown = undeclared - PLACEHOLDERS.keys()
    known = ", ".join(PLACEHOLDERS)
    places = {(node.lineno, node.name) for node in tree.find_all(nodes.Name)
              if node.name in unknown}
    return [TemplateProblem(line, _("Unknown placeholder {{ %(name)s }}; these are "
                                    "known: %(known)s.", name=name, known=known), part)
            for line, name in sorted(places)]


def _try_render(subject: str, body: str) -> list[TemplateProblem]:
    """Render for a sample recipient in both languages; return what failed."""
    for lang in HONORIFICS:
        try:
            render(subject, body, SAMPLE_RECIPIENT, SAMPLE_OCCASION, lang,
                   _("Sample signature"), today=SAMPLE_OCCASION["date"])
        except RenderError as error:
            return error.problems
    return []


# Rendering ---------------------------------------------------------------------

def render(subject: str, body: str, recipient: dict, occasion: dict, lang: str,
           signature: str | None, today: date | None = None) -> RenderedMessage:
    """Return the message for one recipient; raise RenderError if it cannot be."""
    values = placeholder_values(recipient, occasion, lang, signature, today)
    subject_text = _SPACES.sub(" ", _render_part(subject, SUBJECT, values)).strip()
    text = _tidy_text(_render_part(body, BODY, values))
    return RenderedMessage(subject=subject_text, text=text, html=_as_html(text))


def _render_part(source: str, part: str, values: dict) -> str:
    template = _compiled(source, part)
    try:
        return template.render(values)
    except TemplateError as error:
        problem = TemplateProblem(_error_line(error), _render_failure(error), part)
        log.info("Template %s failed to render: %s", part, error)
        raise RenderError([problem]) from None


@functools.lru_cache(maxsize=64)
def _compiled(source: str, part: str) -> Template:
    """Return the template once it passes the checks; raise RenderError if not.

    A campaign renders the same two sources for every recipient, so each is
    checked and compiled once. Failures are not cached.
    """
    problems = _check_part(source, part)
    if problems:
        raise RenderError(problems)
    return _ENVIRONMENT.from_string(source)


def _render_failure(error: TemplateError) -> str:
    name = getattr(error, "missing_name", None)
    if name:
        return _("This recipient has no value for {{ %(name)s }}; put it inside "
                 "{%% if %(name)s %%} … {%% endif %%} to leave it out.", name=name)
    return _("The message cannot be written: %(reason)s", reason=str(error))


def _error_line(error: Exception) -> int:
    """Return the template line a render error happened on, or 1."""
    line, traceback = 1, error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _tidy_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tidied = (_INNER_SPACES.sub(" ", line).rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(tidied)).strip("\n")


def _as_html(text: str) -> str:
    """Return text escaped, each paragraph (blank-line separated) a <p>."""
    paragraphs = [part.strip("\n") for part in _BLANK_LINE.split(text) if part.strip()]
    return "\n".join("<p>" + "<br>\n".join(str(escape(line)) for line in part.split("\n"))
                     + "</p>" for part in paragraphs)


def _environment() -> SandboxedEnvironment:
    """Return the sandbox with nothing in it but the case filters."""
    environment = SandboxedEnvironment(undefined=_MissingValue, autoescape=False,
                                       trim_blocks=True, lstrip_blocks=True)
    environment.globals.clear()
    environment.filters = {name: environment.filters[name] for name in FILTERS}
    environment.tests = {}
    return environment


_ENVIRONMENT = _environment()
