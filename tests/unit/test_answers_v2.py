"""The answer kinds the intake's version 2 questions read (navigator.md section 10), through the
one registry: read(kind, text). Each table is what people type, and what the record needs."""

from __future__ import annotations

from typing import Any

import pytest

from trd.answers import INVALID, UNKNOWN, is_canonical, kinds, read
from trd.answers.current import apply_edits, current_readback
from trd.answers.medicines import locate_medicines, read_names
from trd.answers.person import age_years
from trd.answers.readback import readback

NONE4 = {"pregnant": False, "postpartum_within_year": False, "breastfeeding": False, "planning": False}


@pytest.mark.parametrize(
    "text, value",
    [
        ("45", {"years": 45}),
        ("I'm 45", {"years": 45}),
        ("forty-five", {"years": 45}),
        ("52 years old", {"years": 52}),
        ("in my 40s", {"min": 40, "max": 49}),
        ("early thirties", {"min": 30, "max": 33}),
        ("late 50s", {"min": 57, "max": 59}),
        ("60-69", {"min": 60, "max": 69}),
        ("between 40 and 50", {"min": 40, "max": 50}),
        ("over 65", {"min": 65, "max": None}),
        ("65+", {"min": 65, "max": None}),
        ("under 25", {"min": None, "max": 24}),
        ("rather not say", UNKNOWN),
        ("not sure", UNKNOWN),
        ("7", INVALID),
        ("200", INVALID),
        ("old enough", INVALID),
    ],
)
def test_age_a_number_or_a_range(text: str, value: Any) -> None:
    assert read("age", text).value == value


def test_a_range_of_ages_becomes_its_midpoint_or_lower_bound_with_a_note_saying_which() -> None:
    assert age_years({"years": 45}) == (45, None)
    assert age_years({"min": 40, "max": 49}) == (
        44,
        "age_years is the midpoint of the age range given (40-49)",
    )
    assert age_years({"min": 65, "max": None}) == (
        65,
        "age_years is the lower bound of the age given (65 or over)",
    )
    assert age_years({"min": None, "max": 24}) == (None, "age given only as under 25")


@pytest.mark.parametrize(
    "text, value",
    [
        ("None of these", NONE4),
        ("no", NONE4),
        ("doesn't apply", NONE4),
        ("I'm a man", NONE4),
        ("not that I know of", NONE4),
        ("I'm pregnant", {**NONE4, "pregnant": True}),
        ("planning a pregnancy", {**NONE4, "planning": True}),
        ("trying to get pregnant", {**NONE4, "planning": True}),
        ("Breastfeeding", {**NONE4, "breastfeeding": True}),
        (
            "had a baby 4 months ago and breastfeeding",
            {**NONE4, "postpartum_within_year": True, "breastfeeding": True},
        ),
        ("not pregnant but breastfeeding", {**NONE4, "breastfeeding": True}),
        ("yes", INVALID),  # which one?
        ("not sure", UNKNOWN),
    ],
)
def test_pregnancy_a_birth_in_the_past_year_breastfeeding_and_planning(text: str, value: Any) -> None:
    assert read("perinatal", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("None", 0.0),
        ("I don't drink", 0.0),
        ("about 10", 10.0),
        ("10 a week", 10.0),
        ("2 a day", 14.0),
        ("2-3 a week", 2.5),
        ("maybe 5 or 6", 5.5),
        ("4 a month", 0.9),
        ("twenty", 20.0),
        ("a few", INVALID),
        ("not sure", UNKNOWN),
    ],
)
def test_drinks_in_a_usual_week(text: str, value: Any) -> None:
    assert read("drinks_per_week", text).value == value


@pytest.mark.parametrize(
    "text, cannabis, other",
    [
        ("Neither", False, False),
        ("no", False, False),
        ("Cannabis", True, False),
        ("weed on weekends", True, False),
        ("Other drugs", False, True),
        ("cocaine sometimes", False, True),
        ("Both", True, True),
        ("cannabis but no other drugs", True, False),
        ("used to smoke weed", False, False),
    ],
)
def test_cannabis_and_other_drugs_now(text: str, cannabis: bool, other: bool) -> None:
    assert read("recreational_drugs", text).value == {"cannabis": cannabis, "other": other}


