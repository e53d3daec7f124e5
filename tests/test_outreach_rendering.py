"""Greeting templates: honorifics, placeholders, checks, sandbox and injection."""
from datetime import date
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP

import pytest
from flask_babel import force_locale

from registry.core.time import vietnam_today
from registry.outreach import rendering
from registry.outreach.rendering import (BODY, PLACEHOLDERS, SUBJECT, RenderError,
                                         check_template, choose_language, honorific,
                                         render)

TODAY = date(2026, 1, 10)
TET = {"name": {"vi": "Tết Nguyên Đán", "en": "Lunar New Year"}, "date": date(2026, 2, 17)}
SIGNATURE = "Sở Ngoại vụ tỉnh Thanh Hóa\nGiám đốc"


def recipient(**fields) -> dict:
    values = {"full_name": "Nguyễn Văn Thử", "given_name": "Thử", "gender": "male",
              "birth_year": 1975, "country_code": "DE", "city": "Berlin"}
    return values | fields


def rendered(body: str, lang: str = "vi", subject: str = "Chúc mừng", **fields):
    return render(subject, body, recipient(**fields), TET, lang, SIGNATURE, today=TODAY)


@pytest.fixture
def english(app_ctx):
    with force_locale("en"):
        yield


# Honorifics --------------------------------------------------------------------

@pytest.mark.parametrize("gender, lang, expected", [
    ("male", "vi", "Ông"), ("female", "vi", "Bà"), (None, "vi", "Ông/Bà"),
    ("other", "vi", "Ông/Bà"), ("", "vi", "Ông/Bà"),
    ("male", "en", "Mr"), ("female", "en", "Ms"), (None, "en", "Mr/Ms"),
    ("other", "en", "Mr/Ms"),
])
def test_adults_are_addressed_by_gender(gender, lang, expected):
    assert honorific(gender, 1980, TODAY, lang) == expected


@pytest.mark.parametrize("birth_year", [1990, 2001, 1930])
def test_every_adult_age_is_ong_or_ba_not_anh_or_chi(birth_year):
    assert honorific("male", birth_year, TODAY, "vi") == "Ông"
    assert honorific("female", birth_year, TODAY, "vi") == "Bà"


@pytest.mark.parametrize("gender", ["male", "female", None])
def test_a_minor_is_em_in_vietnamese_and_has_no_honorific_in_english(gender):
    assert honorific(gender, 2010, TODAY, "vi") == "Em"
    assert honorific(gender, 2010, TODAY, "en") == ""


def test_age_is_the_age_reached_this_year():
    assert honorific("male", 2008, date(2026, 1, 1), "vi") == "Ông"  # 18 this year
    assert honorific("male", 2009, date(2026, 12, 31), "vi") == "Em"  # 17 this year


def test_an_unknown_birth_year_counts_as_adult():
    assert honorific("female", None, TODAY, "vi") == "Bà"


def test_a_regional_language_tag_uses_its_language():
    assert honorific("female", 1980, TODAY, "en-GB") == "Ms"


def test_a_minor_in_english_leaves_no_double_space():
    message = rendered("Dear {{ honorific }} {{ full_name }},", "en", birth_year=2012)

    assert message.text == "Dear Nguyễn Văn Thử,"


# Placeholders ------------------------------------------------------------------

EVERY_PLACEHOLDER = "\n".join(f"{name}=[{{{{ {name} }}}}]" for name in PLACEHOLDERS)


def test_every_placeholder_in_vietnamese(app_ctx):
    text = rendered(EVERY_PLACEHOLDER, "vi").text

    assert text.split("\n") == [
        "honorific=[Ông]", "full_name=[Nguyễn Văn Thử]", "given_name=[Thử]",
        "country=[Đức]", "city=[Berlin]", "occasion=[Tết Nguyên Đán]",
        "occasion_date=[17/02/2026]", "signature=[Sở Ngoại vụ tỉnh Thanh Hóa",
        "Giám đốc]",
    ]


