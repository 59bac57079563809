"""Time zones for check-ins: a guess from a US area code, and reading what a person types.

The guess (``data/checkins/us_area_codes.yml``) is only a guess: the assistant shows it
and asks the person to confirm or correct it before the first check-in is scheduled.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, available_timezones

import yaml

from trd.paths import REPO_ROOT

AREA_CODES_FILE = REPO_ROOT / "data" / "checkins" / "us_area_codes.yml"


class AreaCodeData:
    def __init__(self, codes: Mapping[str, str], labels: Mapping[str, str]) -> None:
        self.codes = dict(codes)  # "212" -> "America/New_York"
        self.labels = dict(labels)  # "America/New_York" -> "Eastern time"


def load_area_codes(path: Path = AREA_CODES_FILE) -> AreaCodeData:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ValueError(f"{path}: expected version 1")
    labels = {str(k): str(v) for k, v in (data.get("zones") or {}).items()}
    codes: Dict[str, str] = {}
    for state, entry in (data.get("states") or {}).items():
        zone = str(entry["zone"])
        if zone not in labels:
            raise ValueError(f"{path}: {state} names a zone without a label: {zone}")
        ZoneInfo(zone)  # raises for a name the system does not know
        for code in entry["codes"]:
            key = str(code)
            if not re.fullmatch(r"[2-9][0-9]{2}", key):
                raise ValueError(f"{path}: {state}: {key!r} is not an area code")
            if key in codes and codes[key] != zone:
                raise ValueError(f"{path}: area code {key} is listed twice with different zones")
            codes[key] = zone
    return AreaCodeData(codes, labels)


@functools.lru_cache(maxsize=1)
def default_area_codes() -> AreaCodeData:
    return load_area_codes()


def area_code(phone: str) -> Optional[str]:
    """The area code of a North American number (+1 NXX ...), else None."""
    digits = re.sub(r"\D", "", phone or "")
    if phone.strip().startswith("+") and not digits.startswith("1"):
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        return None
    return digits[:3]


def zone_for_phone(phone: str, data: Optional[AreaCodeData] = None) -> Optional[str]:
    """The IANA zone most people with this number's US area code live in; None if unknown."""
    code = area_code(phone)
    if code is None:
        return None
    return (data or default_area_codes()).codes.get(code)


def zone_label(zone: str, data: Optional[AreaCodeData] = None) -> str:
    """Words for a zone: "Eastern time", or the IANA name with spaces ("Europe/London" -> "London time")."""
    labels = (data or default_area_codes()).labels
    if zone in labels:
        return labels[zone]
    if zone in ("UTC", "Etc/UTC"):
        return "UTC"
    return zone.split("/")[-1].replace("_", " ") + " time"


# What people type, folded to lowercase words -> an IANA zone.
_WORDS: Tuple[Tuple[str, str], ...] = (
    (
        r"eastern|east coast|\bet\b|\best\b|\bedt\b|new york|boston|atlanta|miami|detroit|philadelphia|"
        r"washington dc|\bdc\b|ohio|florida|georgia",
        "America/New_York",
    ),
    (r"central|\bct\b|\bcst\b|\bcdt\b|chicago|texas|houston|dallas|midwest", "America/Chicago"),
    (r"arizona|phoenix", "America/Phoenix"),
    (r"mountain|\bmt\b|\bmst\b|\bmdt\b|denver|colorado|utah|salt lake", "America/Denver"),
    (
        r"pacific|west coast|\bpt\b|\bpst\b|\bpdt\b|california|los angeles|seattle|oregon|san francisco",
        "America/Los_Angeles",
    ),
    (r"alaska|\bakst\b|anchorage", "America/Anchorage"),
    (r"hawaii|\bhst\b|honolulu", "Pacific/Honolulu"),
    (r"puerto rico|atlantic", "America/Puerto_Rico"),
    (r"\butc\b|\bgmt\b|greenwich", "UTC"),
)


_LEGACY = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Chile/", "Brazil/", "posix/", "right/")


@functools.lru_cache(maxsize=1)
def _iana_names() -> Dict[str, str]:
    names: Dict[str, str] = {}
    for name in available_timezones():
        names[name.lower()] = name
        last = name.split("/")[-1].replace("_", " ").lower()
        if "/" in name and not name.startswith(_LEGACY):
            names.setdefault(last, name)
    return names


def parse_zone(text: str) -> Optional[str]:
    """An IANA zone from "eastern", "PST", "I'm in Chicago", "Europe/London" or "London"; else None."""
    if not isinstance(text, str):
        return None
    raw = text.strip()
    if not raw or len(raw) > 200:
        return None
    names = _iana_names()
    if "/" in raw:
        exact = names.get(raw.lower().replace(" ", "_"))
        if exact:
            return exact
    folded = " ".join(re.sub(r"[^a-z0-9/_ ]+", " ", raw.lower()).split())
    for pattern, zone in _WORDS:
        if re.search(pattern, folded):
            return zone
    for word in re.findall(r"[a-z][a-z_/]+(?: [a-z]+)?", folded):
        for candidate in (word, word.split(" ")[0]):
            hit = names.get(candidate) or names.get(candidate.replace(" ", "_"))
            if hit:
                return hit
    return None
