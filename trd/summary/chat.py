"""The short chat message at the end of the intake (web chat and SMS alike).

Safety first when the navigator flags urgency; then which layers look worked
through and which are open, two or three questions worth asking (and why), the
link to the full summary, and always the reminder that this is educational, not
an emergency service, with the crisis lines from crisis_resources.yml. Plain
ASCII and at most ``chat.max_chars`` characters, so an SMS stays short.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trd.navigator import Knowledge, default_knowledge
from trd.summary.resources import fill, resources
from trd.summary.wording import default_wording

LAYER_STATUS_ORDER = ("worked_through", "partly", "open", "not_yet")
# Attempts, best first: (how many questions, with their "why"?).
_FITS = ((3, True), (2, True), (2, False), (1, True), (1, False), (0, False))


def _ascii(text: str) -> str:
    """Typographic characters as plain ASCII (an SMS with one curly quote costs twice as much)."""
    table = {
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
        "\u2026": "...", "\u00a0": " ", "\u2011": "-",
    }
    out = "".join(table.get(ch, ch) for ch in text)
    return out.encode("ascii", "replace").decode("ascii")


def days_text(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _finding_prefixes(knowledge: Knowledge) -> Dict[str, str]:
    """Each finding's question as a fixed prefix (the text before its first placeholder)."""
    out = {}
    for finding, template in knowledge.treatments.finding_questions.items():
        prefix = template.text.split("{", 1)[0]
        if prefix:
            out[finding] = prefix
    return out


def pick_questions(
    result: Mapping[str, Any],
    wording: Optional[Mapping[str, Any]] = None,
    knowledge: Optional[Knowledge] = None,
    limit: int = 3,
) -> List[Tuple[str, str]]:
    """The (question, why) pairs most worth bringing, best first.

    The navigator's personal questions in the wording's priority order (an urgent one
    first), then, if fewer than two apply, general ones from the navigator's list. With
    urgency, the safety-plan question is always among them.
    """
    words = wording if wording is not None else default_wording()
    know = knowledge or default_knowledge()
    questions = [str(q) for q in result.get("questions") or []]
    prefixes = _finding_prefixes(know)
    urgent = bool((result.get("urgency") or {}).get("urgent"))
    picked: List[Tuple[str, str]] = []
    taken: set = set()
    for finding in words["question_priority"]:
        prefix = prefixes.get(finding)
        if prefix is None:
            continue
        for question in questions:
            if question not in taken and question.startswith(prefix):
                picked.append((question, str(words["question_why"].get(finding) or "")))
                taken.add(question)
                break
    general = [
        (str(g["text"]), str(g.get("why") or ""))
        for g in words["general_questions"]
        if str(g["text"]) in questions and str(g["text"]) not in taken
    ]
    if urgent and not any("safety plan" in q.lower() for q, _ in picked):
        safety = [g for g in general if "safety plan" in g[0].lower()]
        if safety:
            picked = picked[:1] + safety[:1] + picked[1:]
            general = [g for g in general if g not in safety]
    while len(picked) < 2 and general:
        picked.append(general.pop(0))
    return picked[:limit]


def _one_trial(result: Mapping[str, Any]) -> str:
    """The one failed full trial's name when the navigator says one_adequate_trial, else ""."""
    failed = [str(n) for n in (result.get("counts") or {}).get("failed_adequate_names") or []]
    return failed[0] if "one_adequate_trial" in (result.get("flags") or []) and failed else ""


def _layer_lines(result: Mapping[str, Any], words: Mapping[str, Any]) -> List[str]:
    grouped: Dict[str, List[str]] = {status: [] for status in LAYER_STATUS_ORDER}
    for layer in result.get("layers") or []:
        status = str(layer.get("status") or "open")
        name = words["layer_short"].get(str(layer.get("id"))) or str(layer.get("title") or layer.get("id"))
        grouped.setdefault(status, []).append(str(name))
    lines = []
    one = _one_trial(result)
    for status in LAYER_STATUS_ORDER:
        if grouped.get(status):
            template = words["chat"]["status_lines"][status]
            if status == "not_yet" and one:
                template = words["chat"]["not_yet_one_trial"]
            values = {"layers": "; ".join(grouped[status]), "name": one}
            lines.append(fill(template, values, f"status_lines.{status}"))
    return lines