def test_every_placeholder_in_english(app_ctx):
    text = rendered(EVERY_PLACEHOLDER, "en", gender="female").text

    assert text.split("\n") == [
        "honorific=[Ms]", "full_name=[Nguyễn Văn Thử]", "given_name=[Thử]",
        "country=[Germany]", "city=[Berlin]", "occasion=[Lunar New Year]",
        "occasion_date=[17 February 2026]", "signature=[Sở Ngoại vụ tỉnh Thanh Hóa",
        "Giám đốc]",
    ]


def test_the_country_is_named_in_the_recipients_language_not_the_officers(english):
    assert rendered("{{ country }}", "vi", country_code="JP").text == "Nhật Bản"


def test_an_occasion_named_in_one_language_is_used_for_all():
    occasion = {"name": "Quốc khánh", "date": date(2026, 9, 2)}

    message = render("x", "{{ occasion }} {{ occasion_date }}", recipient(), occasion,
                     "en", SIGNATURE, today=TODAY)

    assert message.text == "Quốc khánh 2 September 2026"


def test_case_filters_are_allowed():
    assert rendered("{{ full_name|upper }}").text == "NGUYỄN VĂN THỬ"


def test_if_leaves_out_a_value_the_recipient_lacks():
    body = "Kính gửi {{ honorific }} {{ full_name }}{% if city %} ({{ city }}){% endif %}"

    assert rendered(body, city=None).text == "Kính gửi Ông Nguyễn Văn Thử"
    assert rendered(body).text == "Kính gửi Ông Nguyễn Văn Thử (Berlin)"


def test_block_tags_on_their_own_lines_leave_no_blank_lines():
    body = "Dòng một\n{% if city %}\nTại {{ city }}\n{% endif %}\nDòng hai"

    assert rendered(body, city=None).text == "Dòng một\nDòng hai"
    assert rendered(body).text == "Dòng một\nTại Berlin\nDòng hai"


def test_recipient_from_person_reads_the_fields_render_needs():
    class Person:
        full_name, given_name, gender = "Lê Thị Mẫu", "Mẫu", "female"
        birth_year, country_code, city = 1990, "FR", "Lyon"

    assert rendering.recipient_from_person(Person()) == {
        "full_name": "Lê Thị Mẫu", "given_name": "Mẫu", "gender": "female",
        "birth_year": 1990, "country_code": "FR", "city": "Lyon"}


# Checking templates ------------------------------------------------------------

GOOD_BODY = ("Kính gửi {{ honorific }} {{ full_name }},\n\n"
             "Nhân dịp {{ occasion }} ({{ occasion_date }}), chúc {{ honorific }} "
             "và gia đình tại {{ country }}{% if city %}, {{ city }}{% endif %} "
             "mạnh khỏe.\n\n{{ signature }}")


def test_a_good_template_has_no_problems(app_ctx):
    assert check_template("Chúc mừng {{ occasion }}", GOOD_BODY) == []


def test_an_unknown_placeholder_is_refused_with_its_line(english):
    problems = check_template("Chúc mừng", "Kính gửi\n\n{{ nickname }},\n")

    assert [(p.part, p.line) for p in problems] == [(BODY, 3)]
    assert "Unknown placeholder {{ nickname }}" in problems[0].message


def test_an_unknown_placeholder_in_the_subject_is_refused(english):
    problems = check_template("Chúc {{ nick }}", GOOD_BODY)

    assert [(p.part, p.line) for p in problems] == [(SUBJECT, 1)]


def test_an_unknown_placeholder_inside_if_is_refused(english):
    problems = check_template("x", "a\nb\n{% if town %}x{% endif %}")

    assert [(p.line, "{{ town }}" in p.message) for p in problems] == [(3, True)]


def test_a_syntax_error_is_refused_with_its_line_and_reason(english):
    problems = check_template("Chúc mừng", "Kính gửi\n{{ full_name }\nx")

    assert [(p.part, p.line) for p in problems] == [(BODY, 2)]
    assert problems[0].message.startswith("This cannot be read: unexpected '}'")


