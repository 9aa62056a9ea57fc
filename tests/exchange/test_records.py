"""What every format reader shares: placeholders partners write for "no value" count as blank."""

import pytest

from providers.exchange.records import blank_placeholder


@pytest.mark.parametrize(
    "text",
    [
        "N/A", "n/a", "NA", "n.a.", "#N/A", "-", "--", "—", "–", "?",
        "none", "None", "NULL", "nil", "unknown", "Unknown", "not applicable", "TBD",
        "http://", "https://", "HTTP://", "http://www.", "www.",
    ],
)  # fmt: skip
def test_a_placeholder_is_blank(text):
    assert blank_placeholder(text) == ""


@pytest.mark.parametrize(
    "text",
    ["", "Nairobi", "http://example.com", "https://na.example.org", "-5", "Nana's House", "NA Meetings", "0", "no"],
)
def test_a_value_is_kept_as_it_is(text):
    assert blank_placeholder(text) == text


@pytest.mark.parametrize(("field_name", "text"), [("country", "NA"), ("languages", "na")])
def test_na_is_a_code_where_the_value_is_a_code(field_name, text):
    assert blank_placeholder(text, field_name) == text


@pytest.mark.parametrize("field_name", ["name", "city", "phone", "email", "website", ""])
def test_na_is_a_placeholder_in_any_other_field(field_name):
    assert blank_placeholder("NA", field_name) == ""


def test_other_placeholders_are_blank_in_code_fields_too():
    assert blank_placeholder("N/A", "country") == ""