def test_a_bare_yes_to_drugs_is_asked_which() -> None:
    assert read("recreational_drugs", "yes").invalid
    assert read("recreational_drugs", "not sure").unknown


@pytest.mark.parametrize(
    "text, value",
    [
        ("Hearing or seeing things", {"perceptions": True, "fixed_beliefs": False}),
        ("Beliefs", {"perceptions": False, "fixed_beliefs": True}),
        ("Both", {"perceptions": True, "fixed_beliefs": True}),
        ("I hear voices", {"perceptions": True, "fixed_beliefs": False}),
        ("yes", INVALID),
        ("not sure", UNKNOWN),
    ],
)
def test_which_psychotic_feature(text: str, value: Any) -> None:
    assert read("psychosis_kind", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("Not lately", "none"),
        ("no", "none"),
        ("Wishing I wasn't here", "passive"),
        ("just wishing I could disappear", "passive"),
        ("More than that", "active"),
        ("I think about ending it", "active"),
        ("yes", INVALID),
        ("not sure", UNKNOWN),
    ],
)
def test_thoughts_now(text: str, value: Any) -> None:
    assert read("thoughts_now", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("Okay", True),
        ("sure", True),
        ("go ahead", True),
        ("Not now", False),
        ("no thanks", False),
        ("skip", False),
        ("not sure", False),
    ],
)
def test_whether_the_person_is_happy_to_be_asked(text: str, value: bool) -> None:
    assert read("go_ahead", text).value is value


@pytest.mark.parametrize(
    "text, value",
    [
        ("Depression", "depression"),
        ("for sleep", "sleep"),
        ("my back pain", "pain"),
        ("migraines", "pain"),
        ("mood and sleep", "depression"),
        ("anxiety", "other"),
        ("Something else", "other"),
        ("not sure", UNKNOWN),
        ("hmm", INVALID),
    ],
)
def test_what_a_medicine_was_for(text: str, value: Any) -> None:
    assert read("trial_purpose", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("Yes, same dose", True),
        ("I was still on it", True),
        ("No, I'd stopped or lowered it", False),
        ("it came back after I stopped", False),
        ("still on it but a lower dose", False),
        ("no", False),
        ("not sure", UNKNOWN),
    ],
)
def test_whether_it_came_back_while_still_taking_it(text: str, value: Any) -> None:
    assert read("relapse_while_taking", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("On its own", {"added_to": []}),
        ("no", {"added_to": []}),
        ("added to zoloft", {"added_to": ["sertraline"]}),
        ("with lexapro", {"added_to": ["escitalopram"]}),
        ("it replaced the prozac", {"added_to": []}),  # a switch, not an addition
        ("yes", INVALID),  # added to which?
        ("not sure", UNKNOWN),
    ],
)
def test_added_on_top_of_another_medicine(text: str, value: Any) -> None:
    assert read("added_to", text).value == value


def test_the_order_the_medicines_were_tried_in() -> None:
    assert read("trial_order", "In the order I named them").value == {"as_named": True}
    value = read("trial_order", "prozac, then zoloft, then lexapro").value
    assert [m["drug"] for m in value["order"]] == ["fluoxetine", "sertraline", "escitalopram"]
    value = read("trial_order", "lexapro, and before that zoloft").value
    assert [m["drug"] for m in value["order"]] == ["sertraline", "escitalopram"]
    assert read("trial_order", "all at the same time").unknown
    assert read("trial_order", "not sure").unknown


def test_a_list_of_names_says_whether_the_words_gave_an_order() -> None:
    assert "in_sequence" not in read_names("prozac then lexapro then abilify")
    assert "in_sequence" not in read_names("lexapro, and before that prozac")
    assert read_names("zoloft, lexapro and abilify")["in_sequence"] is False
    assert "in_sequence" not in read_names("sertraline")