def test_an_unclosed_if_is_a_syntax_error(english):
    problems = check_template("x", "{% if city %}\n{{ city }}\n")

    assert len(problems) == 1 and "cannot be read" in problems[0].message


def test_a_subject_of_two_lines_is_refused(english):
    problems = check_template("Chúc mừng\nBcc: x@example.com", GOOD_BODY)

    assert [(p.part, p.message) for p in problems] == [
        (SUBJECT, "The subject must be one line.")]


def test_an_empty_subject_or_body_is_refused(english):
    assert [p.part for p in check_template("  ", GOOD_BODY)] == [SUBJECT]
    assert [p.part for p in check_template("x", "\n\n")] == [BODY]


def test_problems_read_as_one_message(english):
    problems = check_template("x", "a\n{{ nickname }}")

    assert rendering.describe(problems).startswith("Body, line 2: Unknown placeholder")


def test_messages_follow_the_officers_language(app_ctx):
    with force_locale("vi"):
        vietnamese = check_template("x", "{{ nickname }}")[0].message
    with force_locale("en"):
        english = check_template("x", "{{ nickname }}")[0].message

    assert english.startswith("Unknown placeholder")
    assert "{{ nickname }}" in vietnamese  # whatever the catalogue says around it


# The sandbox -------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ full_name.__class__ }}",
    "{{ full_name['__class__'] }}",
    "{{ full_name.upper() }}",
    "{{ range(10) }}",
    "{{ lipsum() }}",
    "{{ full_name * 100000000 }}",
    "{{ 'x' }}",
    "{% for x in full_name %}{{ x }}{% endfor %}",
    "{% set a = 1 %}",
    "{% macro m() %}{% endmacro %}",
    "{% include 'x.html' %}",
    "{% if full_name == 'x' %}y{% endif %}",
    "{{ full_name|attr('__class__') }}",
    "{{ full_name|format(1) }}",
    "{{ full_name|upper(1) }}",
])
def test_anything_beyond_placeholders_and_if_is_refused(english, body):
    problems = check_template("Chúc mừng", "Dòng một\n" + body)

    assert problems and {p.line for p in problems} == {2}


def test_render_refuses_a_template_that_was_never_checked(english):
    with pytest.raises(RenderError) as refused:
        rendered("{{ ''.__class__.__mro__ }}")

    assert "Attributes and items cannot be used" in refused.value.problems[0].message


def test_the_sandbox_has_no_globals_to_reach():
    assert rendering._ENVIRONMENT.globals == {}
    assert set(rendering._ENVIRONMENT.filters) == set(rendering.FILTERS)


# Missing values ----------------------------------------------------------------

def test_a_missing_value_printed_fails_with_the_line_and_a_clear_reason(english):
    with pytest.raises(RenderError) as failed:
        rendered("Kính gửi\nTại {{ city }}", city=None)

    problem = failed.value.problems[0]
    assert (problem.part, problem.line) == (BODY, 2)
    assert problem.message.startswith("This recipient has no value for {{ city }}")
    assert "{% if city %}" in problem.message


def test_a_missing_value_in_a_filter_fails_too(english):
    with pytest.raises(RenderError) as failed:
        rendered("{{ city|upper }}", city="")

    assert "{{ city }}" in failed.value.problems[0].message


def test_a_missing_value_in_the_subject_names_the_subject(english):
    with pytest.raises(RenderError) as failed:
        rendered("x", subject="Gửi {{ given_name }}", given_name=None)

    assert failed.value.problems[0].part == SUBJECT
    assert failed.value.message.startswith("Subject, line 1:")


def test_a_render_error_is_bad_input_for_the_error_pages():
    from registry.core.errors import BadInput

    assert issubclass(RenderError, BadInput)


# Injection ---------------------------------------------------------------------

