"""The drug lexicon: generic names, brands, misspellings, class, mechanism, role and minimum dose.

Pure: `build_lexicon` turns the already-loaded contents of data/knowledge/drugs.yml into a
`Lexicon`; reading the file is the loader's job (loader.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

CLASS_VOCABULARY = frozenset(
    {
        "ssri",
        "snri",
        "ndri",
        "nri",
        "nassa",
        "serotonin_modulator",
        "azapirone",
        "tca",
        "tetracyclic",
        "maoi",
        "melatonergic",
        "atypical_antipsychotic",
        "mood_stabilizer",
        "thyroid",
        "glutamatergic",
        "neurosteroid",
        "stimulant",
        "dopamine_agonist",
        "psychedelic",
        # medicines that are not depression treatments (listed for interactions; role "other")
        "benzodiazepine",
        "opioid",
        "triptan",
        "antibiotic",
        "nsaid",
        "ace_inhibitor",
        "arb",
        "thiazide",
        "herbal",
        "cough_suppressant",
        "other",
    }
)
MECHANISM_VOCABULARY = frozenset({"monoamine", "glutamate", "gaba", "other"})
ROLE_VOCABULARY = frozenset({"antidepressant", "augmentation", "other"})
SLEEP_PAIN_USES = frozenset({"sleep", "pain"})

# Plain names of the classes, for reasons shown to people.
CLASS_LABELS: Mapping[str, str] = {
    "ssri": "SSRI",
    "snri": "SNRI",
    "ndri": "bupropion-type (NDRI)",
    "nri": "noradrenaline reuptake inhibitor",
    "nassa": "mirtazapine-type (NaSSA)",
    "serotonin_modulator": "serotonin modulator",
    "azapirone": "5-HT1A (azapirone)",
    "tca": "tricyclic (TCA)",
    "tetracyclic": "tetracyclic",
    "maoi": "MAOI",
    "melatonergic": "melatonergic",
    "atypical_antipsychotic": "atypical antipsychotic",
    "mood_stabilizer": "mood stabiliser",
    "thyroid": "thyroid hormone",
    "glutamatergic": "glutamate-acting",
    "neurosteroid": "neurosteroid",
    "stimulant": "stimulant",
    "dopamine_agonist": "dopamine agonist",
    "psychedelic": "psychedelic",
    "benzodiazepine": "benzodiazepine",
    "opioid": "opioid painkiller",
    "triptan": "triptan (migraine)",
    "antibiotic": "antibiotic",
    "nsaid": "anti-inflammatory painkiller (NSAID)",
    "ace_inhibitor": "ACE inhibitor",
    "arb": "angiotensin receptor blocker",
    "thiazide": "thiazide diuretic",
    "herbal": "herbal supplement",
    "cough_suppressant": "cough suppressant",
    "other": "other",
}

# Trailing words that name a formulation, a salt or a dose, not a different drug.
_FORM_TOKENS = frozenset(
    {
        "xr",
        "xl",
        "sr",
        "er",
        "cr",
        "ir",
        "la",
        "dr",
        "odt",
        "hcl",
        "hydrochloride",
        "hbr",
        "hydrobromide",
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "patch",
        "oral",
        "mg",
        "mcg",
        "daily",
    }
)
_DOSE_TOKEN = re.compile(r"\d+(?:[.,]\d+)?(?:mg|mcg|ug|µg)?")
_COMBINATION_SEPARATOR = re.compile(r"\s*(?:/|\+|&|\band\b|\bwith\b)\s*")


class KnowledgeError(ValueError):
    """A knowledge file (drugs.yml, treatments.yml, the schema) is malformed."""


def normalise_name(text: str) -> str:
    """Normalise a drug name for matching: case, punctuation, combination separators, formulation suffixes.

    "Wellbutrin XL" -> "wellbutrin", "Olanzapine/Fluoxetine" -> "olanzapine-fluoxetine",
    "sertraline 50mg" -> "sertraline".
    """
    s = unicodedata.normalize("NFKC", text).casefold().strip()
    s = s.replace("®", " ").replace("™", " ")
    s = _COMBINATION_SEPARATOR.sub("-", s)
    s = re.sub(r"[^\w\s.-]", " ", s)
    s = re.sub(r"\s*-\s*", "-", s)
    tokens = s.split()
    while len(tokens) > 1 and (tokens[-1] in _FORM_TOKENS or _DOSE_TOKEN.fullmatch(tokens[-1])):
        tokens.pop()
    return " ".join(tokens).strip("-. ")


@dataclass(frozen=True)
class SleepPainDose:
    """The low doses of a medicine that are used for sleep or pain, not for depression."""

    uses: Tuple[str, ...]
    max_mg: float
    source: str


@dataclass(frozen=True)
class DrugEntry:
    generic: str
    brands: Tuple[str, ...]
    aliases: Tuple[str, ...]
    misspellings: Tuple[str, ...]
    drug_class: str
    mechanism: str
    role: str
    min_dose_mg: Optional[float]
    min_dose_source: Optional[str]
    note: Optional[str] = None
    adequate_weeks: Optional[float] = None
    adequate_weeks_source: Optional[str] = None
    max_plausible_mg: Optional[float] = None
    sleep_pain_dose: Optional[SleepPainDose] = None
    interaction_classes: Tuple[str, ...] = ()

    def names(self) -> Tuple[str, ...]:
        """Every surface form of this drug: generic, brands, aliases, misspellings."""
        return (self.generic,) + self.brands + self.aliases + self.misspellings

    @property
    def display_name(self) -> str:
        return self.generic


class Lexicon:
    """Look drugs up by any name; the index refuses a name that points at two drugs."""

    def __init__(self, entries: Sequence[DrugEntry]) -> None:
        self._entries: Tuple[DrugEntry, ...] = tuple(entries)
        self._by_generic: Dict[str, DrugEntry] = {}
        self._index: Dict[str, DrugEntry] = {}
        for entry in self._entries:
            if entry.generic in self._by_generic:
                raise KnowledgeError(f"drugs.yml: generic name {entry.generic!r} appears twice")
            self._by_generic[entry.generic] = entry
        for entry in self._entries:
            for name in entry.names():
                key = normalise_name(name)
                if not key:
                    raise KnowledgeError(f"drugs.yml: {entry.generic}: empty name {name!r}")
                other = self._index.get(key)
                if other is not None and other.generic != entry.generic:
                    raise KnowledgeError(
                        f"drugs.yml: name {name!r} of {entry.generic} also names {other.generic}"
                    )
                self._index[key] = entry

    @property
    def entries(self) -> Tuple[DrugEntry, ...]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, name: str) -> Optional[DrugEntry]:
        """The entry a name refers to (generic, brand, alias or misspelling), or None."""
        return self._index.get(normalise_name(name))

    def get(self, generic: str) -> DrugEntry:
        return self._by_generic[generic]

    def surface_forms(self) -> Dict[str, str]:
        """Normalised surface form -> generic name, for the NLU drug recogniser."""
        return {key: entry.generic for key, entry in self._index.items()}


def _str_list(value: Any, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(f"{where}: must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _opt_number(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise KnowledgeError(f"{where}: must be a positive number or null")
    return float(value)


def _opt_text(value: Any, where: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: must be non-empty text or null")
    return value.strip()


def build_entry(raw: Mapping[str, Any], position: int) -> DrugEntry:
    where = f"drugs.yml: drugs[{position}]"
    if not isinstance(raw, Mapping):
        raise KnowledgeError(f"{where}: must be a mapping")
    generic = raw.get("generic")
    if not isinstance(generic, str) or not generic.strip() or generic != generic.strip().lower():
        raise KnowledgeError(f"{where}: generic must be a lowercase name")
    where = f"drugs.yml: {generic}"
    drug_class = raw.get("class")
    if drug_class not in CLASS_VOCABULARY:
        raise KnowledgeError(f"{where}: class {drug_class!r} is not one of {sorted(CLASS_VOCABULARY)}")
    mechanism = raw.get("mechanism")
    if mechanism not in MECHANISM_VOCABULARY:
        raise KnowledgeError(f"{where}: mechanism {mechanism!r} is not one of {sorted(MECHANISM_VOCABULARY)}")
    role = raw.get("role")
    if role not in ROLE_VOCABULARY:
        raise KnowledgeError(f"{where}: role {role!r} is not one of {sorted(ROLE_VOCABULARY)}")
    min_dose = _opt_number(raw.get("min_dose_mg"), f"{where}: min_dose_mg")
    source = _opt_text(raw.get("min_dose_source"), f"{where}: min_dose_source")
    note = _opt_text(raw.get("note"), f"{where}: note")
    if min_dose is not None and source is None:
        raise KnowledgeError(f"{where}: min_dose_mg needs a min_dose_source")
    if min_dose is None and note is None:
        raise KnowledgeError(f"{where}: min_dose_mg is null, so a note must say why")
    weeks = _opt_number(raw.get("adequate_weeks"), f"{where}: adequate_weeks")
    weeks_source = _opt_text(raw.get("adequate_weeks_source"), f"{where}: adequate_weeks_source")
    if weeks is not None and weeks_source is None:
        raise KnowledgeError(f"{where}: adequate_weeks needs an adequate_weeks_source")
    sleep_pain = raw.get("sleep_pain_dose")
    sleep_pain_dose: Optional[SleepPainDose] = None
    if sleep_pain is not None:
        if not isinstance(sleep_pain, Mapping):
            raise KnowledgeError(f"{where}: sleep_pain_dose must be a mapping")
        uses = _str_list(sleep_pain.get("uses"), f"{where}: sleep_pain_dose.uses")
        if not uses or not set(uses) <= SLEEP_PAIN_USES:
            raise KnowledgeError(f"{where}: sleep_pain_dose.uses must list sleep and/or pain")
        max_mg = _opt_number(sleep_pain.get("max_mg"), f"{where}: sleep_pain_dose.max_mg")
        pain_source = _opt_text(sleep_pain.get("source"), f"{where}: sleep_pain_dose.source")
        if max_mg is None or pain_source is None:
            raise KnowledgeError(f"{where}: sleep_pain_dose needs max_mg and a source")
        if min_dose is not None and max_mg >= min_dose:
            raise KnowledgeError(f"{where}: sleep_pain_dose.max_mg must be below min_dose_mg")
        sleep_pain_dose = SleepPainDose(uses, max_mg, pain_source)
    interaction_classes = _str_list(raw.get("interaction_classes"), f"{where}: interaction_classes")
    return DrugEntry(
        generic=generic,
        brands=_str_list(raw.get("brands"), f"{where}: brands"),
        aliases=_str_list(raw.get("aliases"), f"{where}: aliases"),
        misspellings=_str_list(raw.get("misspellings"), f"{where}: misspellings"),
        drug_class=drug_class,
        mechanism=mechanism,
        role=role,
        min_dose_mg=min_dose,
        min_dose_source=source,
        note=note,
        adequate_weeks=weeks,
        adequate_weeks_source=weeks_source,
        max_plausible_mg=_opt_number(raw.get("max_plausible_mg"), f"{where}: max_plausible_mg"),
        sleep_pain_dose=sleep_pain_dose,
        interaction_classes=interaction_classes,
    )


def build_lexicon(data: Any) -> Lexicon:
    """Build the lexicon from the parsed contents of drugs.yml; raises KnowledgeError when malformed."""
    if not isinstance(data, Mapping) or not isinstance(data.get("drugs"), list):
        raise KnowledgeError("drugs.yml: expected a mapping with a `drugs` list")
    entries: List[DrugEntry] = [build_entry(raw, i) for i, raw in enumerate(data["drugs"])]
    return Lexicon(entries)


def iter_names(lexicon: Lexicon) -> Iterable[Tuple[str, str]]:
    """(surface form as written, generic) for every name in the lexicon."""
    for entry in lexicon.entries:
        for name in entry.names():
            yield name, entry.generic