def _v2_lines(result: Mapping[str, Any], words: Mapping[str, Any]) -> List[str]:
    """navigator.md section 10 in plain words: one adequate trial so far, every interaction with its pair,
    and the staging (approximate, from self-report)."""
    chat = words["chat"]
    lines: List[str] = []
    one = _one_trial(result)
    not_yet = any(layer.get("status") == "not_yet" for layer in result.get("layers") or [])
    if one and not not_yet:  # with a "not yet" layer, its line says it already
        lines.append(fill(chat["one_adequate_trial"], {"name": one}, "chat.one_adequate_trial"))
    pairs = [
        f"{i.get('a')} + {i.get('b')}" for i in result.get("interactions") or [] if isinstance(i, Mapping)
    ]
    if pairs:
        lines.append(fill(chat["interactions"], {"pairs": "; ".join(pairs)}, "chat.interactions"))
    staging = result.get("staging")
    if isinstance(staging, Mapping):
        msm = staging.get("maudsley") or {}
        low, high = msm.get("total_min"), msm.get("total_max")
        total = str(low) if low == high else f"{low}-{high}"
        values = {
            "total": total,
            "band": str(msm.get("band") or ""),
            "stage": str(staging.get("thase_rush") or ""),
        }
        lines.append(fill(chat["staging"], values, "chat.staging"))
    return lines


def _compose(
    head: Sequence[str],
    questions: Sequence[Tuple[str, str]],
    with_why: bool,
    tail: Sequence[str],
    words: Mapping[str, Any],
) -> str:
    lines = list(head)
    if questions:
        lines.append(words["chat"]["questions_intro"])
        for n, (question, why) in enumerate(questions, 1):
            if with_why and why:
                lines.append(
                    fill(words["chat"]["question_with_why"], {"n": str(n), "question": question, "why": why})
                )
            else:
                lines.append(fill(words["chat"]["question"], {"n": str(n), "question": question}))
    lines.extend(tail)
    return _ascii("\n".join(lines))


def chat_message(
    result: Mapping[str, Any],
    link: Optional[str],
    ttl_days: int = 7,
    complete: bool = True,
    wording: Optional[Mapping[str, Any]] = None,
    crisis_resources: Optional[Mapping[str, str]] = None,
    knowledge: Optional[Knowledge] = None,
) -> str:
    """The chat message for a navigator result; ``link`` None when no link could be made."""
    words = wording if wording is not None else default_wording()
    res = resources(crisis_resources)
    chat = words["chat"]
    urgent = bool((result.get("urgency") or {}).get("show_crisis_resources"))
    head: List[str] = []
    if urgent:
        head.append(fill(chat["urgent_first"], res, "chat.urgent_first"))
    head.append(chat["intro_complete"] if complete else chat["intro_partial"])
    head.extend(_layer_lines(result, words))
    extra = _v2_lines(result, words)
    head.extend(extra)
    follow_up = result.get("follow_up")
    if isinstance(follow_up, Mapping) and follow_up.get("points"):
        # The weekly check-ins, simply (#12; the clinician page draws the chart).
        from trd.summary.chart import trend_words

        head.append(f"Your weekly PHQ-9 totals: {trend_words(follow_up)} (lower means fewer symptoms).")
    tail: List[str] = []
    if link:
        tail.append(fill(chat["link_intro"], {"days": days_text(ttl_days)}, "chat.link_intro"))
        tail.append(link)
    else:
        tail.append(chat["no_link"])
    tail.append(fill(chat["footer"], res, "chat.footer"))
    questions = pick_questions(result, words, knowledge)
    limit = int(chat.get("max_chars") or 1100)
    message = ""
    for count, with_why in _FITS:
        message = _compose(head, questions[:count], with_why, tail, words)
        if len(message) <= limit:
            break
    staging = extra[-1:] if isinstance(result.get("staging"), Mapping) else []
    if count < min(2, len(questions)) and staging:
        # Fewer than two questions fit: the staging (also on the full page) gives way to them.
        head = [line for line in head if line not in staging]
        for count, with_why in _FITS:
            message = _compose(head, questions[:count], with_why, tail, words)
            if len(message) <= limit:
                break
    return message
