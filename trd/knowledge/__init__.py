"""The knowledge files (data/knowledge/*.yml, trd/summary/wording.yml): one loader per file.

Each loader reads its file with strict YAML (a name given twice is an error), checks it
against a JSON schema (errors name the file and the place), returns typed data and
caches it per process (reloaded when the file changes):

* :mod:`trd.knowledge.crisis_resources`: ``load_crisis_resources``
* :mod:`trd.knowledge.risk_lexicon`: ``read_risk_lexicon`` (compiled by :mod:`trd.safety.risk`)
* :mod:`trd.knowledge.intake_questions`: ``read_intake_questions`` (built by :mod:`trd.intake.questions`)
* :mod:`trd.knowledge.treatment_info`: ``load_treatment_info``, ``load_treatment_phrasings``
* :mod:`trd.knowledge.wording`: ``load_wording``
* drugs.yml and treatments.yml: :mod:`trd.navigator.loader` (``trd.knowledge.navigator`` re-exports it)
"""

from trd.knowledge._base import KnowledgeError

__all__ = ["KnowledgeError"]