def test_each_medicine_named_keeps_the_words_beside_it() -> None:
    located = locate_medicines("100mg sertraline and lithium 900 mg, flibberzine")
    assert [(item.mention.said, item.mention.generic) for item in located] == [
        ("sertraline", "sertraline"),
        ("lithium", "lithium"),
        ("flibberzine", None),
    ]
    assert located[0].before.strip() == "100mg" and located[1].after.strip() == "900 mg"


def test_everything_taken_now_several_in_one_message_with_doses() -> None:
    value = read(
        "current_medicines", "zoloft 50, lithium 900 mg twice a day and flibberzine 10 mg, omega 3"
    ).value
    assert value["none"] is False
    assert value["medicines"] == [
        {"drug": "sertraline", "dose_mg": 50.0, "name_given": "zoloft", "recognised": True},
        {"drug": "lithium", "dose_mg": 1800.0, "name_given": "lithium", "recognised": True},
        {"drug": "flibberzine", "dose_mg": 10.0, "name_given": "flibberzine", "recognised": False},
        # a number beside a name the lexicon does not know is not a dose without a unit
        {"drug": "omega", "dose_mg": None, "name_given": "omega", "recognised": False},
    ]
    assert read("current_medicines", "nothing else").value == {"medicines": [], "none": True}
    assert read("current_medicines", "not sure").unknown
    assert read("current_medicines", "hmm").invalid


def test_the_list_read_back_and_changed_by_what_the_person_says() -> None:
    items = read("current_medicines", "zoloft 50, lithium 900 mg, flibberzine").value["medicines"]
    assert current_readback(items) == (
        "- Zoloft (sertraline), 50 mg a day\n"
        "- lithium, 900 mg a day\n"
        "- flibberzine (a name I don't know, kept as you typed it), dose not given"
    )
    assert read("current_confirm", "Yes, that's everything").value is True
    assert read("current_confirm", "no").value == {"which": True}
    edits = read("current_confirm", "I stopped the lithium, sertraline is 100 mg and also bupropion").value[
        "edits"
    ]
    assert [(e["op"], e["drug"], e["dose_mg"]) for e in edits] == [
        ("remove", "lithium", None),
        ("set", "sertraline", 100.0),
        ("set", "bupropion", None),
    ]
    changed = apply_edits(items, edits)
    assert [(i["drug"], i["dose_mg"]) for i in changed] == [
        ("sertraline", 100.0),
        ("flibberzine", None),
        ("bupropion", None),
    ]


def test_a_trial_read_back_names_what_it_was_for_what_it_was_added_to_and_when_it_came_back() -> None:
    sleep = {
        "drug": "trazodone",
        "name_given": "trazodone",
        "purpose": "sleep",
        "max_dose_mg": 50.0,
        "still_taking": True,
    }
    assert readback(sleep) == "Trazodone, for sleep, up to 50 mg a day; still taking it."
    trial = {
        "drug": "bupropion",
        "name_given": "wellbutrin",
        "max_dose_mg": 300.0,
        "weeks_at_dose": 10,
        "adherence": "most_days",
        "outcome": "response_then_relapse",
        "relapse_while_taking": False,
        "side_effects": [],
        "still_taking": False,
        "added_to": "sertraline",
    }
    assert readback(trial) == (
        "Wellbutrin (bupropion), up to 300 mg a day for about 10 weeks, taken most days; improved, then it "
        "came back after stopping or lowering it; no side effects; not taking it now; "
        "added on top of sertraline."
    )


def test_every_new_kind_is_registered_with_a_canonical_check() -> None:
    new = {
        "age": {"years": 40},
        "perinatal": NONE4,
        "drinks_per_week": 3.0,
        "recreational_drugs": {"cannabis": False, "other": False},
        "psychosis_kind": {"perceptions": True, "fixed_beliefs": False},
        "thoughts_now": "passive",
        "go_ahead": True,
        "trial_purpose": "sleep",
        "relapse_while_taking": False,
        "added_to": {"added_to": []},
        "trial_order": {"as_named": True},
        "current_medicines": {"medicines": [], "none": True},
        "current_confirm": True,
    }
    assert set(new) <= set(kinds())
    for kind, value in new.items():
        assert is_canonical(kind, value), kind
        assert not is_canonical(kind, "raw text typed by the person"), kind


