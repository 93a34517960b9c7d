"""The OUI/NON reply parser: accents, case, extra words, wrong or missing codes (properties)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from app.waitlist.replies import OfferReply, parse_offer_reply

codes = st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}")
yes_words = st.sampled_from(["OUI", "oui", "Oui", "ouï", "OUÍ", "oUi", "ok", "D'accord", "ouais"])
no_words = st.sampled_from(["NON", "non", "Non", "nön", "NÔN", "no"])
# Extra words with neither a yes/no word nor digits (accents and punctuation welcome).
filler = st.lists(
    st.sampled_from(
        ["merci", "beaucoup", "!", "svp", "c'est", "parfait", "à", "très", "bien", "."]
    ),
    max_size=4,
)


def _say(words: list[str], layout: int) -> str:
    joiners = [" ", "  ", "\n", " , "]
    return joiners[layout % len(joiners)].join(words)


@given(yes_words, codes, filler, filler, st.integers(0, 3), st.booleans())
def test_yes_with_its_code_is_an_acceptance(word, code, before, after, layout, code_first):
    words = [*before, code, word, *after] if code_first else [*before, word, code, *after]
    assert parse_offer_reply(_say(words, layout)) == OfferReply(accept=True, code=code)


@given(no_words, codes, filler, st.integers(0, 3))
def test_no_with_its_code_is_a_refusal(word, code, after, layout):
    assert parse_offer_reply(_say([word, code, *after], layout)) == OfferReply(False, code)


@given(yes_words, codes)
def test_the_code_may_be_glued_to_the_word_and_case_does_not_matter(word, code):
    assert parse_offer_reply(f"{word}{code}") == OfferReply(True, code)
    assert parse_offer_reply(f"{word.swapcase()} {code}") == OfferReply(True, code)


@given(yes_words, codes)
def test_accents_decomposed_or_composed_read_the_same(word, code):
    nfd = unicodedata.normalize("NFD", f"{word} {code}")
    assert parse_offer_reply(nfd) == parse_offer_reply(unicodedata.normalize("NFC", nfd))


@given(yes_words, no_words, codes)
def test_yes_and_no_together_is_not_an_answer(yes, no, code):
    assert parse_offer_reply(f"{yes} {no} {code}") is None


@given(yes_words, filler)
def test_without_a_code_it_is_not_an_answer(word, extra):
    assert parse_offer_reply(_say([word, *extra], 0)) is None


@given(yes_words, st.integers(min_value=0, max_value=999), st.integers(min_value=10000))
def test_a_code_of_another_length_is_not_a_code(word, short, long):
    assert parse_offer_reply(f"{word} {short}") is None
    assert parse_offer_reply(f"{word} {long}") is None


@given(yes_words, codes, codes)
def test_two_different_codes_are_not_an_answer(word, first, second):
    expected = OfferReply(True, first) if first == second else None
    assert parse_offer_reply(f"{word} {first} {second}") == expected


@given(st.text(max_size=80))
def test_any_text_parses_without_error(body):
    reply = parse_offer_reply(body)
    assert reply is None or (len(reply.code) == 4 and reply.code.isdigit())


def test_annuler_and_stop_are_left_to_messaging():
    for body in ("ANNULER", "STOP", "annuler 1234", "Bonjour, je serai en retard"):
        assert parse_offer_reply(body) is None
