"""Load a trained model and print what its NLU makes of some messages, as JSON (one process).

    python -m tests.support.parse_with_model MODEL fast|rasa OUT.json < messages.json

``fast``: with bot.rasa_speedups' model load (what ``python -m bot run`` installs); ``rasa``:
with Rasa's own. tests/unit/test_rasa_speedups.py compares the two.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any, Dict, List


def main(argv: List[str]) -> int:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    model, how, out = argv
    if how == "fast":
        from bot import rasa_speedups

        rasa_speedups.install_fast_model_load()
    from rasa.core.agent import load_agent

    texts = json.load(sys.stdin)

    async def run() -> Dict[str, Any]:
        started = time.monotonic()
        agent = await load_agent(model_path=model)
        seconds = time.monotonic() - started
        parsed = []
        for text in texts:
            data = await agent.parse_message(text)
            parsed.append({key: data.get(key) for key in ("intent", "intent_ranking", "entities",
                                                            "response_selector")})
        return {"load_seconds": seconds, "parsed": parsed}

    with open(out, "w", encoding="utf-8") as handle:  # not stdout: Rasa logs there
        json.dump(asyncio.run(run()), handle, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
