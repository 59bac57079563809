"""The navigator: pure rules that sort an intake record into the five layers of the TRD decision tree.

Public API (see README.md in this folder):

    from trd.navigator import default_knowledge, navigate, IntakeValidationError

    knowledge = default_knowledge()            # reads data/knowledge/*.yml and the schema once
    result = navigate(record, knowledge)       # validates, then applies the rules
    data = result.to_dict()                    # JSON-ready dict (navigator.md section 9)

`evaluate(record, lexicon, treatments)` applies the rules to an already-validated record.
"""

from .knowledge import LAYER_IDS, Knowledge, Treatments, build_treatments
from .lexicon import DrugEntry, KnowledgeError, Lexicon, build_lexicon, normalise_name
from .loader import default_knowledge, load_knowledge, load_lexicon
from .model import ADEQUACY_VALUES, FLAG_VOCABULARY, STATUSES, NavigatorResult
from .rules import assess_trial, evaluate, navigate
from .validation import FieldError, IntakeValidationError, IntakeValidator, validate_intake

__all__ = [
    "ADEQUACY_VALUES",
    "FLAG_VOCABULARY",
    "LAYER_IDS",
    "STATUSES",
    "DrugEntry",
    "FieldError",
    "IntakeValidationError",
    "IntakeValidator",
    "Knowledge",
    "KnowledgeError",
    "Lexicon",
    "NavigatorResult",
    "Treatments",
    "assess_trial",
    "build_lexicon",
    "build_treatments",
    "default_knowledge",
    "evaluate",
    "load_knowledge",
    "load_lexicon",
    "navigate",
    "normalise_name",
    "validate_intake",
]
