"""The reply to the possible-risk question, and the past framing of a lexicon phrase.

Both read data files a clinician reviews (data/knowledge/risk_check_answers.yml,
data/knowledge/risk_past_framing.yml); these tests pin what a person's words lead to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trd.knowledge import KnowledgeError
from trd.safety.history import load_past_framing
from trd.safety.risk_check import EVASIVE, NO, YES, load_answer_phrases


@pytest.mark.parametrize(
    ("reply", "reading"),
    [
        ("yes", YES),
        ("Yes, I am", YES),
        ("yeah", YES),
        ("y", YES),
        ("sí", YES),
        ("i do", YES),
        ("yeah sometimes", EVASIVE),
        ("sometimes", EVASIVE),
        ("I don't know", EVASIVE),
        ("idk", EVASIVE),
        ("i have no idea", EVASIVE),
        ("maybe", EVASIVE),
        ("kind of", EVASIVE),
        ("why does it matter", EVASIVE),
        ("I'd rather not say", EVASIVE),
        ("not right now", EVASIVE),  # leaves later open
        ("no", NO),
        ("No.", NO),
        ("nope!", NO),
        ("nah just tired", NO),
        ("no, not really, just exhausted", NO),
        ("I'm not", NO),
        ("i\u2019m fine", NO),
        ("not suicidal, just sad", NO),
        ("how long does lexapro take to work", None),
        ("", None),
        ("!!!", None),
    ],
)
def test_replies_are_read_as_a_clinician_would(reply: str, reading: object) -> None:
    assert load_answer_phrases().read(reply) == reading


def test_a_yes_word_later_in_a_sentence_is_not_a_yes() -> None:
    # "yes" only counts at the start; elsewhere it is no answer (asked once more)
    assert load_answer_phrases().read("the form says yes at the top") is None


def test_a_broken_answers_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "answers.yml"
    bad.write_text("version: 1\nevasive: []\n'yes': [a]\n'no': [b]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="answers.yml"):
        load_answer_phrases(bad)


@pytest.mark.parametrize(
    "text",
    [
        "when i was 22 i tried to hang myself. my housemate found me. im 38 now",
        "i had suicidal thoughts back then too, but not since",
        "I used to cut, not anymore",
        "in 2015 i wanted to die for months, i'm doing much better now",
        "i cut myself at 15, that was a long time ago",
        # the present said to be free of it, or told as depression without risk (stop 21)
        "burned my arms as a kid. long done with that. now i just feel numb most days",
        "i overdosed in 2012. these days my depression is more tiredness than anything",
        "self harmed at 16, it's not a thing for me anymore",
        "attempted in 2018. right now there's nothing like that, i just can't sleep",
        # a decade, a span of years, a school year, a time of life, someone else well now (stop 22)
        "my uncle tried to hang himself in the 70s. he's 80 now and plays bowls",
        "cut my legs 2009-2012, not since",
        "overdosed in year 11, it's all in my notes",
        "my cousin took pills sophomore year and she's doing great now",
        "wanted to die through most of my twenties. 44 now",
        "been self-harm free for six years",
        "my mum attempted after my dad left, 1998. she's happy now",
        "getting my old self-harm scars covered with a tattoo",
    ],
)
def test_history_is_about_the_past(text: str) -> None:
    assert load_past_framing().about_the_past(text)


@pytest.mark.parametrize(
    "text",
    [
        "i want to die",
        "I tried to kill myself in 2019 and I want to do it again",
        "years ago i planned it and i have the pills ready",
        "i used to self harm and lately i've started again",
        "i cut at 11 pm",  # a time, not an age
        "when i was a teen i wanted to die and i still do",
        "i attempted years ago and i'm going to try again tonight",
        "i attempted in 2015. i'm done with it all now",
        "cut myself as a teen and these days the urge is back",
        "in 2016 i overdosed, now i feel like doing it again",
        # recent, or still going on, or someone out of reach (stop 22)
        "i cut in year 9 and then again last night",
        "my brother attempted in 2020 and he just texted me goodbye",
        "she overdosed in 2021 and now she's not answering her phone",
        "i've wanted to die ever since 2019",
        "i tried in 2015 and a few days ago i bought the rope",
        "my daughter, 15 years old, is cutting herself",
    ],
)
def test_anything_that_could_be_now_is_not_history(text: str) -> None:
    assert not load_past_framing().about_the_past(text)


def test_a_broken_pattern_names_the_file_and_place(tmp_path: Path) -> None:
    bad = tmp_path / "past.yml"
    bad.write_text("version: 1\npast: ['(']\npresent: [now]\nbenign_present: [x]\nweak_present: [now]\n",
                   encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"past\.yml: past\[0\]"):
        load_past_framing(bad)


@pytest.mark.parametrize(
    ("reply", "reading"),
    [
        ("honestly i don't know", EVASIVE),
        ("not sure tbh, everything is such a mess right now", EVASIVE),
        ("my legs feel a bit heavy on the new dose today", None),
        ("the new job is sort of ok but my boss is a lot", None),
    ],
)
def test_an_unsure_phrase_answers_only_at_the_start_or_in_a_short_reply(reply: str, reading: object) -> None:
    # a person who goes on with what they were saying is asked once more, not given the crisis block
    assert load_answer_phrases().read(reply) == reading


@pytest.mark.parametrize(
    "reply",
    ["maybe i should get out more", "Maybe I could join a running club", "maybe we could talk about the meds",
     "i guess i need to find a hobby"],
)
def test_a_reply_that_opens_with_a_suggestion_is_not_unsure(reply: str) -> None:
    assert load_answer_phrases().read(reply) is None  # not an answer: asked once more


def test_a_suggestion_that_reads_as_risk_is_unsure_all_the_same() -> None:
    # the guard read the reply itself as possible risk: "maybe" is the unsure answer it looks like
    assert load_answer_phrases().read("maybe i should just disappear", flagged=True) == EVASIVE
    assert load_answer_phrases().read("maybe", flagged=False) == EVASIVE
    assert load_answer_phrases().read("i guess so") == EVASIVE
