"""Finding and checking the e-mail address in a visitor's message."""

from __future__ import annotations

import pytest

from bot.supporters.emails import NOT_FOUND, find_email, normalise_email


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("bob@example.com", "bob@example.com"),
        ("Bob@Example.COM", "bob@example.com"),
        ("my email is Bob@Example.com please", "bob@example.com"),
        ("It's bob@example.com.", "bob@example.com"),
        ("(bob@example.com), thanks!", "bob@example.com"),
        ("<bob.smith+news@mail.ijm.ca>", "bob.smith+news@mail.ijm.ca"),
        ("josé.müller@exemple.ca", "josé.müller@exemple.ca"),
        ("write to BOB@BÜCHER.CH", "bob@bücher.ch"),
        ("not this@ one, bob@example.com", "bob@example.com"),
        ("priya.raman @ outlook.com", "priya.raman@outlook.com"),  # spaces around the @ only
        ("bob@ example.com", "bob@example.com"),
    ],
)
def test_an_address_is_found_and_normalised(text, email):
    found = find_email(text)
    assert (found.email, found.reason) == (email, None)
    assert found.valid


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", NOT_FOUND),
        ("   ", NOT_FOUND),
        ("yes please sign me up", NOT_FOUND),
        ("bob.example.com", "it needs an @ sign"),
        ("my email is bobexample.com", "it needs an @ sign"),
        ("bob@@example.com", "exactly one @ sign"),
        ("bob@ex@ample.com", "exactly one @ sign"),
        ("bob@example", "needs a dot"),
        ("bob@example.", "needs a dot"),
        ("bob@example.c", "too short"),
        ("bob@localhost", "needs a dot"),
        ("bob @ example", "can't contain spaces"),
        ("bob..smith@example.com", "dot in the wrong place"),
        ("@example.com", "something before the @"),
        ("bob@", "domain after the @"),
        ("a" * 288 + "@example.com", "too long"),
        ("<script>@x.com", "characters an e-mail address can't have"),
        ("<script>alert(1)</script>@x.com", "characters an e-mail address can't have"),
        ("bob@exa_mple.com", "characters an e-mail address can't have"),
    ],
)
def test_a_bad_address_gets_a_plain_reason(text, reason):
    found = find_email(text)
    assert found.email is None
    assert not found.valid
    assert reason in found.reason
    # Fit to show a visitor: plain words, none of the library's jargon.
    assert "@-sign" not in found.reason


def test_the_300_character_address_is_refused_and_nothing_of_it_is_echoed():
    found = find_email("x" * 150 + "@" + "y" * 146 + ".com")
    assert found.email is None
    assert "x" * 10 not in found.reason


def test_normalise_refuses_what_find_would_refuse():
    assert normalise_email("  Bob@Example.com ") == "bob@example.com"
    with pytest.raises(ValueError, match="not a valid e-mail address"):
        normalise_email("bob@example")
