"""`python -m trd.navigator INTAKE.json` (or `-` for stdin): print the navigator's result as JSON.

Exit status: 0 on success; 2 when the file cannot be read, is not JSON, or does not match the
intake schema (the message on stderr names the field); 1 when the knowledge files are broken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, List, Optional

from .lexicon import KnowledgeError
from .loader import load_knowledge
from .rules import navigate
from .validation import IntakeValidationError

EXIT_INPUT = 2
EXIT_KNOWLEDGE = 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _read(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
        where = "standard input"
    else:
        with open(source, "rb") as handle:
            data = handle.read()
        where = source
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trd.navigator",
        description="Sort an intake record into the five layers and print the result as JSON.",
    )
    parser.add_argument("intake", help="path to an intake record (JSON), or - for standard input")
    args = parser.parse_args(argv)
    name = "standard input" if args.intake == "-" else args.intake

    try:
        text = _read(args.intake)
    except OSError as exc:
        print(f"error: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    try:
        record = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        print(
            f"error: {name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            file=sys.stderr,
        )
        return EXIT_INPUT
    except (ValueError, RecursionError) as exc:
        print(f"error: {name} is not valid JSON: {exc}", file=sys.stderr)
        return EXIT_INPUT

    try:
        knowledge = load_knowledge()
    except KnowledgeError as exc:
        print(f"error: knowledge files are broken: {exc}", file=sys.stderr)
        return EXIT_KNOWLEDGE
    try:
        result = navigate(record, knowledge)
    except IntakeValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    output = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
