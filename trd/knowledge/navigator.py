"""drugs.yml, treatments.yml and navigator_wording.yml: their one loader is trd.navigator.loader.

Re-exported here so every knowledge file's loader can be found under trd.knowledge.
"""

from trd.navigator.loader import (  # noqa: F401
    default_knowledge,
    default_wording,
    load_knowledge,
    load_lexicon,
    load_schema,
    load_wording,
)

__all__ = [
    "default_knowledge",
    "default_wording",
    "load_knowledge",
    "load_lexicon",
    "load_schema",
    "load_wording",
]
