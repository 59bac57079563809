"""Costs of Rasa 3.6 removed without changing what it does: one per turn, one per start.

**Per turn.** After every call to the action server, Rasa checks the response with
``jsonschema.validate(response, RemoteAction.action_response_format_spec())``.
``jsonschema.validate`` first checks the *schema* against the JSON Schema
meta-schema, on every call; on this project's intake that was about a sixth of
the Rasa server's CPU time per turn. :func:`install` makes Rasa check each
response against a validator built (and the schema checked) once. Responses are
validated exactly as before, with the same error and message when one is
invalid.

**Per start.** To load a trained DIET classifier or response selector, Rasa builds the model by
*training* it for one step on an example (``RasaModel.load``: ``compile`` and ``fit``), which
traces the whole training graph, gradients and optimizer included, and then overwrites every
weight with the trained ones. That was about 55 s of CPU for this project's two models: most
of a server's start, which is how long a restarted server leaves people without a reply.
:func:`install` builds the model the way prediction uses it instead: one prediction on the
example, run eagerly (every weight prediction reads is created), then the trained weights,
then the prediction graph is traced once, as Rasa does. The optimizer's state in the weights
file is not needed to predict and is left unread; if any weight the prediction uses has no
trained value in the file, the model is loaded Rasa's way instead (logged). Loading for
fine-tuning (``rasa train --finetune``) and models set to run eagerly keep Rasa's own path.
Every intent ranking, entity and response-selector score is the same as with Rasa's load:
``python -m bench.model_load`` loads the trained model both ways, compares them and prints the times;
tests/unit/test_rasa_speedups.py checks that the server takes this path for both models
and reads the training examples as trained.

Installed by the Rasa server's entry point, ``python -m bot run ...`` (bot/__main__.py,
used by scripts/run.sh and the test servers), before Rasa starts; importing any other
module changes nothing. Plain ``rasa run`` works without it, a little more slowly.
Tested against the pinned Rasa version in tests/unit/test_rasa_speedups.py.
"""

from __future__ import annotations

import logging
from typing import Any, Dict

_MARK = "_trd_cached_validator"
_LOAD_MARK = "_trd_load_by_predicting"
LOADED_BY_PREDICTING = "every weight restored"
logger = logging.getLogger(__name__)
INVALID_RESPONSE_HINT = (
    ". Failed to validate Action server response from API, "
    "make sure your response from the Action endpoint is valid. "
    "For more information about the format visit "
)


def install() -> None:
    """Both speed-ups (idempotent)."""
    install_cached_validator()
    install_fast_model_load()


def install_fast_model_load() -> None:
    """Swap ``RasaModel.load`` for one that builds the model by predicting, not training (idempotent)."""
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.load.__func__
    if getattr(original, _LOAD_MARK, False):
        return

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        def rasas_way() -> Any:
            return original(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )

        config = kwargs.get("config") or {}
        if finetune_mode or predict_data_example is None or config.get(RUN_EAGERLY):
            return rasas_way()
        model = cls(*args, **kwargs)
        model._run_eagerly = True  # build the weights without tracing a graph that is thrown away
        try:
            model.run_inference(predict_data_example)
        finally:
            model._run_eagerly = config.get(RUN_EAGERLY)
        status = model.load_weights(model_file_name)
        try:
            # every weight the prediction created has its trained value, or Rasa's own way
            status.assert_existing_objects_matched()
        except (AssertionError, AttributeError) as exc:
            logger.warning("model load: %s; loading the model Rasa's way", exc)
            return rasas_way()
        status.expect_partial()  # the optimizer's slots: prediction has no optimizer
        # what was prepared for prediction from the untrained weights (the label embeddings)
        # is prepared again from the trained ones, and the prediction graph traced once
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(predict_data_example)
        logger.info("model load: %s built by predicting (%s)", cls.__name__, LOADED_BY_PREDICTING)
        return model

    setattr(load, _LOAD_MARK, True)
    RasaModel.load = classmethod(load)


def install_cached_validator() -> None:
    """Swap ``RemoteAction._validate_action_result`` for one with a cached validator (idempotent)."""
    from jsonschema import exceptions
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, _MARK, False):
        return
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += f"{INVALID_RESPONSE_HINT}{DOCS_BASE_URL}/custom-actions"
        raise error

    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result
