"""One restart of the shared stack's Rasa server for every test that needs a restart.

A Rasa server takes a minute or more to start, so the tests that check what survives a
restart of the shared stack do not restart it one by one. Each such test is written as a
scenario, a generator that does everything before the restart, yields once where the
server restarts, and checks everything after. ``RestartedStack`` runs every scenario up
to its ``yield``, restarts the Rasa server once, and each test then ``finish``es its own
scenario (a failure before the restart fails the fixture, and so every test using it).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, Mapping

from tests.support.servers import Stack

Scenario = Callable[[Stack], Iterator[None]]


def finish(scenario: Iterator[None]) -> None:
    """Run a scenario from its restart point to its end."""
    for _ in scenario:
        raise AssertionError("a restart scenario yields once, where the server restarts")


class RestartedStack:
    def __init__(self, stack: Stack, scenarios: Mapping[str, Scenario]) -> None:
        self.stack = stack
        self._running: Dict[str, Iterator[None]] = {}
        for name, scenario in scenarios.items():
            running = scenario(stack)
            next(running)  # up to the restart
            self._running[name] = running
        stack.restart_rasa()

    def finish(self, name: str) -> None:
        finish(self._running.pop(name))