# --- mends after the blind set (tests/unit/test_answers_v2_blind.py): each a general gap, with
# examples of our own -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, text",
    [
        ("age", "I'd rather not share how old I am"),
        ("drinks_per_week", "not comfortable answering this"),
        ("recreational_drugs", "I don't want to go into that"),
        ("psychosis_kind", "prefer not to discuss it"),
        ("current_medicines", "I'd rather not say what I take"),
        ("perinatal", "no comment"),
        ("thoughts_now", "I don't want to talk about it"),
    ],
)
def test_declining_in_ones_own_words_is_a_skip(kind: str, text: str) -> None:
    assert read(kind, text).unknown


@pytest.mark.parametrize(
    "text, value",
    [
        ("I'd rather not be here", "passive"),  # not a decline: only verbs of telling are
        ("I would rather not wake up some days", "passive"),
    ],
)
def test_rather_not_about_living_is_never_read_as_a_skip(text: str, value: str) -> None:
    assert read("thoughts_now", text).value == value


def _meds(text: str) -> Any:
    value = read("current_medicines", text).value
    if not isinstance(value, dict):
        return value
    return [(m["drug"], m["dose_mg"], m["recognised"]) for m in value["medicines"]]


@pytest.mark.parametrize(
    "text, items",
    [
        # common medicines and supplements that are not depression treatments (other_medicines.yml)
        (
            "Lipitor 40, Glucophage 850 mg twice daily",
            [("atorvastatin", 40.0, True), ("metformin", 1700.0, True)],
        ),
        ("percocet and lyrica 75mg", [("oxycodone", None, True), ("pregabalin", 75.0, True)]),
        ("paracetamol, cod liver oil", [("acetaminophen", None, True), ("fish oil", None, True)]),
        (
            "nexplanon implant, zoloft 50",
            [("hormonal contraceptive", None, True), ("sertraline", 50.0, True)],
        ),
        # a name with an apostrophe, four words to the word pattern
        ("only saint john's wort tablets", [("st johns wort", None, True)]),
        # a dose in digits below one milligram, a dose said in the am or pm
        (
            "ativan .5 at bedtime, concerta 36 in the am",
            [("lorazepam", 0.5, True), ("methylphenidate", 36.0, True)],
        ),
        ("lorazepam 0.5mg", [("lorazepam", 0.5, True)]),
        # a dose with its unit said after a comma, before the next name
        (
            "naproxen if my knee flares, 500 mg I think, and lithium",
            [("naproxen", 500.0, True), ("lithium", None, True)],
        ),
        # a dose written after "daily" is still its dose
        ("citalopram 20mg daily and lisinopril", [("citalopram", 20.0, True), ("lisinopril", None, True)]),
        # what follows the end of a list is not a medicine
        ("lithium 400mg, that's all, the clinic checks my levels", [("lithium", 400.0, True)]),
        # what a medicine is for is not another medicine's name
        ("ibuprofen when my back aches", [("ibuprofen", None, True)]),
    ],
)
def test_everything_taken_now_more_names_and_doses(text: str, items: Any) -> None:
    assert _meds(text) == items


@pytest.mark.parametrize(
    "text",
    [
        "nothing at the moment, I came off them over the summer",
        "none atm",
        "I stopped all my meds last year",
        "not on anything now",
    ],
)
def test_nothing_taken_now_said_with_a_reason_or_a_time(text: str) -> None:
    assert read("current_medicines", text).value == {"medicines": [], "none": True}


@pytest.mark.parametrize(
    "text, value",
    [
        ("skip", UNKNOWN),  # never an unknown medicine called "skip"
        ("I really can't recall, there are loads", UNKNOWN),
        ("something for my thyroid and a water tablet", INVALID),  # described, not named: which?
        ("lexapro and the small pink one for my nerves", INVALID),
        ("sertraline and a pill for cholesterol, I forget its name", INVALID),
    ],
)
def test_a_medicine_described_but_not_named_is_asked_again_never_a_name(text: str, value: Any) -> None:
    assert read("current_medicines", text).value is value


