"""Validate an intake record against intake.schema.json (JSON Schema Draft 2020-12).

An invalid record raises `IntakeValidationError`, whose message names the field path
(for example ``trials[0].max_dose_mg``). No I/O here: the loader reads the schema file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Mapping, Sequence, Tuple, Union

import jsonschema

from .lexicon import KnowledgeError

PathPart = Union[str, int]


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class IntakeValidationError(ValueError):
    """The intake record does not match the schema. `.field` is the first offending field path."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        if not errors:
            raise ValueError("IntakeValidationError needs at least one error")
        self.errors: Tuple[FieldError, ...] = tuple(errors)
        self.field = self.errors[0].field
        lines = [f"invalid intake record: field {e.field}: {e.message}" for e in self.errors]
        super().__init__("\n".join(lines))


def format_path(parts: Iterable[PathPart]) -> str:
    """["trials", 0, "drug"] -> "trials[0].drug"; the empty path is "(record)"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(record)"


def _error_path(error: Any) -> List[PathPart]:
    path: List[PathPart] = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(str(missing[0]))
    return path


def _non_finite(value: Any, path: List[PathPart]) -> Iterator[List[PathPart]]:
    """JSON Schema accepts NaN and Infinity as numbers; the navigator cannot compare them."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, path + [str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, path + [index])


class IntakeValidator:
    """A compiled Draft 2020-12 validator for the intake schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise KnowledgeError(f"intake.schema.json is not a valid JSON Schema: {exc.message}") from exc
        self.schema = schema
        self._validator = jsonschema.Draft202012Validator(schema)

    def errors(self, record: Any) -> List[FieldError]:
        found = []
        for error in self._validator.iter_errors(record):
            path = _error_path(error)
            found.append((path, FieldError(format_path(path), error.message)))
        for path in _non_finite(record, []):
            found.append((path, FieldError(format_path(path), "must be a finite number")))
        found.sort(key=lambda item: [str(p).zfill(8) if isinstance(p, int) else p for p in item[0]])
        return [error for _, error in found]

    def validate(self, record: Any) -> None:
        errors = self.errors(record)
        if errors:
            raise IntakeValidationError(errors)


def validate_intake(record: Any, validator: IntakeValidator) -> None:
    """Raise IntakeValidationError (naming the field) if `record` does not match the schema."""
    validator.validate(record)
