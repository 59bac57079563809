"""Play whole turns of the real dialogue in-process: no model, no server, no classifier.

The latest message's NLU result is given by the test (any intent, any entities), so a
test states exactly what a classifier said and never depends on a trained model. The
rest is this project's real dialogue layer, as the Rasa server runs it:

* the real ``domain.yml`` (with the retrieval intent the NLU data declares);
* Rasa's ``action_extract_slots`` with the domain's slot mappings;
* the policies of ``config.yml``, in its order and with its settings (the SafetyPolicy,
  the FreeTextAnswerPolicy, a MemoizationPolicy and a RulePolicy trained on ``data/rules``
  and ``data/stories``: memorisation only, a second or two),
  combined by Rasa's own ensemble;
* Rasa's own actions (forms, responses, action_deactivate_loop...), and the action
  server's actions run in-process through a stand-in for the action endpoint (a
  rasa_sdk ``ActionExecutor``), with whatever repositories the test gives them.

A turn is played the way ``rasa.core.processor.MessageProcessor`` plays it: log the
message, extract slots, then predict and run actions until ``action_listen``.
"""

from __future__ import annotations

import asyncio
import glob
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Type

import yaml
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, action_for_name_or_text
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, BotUttered, Event, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]
RETRIEVAL_INTENTS = ("treatment_info",)

logger = logging.getLogger(__name__)


def load_domain() -> Domain:
    """domain.yml plus what Rasa's importer adds from the NLU data (the retrieval intent)."""
    domain = Domain.load(str(ROOT / "domain.yml"))
    retrieval = Domain.from_dict(
        {
            "intents": [{name: {"is_retrieval_intent": True}} for name in RETRIEVAL_INTENTS],
            "actions": [f"utter_{name}" for name in RETRIEVAL_INTENTS],
        }
    )
    return domain.merge(retrieval)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "in-process-dialogue")


def _policy_class(name: str) -> Type[Policy]:
    if "." in name:
        module, _, attr = name.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    return {"MemoizationPolicy": MemoizationPolicy, "RulePolicy": RulePolicy}[name]


def train_policies(domain: Domain, tmp: Path) -> List[Policy]:
    """The policies of config.yml, in its order and with its settings, trained on
    data/rules and data/stories (memorisation only; no classifier, no TED)."""
    steps = []
    for folder in ("rules", "stories"):
        for path in sorted(glob.glob(str(ROOT / "data" / folder / "*.yml"))):
            steps += YAMLStoryReader(domain, source_name=path).read_from_file(path)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    policies: List[Policy] = []
    for index, entry in enumerate(config.get("policies") or []):
        settings = {k: v for k, v in entry.items() if k != "name"}
        cls = _policy_class(entry["name"])
        where = tmp / f"{index}-{cls.__name__}"
        where.mkdir(parents=True, exist_ok=True)
        policy = cls.create(
            {**cls.get_default_config(), **settings},
            LocalModelStorage(where),
            Resource(cls.__name__),
            _context(),
        )
        policy.train(trackers, domain)
        policies.append(policy)
    return policies


def stub_action(action_name: str) -> Any:
    """A rasa_sdk action that does nothing (for actions a test does not look at)."""
    from rasa_sdk import Action

    class _Stub(Action):
        def name(self) -> str:
            return action_name

        async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> List[Any]:
            return []

    return _Stub()


class InProcessActionEndpoint:
    """Stands in for the action server's EndpointConfig: runs rasa_sdk actions in-process."""

    def __init__(self, actions: Iterable[Any]) -> None:
        self.executor = ActionExecutor()
        for action in actions:
            self.executor.register_action(action)
        self.url = "in-process"
        self.kwargs: Dict[str, Any] = {}

    async def request(self, json: Optional[Dict[str, Any]] = None, **_: Any) -> Dict[str, Any]:
        result = await self.executor.run(json or {})
        return result or {"events": [], "responses": []}


@dataclass
class Turn:
    actions: List[str] = field(default_factory=list)
    events: List[Event] = field(default_factory=list)

    @property
    def texts(self) -> List[str]:
        """What the bot said in this turn."""
        return [e.text or "" for e in self.events if isinstance(e, BotUttered)]


class Dialogue:
    """One conversation played through the real dialogue layer."""

    def __init__(
        self,
        domain: Domain,
        policies: Sequence[Policy],
        endpoint: InProcessActionEndpoint,
        sender: str = "person",
        prelude: Sequence[Event] = (),
    ) -> None:
        self.domain = domain
        self.policies = list(policies)
        self.endpoint = endpoint
        self.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        self.tracker = DialogueStateTracker.from_events(
            sender, [*prelude, ActionExecuted(ACTION_LISTEN_NAME)], domain.slots
        )

    def say(
        self,
        text: str,
        intent: str,
        confidence: float = 0.9,
        entities: Optional[List[Dict[str, Any]]] = None,
        limit: int = 12,
    ) -> Turn:
        return asyncio.run(self._say(text, intent, confidence, entities or [], limit))

    async def _say(
        self, text: str, intent: str, confidence: float, entities: List[Dict[str, Any]], limit: int
    ) -> Turn:
        output = CollectingOutputChannel()
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        self.tracker.update(UserUttered(text, parse["intent"], entities, parse_data=parse), self.domain)
        extract = ActionExtractSlots(self.endpoint)
        for event in await extract.run(output, self.nlg, self.tracker, self.domain):
            self.tracker.update(event, self.domain)
        turn = Turn()
        ensemble = DefaultPolicyPredictionEnsemble()
        for _ in range(limit):
            predictions = [p.predict_action_probabilities(self.tracker, self.domain) for p in self.policies]
            prediction = ensemble.combine_predictions(predictions, self.tracker, self.domain)
            name = self.domain.action_names_or_texts[prediction.max_confidence_index]
            action = action_for_name_or_text(name, self.domain, self.endpoint)
            try:
                events: List[Event] = await action.run(output, self.nlg, self.tracker, self.domain)
            except ActionExecutionRejection:
                self.tracker.update_with_events(prediction.events, self.domain)
                rejected = ActionExecutionRejected(name, prediction.policy_name, prediction.max_confidence)
                self.tracker.update(rejected, self.domain)
                turn.actions.append(f"{name}:rejected")
                continue
            rejected_manually = any(isinstance(e, ActionExecutionRejected) for e in events)
            if not rejected_manually:  # as MessageProcessor._log_action_on_tracker
                self.tracker.update_with_events(prediction.events, self.domain)
                self.tracker.update(
                    ActionExecuted(name, prediction.policy_name, prediction.max_confidence), self.domain
                )
            for event in events:
                self.tracker.update(event, self.domain)
            turn.events.extend(events)
            turn.actions.append(f"{name}:rejected" if rejected_manually else name)
            if name == ACTION_LISTEN_NAME:
                break
        return turn

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)