def test_nothing_any_more_at_the_read_back_clears_the_list() -> None:
    items = read("current_medicines", "zoloft 50, lithium 900 mg").value["medicines"]
    for text in ("I stopped all of them", "none of those now", "I don't take any of them anymore"):
        value = read("current_confirm", text).value
        assert value == {"edits": [{"op": "clear"}]}, text
        assert apply_edits(items, value["edits"]) == []
    assert read("current_confirm", "none").invalid  # may mean "no changes": asked again
    assert read("current_confirm", "no").value == {"which": True}


@pytest.mark.parametrize(
    "text, value",
    [
        # said to say it has not gone further: passive, never active, never none
        ("I wish I could vanish but I'd never make a plan", "passive"),
        ("no real plan", "passive"),
        ("wishing it was over, I wouldn't act on them", "passive"),
        # gone further: a way, a method, means put by, "both", "further" said first
        ("further, I've been researching methods", "active"),
        ("I've googled how to do it", "active"),
        ("I keep tablets stashed in a drawer", "active"),
        ("I think about stepping in front of a train", "active"),
        ("both really", "active"),
        ("they got further a few days ago, calmer now", "active"),
        # not now
        ("they don't really happen these days", "none"),
        ("haven't had any in a while", "none"),
    ],
)
def test_thoughts_now_in_more_words(text: str, value: str) -> None:
    assert read("thoughts_now", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        # a baby's age said instead of "had a baby"; short forms of breastfeeding
        ("ebf my 9 week old", {**NONE4, "postpartum_within_year": True, "breastfeeding": True}),
        ("my daughter is 10 months now", {**NONE4, "postpartum_within_year": True}),
        ("had a little girl in spring", {**NONE4, "postpartum_within_year": True}),
        ("she is 14 months", INVALID),  # over a year, but "none" not said: asked again
        # stopped, intended, someone else's, lost: none of the four
        (
            "had my son in March, gave up breastfeeding after a month",
            {**NONE4, "postpartum_within_year": True},
        ),
        ("expecting in May, I want to breastfeed", {**NONE4, "pregnant": True}),
        ("my partner is expecting", NONE4),
        ("I lost the pregnancy in the autumn", NONE4),
        # planning in few words; a planned pregnancy is not a pregnancy
        ("no, but I am still trying", {**NONE4, "planning": True}),
        ("wanting to get pregnant soon", {**NONE4, "planning": True}),
        # none said with a reason
        ("had a hysterectomy, so none", NONE4),
        ("post-menopausal", NONE4),
        ("NA, I'm male", NONE4),
        # the list by position
        ("only the first one", {**NONE4, "pregnant": True}),
        ("the third", {**NONE4, "breastfeeding": True}),
    ],
)
def test_perinatal_in_more_words(text: str, value: Any) -> None:
    assert read("perinatal", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("uh 61 I think", {"years": 61}),
        ("turned 48 in the spring haha", {"years": 48}),
        ("somewhere around 70", {"years": 70}),
        ("thirty-something", {"min": 30, "max": 39}),
        ("like 50 something", {"min": 50, "max": 59}),
        ("I'll be 30 next week", {"years": 29}),  # a birthday to come: the age now is one less
        ("turning 66 in October", {"years": 65}),
        ("62 or 63, never sure", {"min": 62, "max": 63}),
        ("41, why do you ask?", {"years": 41}),
        ("41, and my partner is 43", INVALID),  # two numbers: which?
        ("27.5", INVALID),
        ("born in 1980", INVALID),
    ],
)
def test_age_in_more_words(text: str, value: Any) -> None:
    assert read("age", text).value == value


@pytest.mark.parametrize(
    "text, perceptions, beliefs",
    [
        ("I can taste metal in my food and nobody else can", True, False),
        ("smelling smoke that isn't there", True, False),
        ("feel hands on me at night", True, False),
        ("the 1st", True, False),
        ("the second one", False, True),
        ("sure my phone is being monitored", False, True),
        ("the radio sends me signals", False, True),
        ("I have a special mission from God", False, True),
        ("probably both", True, True),
    ],
)
def test_which_psychotic_feature_in_more_words(text: str, perceptions: bool, beliefs: bool) -> None:
    assert read("psychosis_kind", text).value == {"perceptions": perceptions, "fixed_beliefs": beliefs}


