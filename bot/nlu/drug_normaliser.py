"""Rasa component: the value of every `drug` entity becomes its lowercase generic name.

Runs after ``SpacyEntityExtractor``, which reports the text as typed ("Zoloft",
"lexapro XR", "welbutrin"). The spaCy pipeline (bot/nlu/drug_pipeline.py)
already knows the generic of each span: the entity ruler's pattern id and the
fuzzy matcher's span id (``ent.ent_id_``). This component reads it from the
spaCy doc that ``SpacyNLP`` made for the message, or, if the offsets do not
line up, by running the pipeline on the entity text alone.

``drug`` entities from any other extractor (DIETClassifier learns the label
from the annotated training examples) are dropped: the lexicon pipeline is the
one recogniser of medicines, measured by scripts/eval_drugs.py, and a drug the
lexicon cannot name as a generic is of no use to the intake record. Entities
of other types pass through untouched.

Importing this module also registers the spaCy factory of the fuzzy matcher
(``import bot.nlu.drug_pipeline``). Rasa imports the class of every component
in the model's graph before it creates any of them, so the factory exists by
the time ``SpacyNLP`` calls ``spacy.load`` on ``build/nlu/spacy_drugs``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

import bot.nlu.drug_pipeline as drug_pipeline  # noqa: F401  (registers the spaCy factory)

SPACY_EXTRACTOR = SpacyEntityExtractor.__name__
PROCESSORS = "processors"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False, model_from="SpacyNLP"
)
class DrugNormaliser(GraphComponent, EntityExtractorMixin):
    """Rewrites `drug` entity values to generic names and drops drug guesses of other extractors."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP, SpacyEntityExtractor]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"entity": drug_pipeline.LABEL}

    def __init__(self, config: Dict[str, Any]) -> None:
        self._entity = str(config.get("entity") or drug_pipeline.LABEL)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DrugNormaliser:
        return cls({**cls.get_default_config(), **config})

    @staticmethod
    def required_packages() -> List[str]:
        return ["spacy"]

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            if not any(e.get(ENTITY_ATTRIBUTE_TYPE) == self._entity for e in entities):
                continue
            message.set(ENTITIES, self.normalise(entities, message, model), add_to_output=True)
        return messages

    def normalise(self, entities: List[Dict[str, Any]], message: Message, model: SpacyModel) -> List[Dict]:
        doc = message.get(SPACY_DOCS[TEXT])
        by_offsets = {}
        if doc is not None:
            by_offsets = {
                (ent.start_char, ent.end_char): ent.ent_id_
                for ent in doc.ents
                if ent.label_ == self._entity and ent.ent_id_
            }
        out: List[Dict[str, Any]] = []
        for entity in entities:
            if entity.get(ENTITY_ATTRIBUTE_TYPE) != self._entity:
                out.append(entity)
                continue
            if entity.get(EXTRACTOR) != SPACY_EXTRACTOR:
                continue
            key = (entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END))
            value = str(entity.get(ENTITY_ATTRIBUTE_VALUE, ""))
            generic = by_offsets.get(key) or self._generic_of(value, model)
            if not generic:
                continue
            normalised = dict(entity)
            normalised[ENTITY_ATTRIBUTE_VALUE] = generic
            normalised[PROCESSORS] = list(entity.get(PROCESSORS) or []) + [self.__class__.__name__]
            out.append(normalised)
        return out

    def _generic_of(self, text: str, model: SpacyModel) -> Optional[str]:
        ents = [e for e in model.model(text).ents if e.label_ == self._entity and e.ent_id_]
        return ents[0].ent_id_ if len(ents) == 1 else None