HEADER_INJECTION = "Trần Văn An\r\nBcc: x@example.com"


def test_a_name_with_line_breaks_stays_on_one_subject_line():
    message = rendered("x", subject="Chúc mừng {{ full_name }}",
                       full_name=HEADER_INJECTION)

    assert message.subject == "Chúc mừng Trần Văn An Bcc: x@example.com"
    assert "\r" not in message.subject and "\n" not in message.subject


def test_a_name_with_line_breaks_adds_no_header_to_the_email():
    message = rendered("Kính gửi {{ full_name }}", subject="Chúc {{ full_name }}",
                       full_name=HEADER_INJECTION)
    mail = EmailMessage()
    mail["To"] = "an@example.com"
    mail["Subject"] = message.subject
    mail.set_content(message.text)

    parsed = BytesParser(policy=SMTP).parsebytes(mail.as_bytes())

    assert parsed["Bcc"] is None
    assert sorted(parsed.keys()) == sorted(
        ["To", "Subject", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"])


@pytest.mark.parametrize("character", ["\n", "\r", "\x00", "\x85", "\u2028", "\u2029",
                                       "\x0b", "\x1b"])
def test_control_characters_become_spaces_in_values(character):
    value = rendered("{{ given_name }}", given_name=f"An{character}Bcc").text

    assert value == "An Bcc"


def test_bidirectional_overrides_are_removed_from_values():
    assert rendered("{{ given_name }}", given_name="An\u202eyxz").text == "Anyxz"


def test_markup_in_a_name_is_escaped_in_html_and_kept_as_text():
    message = rendered("Kính gửi {{ full_name }}",
                       full_name='<script>alert("x")</script> Lê & Co')

    assert "<script>" not in message.html
    assert message.html == ("<p>Kính gửi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
                            " Lê &amp; Co</p>")
    assert message.text == 'Kính gửi <script>alert("x")</script> Lê & Co'


def test_markup_typed_by_the_officer_shows_as_typed_in_html():
    message = rendered("Chúc mừng năm mới <3 <b>Tết</b>")

    assert message.html == "<p>Chúc mừng năm mới &lt;3 &lt;b&gt;Tết&lt;/b&gt;</p>"


def test_markup_in_the_signature_is_escaped_and_its_lines_kept():
    message = render("x", "{{ signature }}", recipient(), TET, "vi",
                     "Giám đốc\r\n<img src=x onerror=alert(1)>", today=TODAY)

    assert message.html == "<p>Giám đốc<br>\n&lt;img src=x onerror=alert(1)&gt;</p>"


def test_blank_lines_make_paragraphs_and_single_breaks_line_breaks():
    message = rendered("Kính gửi {{ full_name }},\n\nDòng một\nDòng hai\n\n\n\nHết")

    assert message.html == ("<p>Kính gửi Nguyễn Văn Thử,</p>\n"
                            "<p>Dòng một<br>\nDòng hai</p>\n<p>Hết</p>")
    assert message.text == "Kính gửi Nguyễn Văn Thử,\n\nDòng một\nDòng hai\n\nHết"


# Language choice ---------------------------------------------------------------

@pytest.mark.parametrize("preferred, available, expected", [
    ("en", ["vi", "en"], "en"),
    ("vi", ["vi", "en"], "vi"),
    ("fr", ["vi", "en"], "vi"),
    (None, ["vi", "en"], "vi"),
    ("", ["vi", "en"], "vi"),
    ("en", ["vi"], "vi"),
    ("en-US", ["vi", "en"], "en"),
    ("EN", ["vi", "en"], "en"),
    ("fr", ["en", "fr"], "fr"),
    ("ja", ["fr", "en"], "en"),  # no Vietnamese: the first in order
])
def test_the_recipients_language_is_chosen_if_the_template_has_it(
        preferred, available, expected):
    assert choose_language(preferred, available) == expected


def test_vietnam_today_is_a_date():
    assert isinstance(vietnam_today(), date)