@pytest.mark.parametrize(
    "text, value",
    [
        ("I was lying awake for hours", "sleep"),
        ("kept waking up at night", "sleep"),
        ("dep", "depression"),
        ("mood stabiliser for bipolar", "other"),
        ("my schizophrenia", "other"),
        ("eczema itching at night", "other"),
        ("irritable bowel", "other"),
    ],
)
def test_what_a_medicine_was_for_in_more_words(text: str, value: str) -> None:
    assert read("trial_purpose", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("I never missed one, it just stopped working", True),
        ("was on it all along", True),
        ("I was weaning myself off", False),
        ("they'd cut me to half", False),
        ("my prescription ran out", False),
        ("on and off by then", UNKNOWN),  # taken on some days: still taking it is not clear
        ("I'd been skipping a lot of doses", UNKNOWN),
        ("kind of", UNKNOWN),
    ],
)
def test_whether_it_came_back_while_still_taking_it_in_more_words(text: str, value: Any) -> None:
    assert read("relapse_while_taking", text).value == value


@pytest.mark.parametrize(
    "text, cannabis, other",
    [
        ("dabbing most days", True, False),
        ("delta 9 edibles", True, False),
        ("doing lines at weekends", False, True),
        ("only wine and coffee", False, False),
        ("just CBD", False, False),  # no THC
        ("ketamine infusions at my clinic", False, False),  # prescribed
        ("ketamine, not prescribed", False, True),
        ("benzos from a dealer", False, True),
    ],
)
def test_cannabis_and_other_drugs_in_more_words(text: str, cannabis: bool, other: bool) -> None:
    assert read("recreational_drugs", text).value == {"cannabis": cannabis, "other": other}


def _order(text: str) -> Any:
    value = read("trial_order", text).value
    return [m.get("drug") for m in value["order"]] if isinstance(value, dict) and "order" in value else value


@pytest.mark.parametrize(
    "text, value",
    [
        ("same order as I typed them", {"as_named": True}),
        ("lexapro in 2021, prozac in 2012", ["fluoxetine", "escitalopram"]),  # a year beside each
        ("celexa is my current one, before that paxil", ["paroxetine", "citalopram"]),
        ("abilify most recently, cymbalta then remeron", ["duloxetine", "mirtazapine", "aripiprazole"]),
        ("zoloft, then effexor, prozac was the very first", ["fluoxetine", "sertraline", "venlafaxine"]),
        ("prozac and zoloft together, then lexapro", UNKNOWN),  # two at once: no strict order
        ("lexapro then zoloft, can't remember where abilify goes", UNKNOWN),
    ],
)
def test_the_order_in_more_words(text: str, value: Any) -> None:
    assert _order(text) == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("alone, I think", {"added_to": []}),  # never kept as a medicine called "alone"
        ("came off celexa and then started it", {"added_to": []}),  # a switch
        ("by itself at first, and later the doctor added abilify", {"added_to": []}),
        ("later they added lithium", INVALID),  # what was added to it: was it added to anything?
        ("on top of zoloft, then they added lithium", {"added_to": ["sertraline"]}),
    ],
)
def test_added_on_top_of_another_medicine_in_more_words(text: str, value: Any) -> None:
    assert read("added_to", text).value == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("sober since 2019", 0.0),  # not drinking now, said with how long
        ("gave up alcohol two years ago", 0.0),
        ("quit drinking but have a glass at christmas", INVALID),  # how often is not weekly: asked
        ("a cider every night", 7.0),  # "a" is one
        ("a pint on a friday night", 1.0),
        ("a glass of wine", INVALID),  # how often?
        ("a 4-pack on fridays and saturdays", 8.0),  # two days named
        ("a bottle of wine most nights", 25.0),  # a bottle is about 5 standard drinks, most nights 5
        ("3 a week, sometimes 5", 4.0),
    ],
)
def test_drinks_in_more_words(text: str, value: Any) -> None:
    assert read("drinks_per_week", text).value == value
