"""What every knowledge loader shares: strict YAML, a JSON schema check with clear errors, a cache."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Tuple, TypeVar

import jsonschema
import yaml

T = TypeVar("T")


class KnowledgeError(ValueError):
    """A knowledge file cannot be read or does not match its schema (the message names the place)."""


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Dict[Any, Any]:
    seen: Dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"the name {key!r} is given twice",
                key_node.start_mark,
            )
        seen[key] = True
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """The parsed file; a missing file, invalid YAML or a duplicate key is a KnowledgeError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path} is not valid YAML: {exc}") from exc


def _where(error: jsonschema.ValidationError) -> str:
    parts: List[str] = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part)))
    return "".join(parts) or "the top level"


def check(data: Any, schema: Mapping[str, Any], path: Path | str) -> None:
    """Raise KnowledgeError naming the file and the place of the first schema violation."""
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        best = jsonschema.exceptions.best_match(errors) or errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise KnowledgeError(f"{path}: {_where(best)}: {best.message}{more}")


def read_checked(path: Path, schema: Mapping[str, Any]) -> Any:
    data = read_yaml(path)
    check(data, schema, path)
    return data


def _stamp(path: Path) -> Tuple[str, int, int]:
    p = Path(path).resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return str(p), st.st_mtime_ns, st.st_size


def cached_loader(build: Callable[[Path], T]) -> Callable[[Path], T]:
    """``build(path)``, cached per file and reloaded when the file changes (its mtime or size)."""

    @functools.lru_cache(maxsize=16)
    def _cached(resolved: str, mtime_ns: int, size: int) -> T:
        return build(Path(resolved))

    @functools.wraps(build)
    def load(path: Path) -> T:
        return _cached(*_stamp(path))

    load.cache_clear = _cached.cache_clear  # type: ignore[attr-defined]
    return load


NON_EMPTY_TEXT: Dict[str, Any] = {"type": "string", "pattern": r"\S"}
