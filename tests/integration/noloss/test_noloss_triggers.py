"""No message lost, none run twice: each queue trigger kind across a SIGKILL of the
platform.

For nats, rabbitmq, redis, mqtt and kafka: 1,000 numbered messages, ``flowapp up`` with a
one-step app reading them (tests/fixtures/noloss/record), killed with SIGKILL once 200
executions exist, started again with the same data dir. In the end there is exactly one
completed execution per message, and the broker has nothing left to deliver. A second
test makes the broker deliver every message again after a restart: none starts another
execution. (scenario.py has the steps; docs/noloss.md the guarantee and its limits.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.noloss.brokers import Broker
from tests.integration.noloss.launcher import FlowappUp
from tests.integration.noloss.projects import RECORD, app_name, project
from tests.integration.noloss.scenario import crash_and_recover, numbers, replay_after_restart

MESSAGES = 1000


@pytest.mark.slow
@pytest.mark.timeout(100)
async def test_every_message_runs_exactly_once_across_a_crash(
    broker: Broker, launch: Callable[[Path], FlowappUp], tmp_path: Path
) -> None:
    folder = project(RECORD, tmp_path / "app", broker.trigger())
    report = await crash_and_recover(broker, launch(folder), app_name(folder), count=MESSAGES)
    print(report.summary())

    assert 0 < report.existed_at_kill < MESSAGES, "the kill came while it was consuming"
    assert Counter(e["status"] for e in report.executions) == {"completed": MESSAGES}
    assert numbers(report.executions) == Counter(range(MESSAGES)), "one execution per message"
    assert report.leftover == 0, "the broker still had messages to deliver"


@pytest.mark.slow
@pytest.mark.timeout(100)
async def test_a_message_delivered_again_starts_no_second_execution(
    replayable: Broker, launch: Callable[[Path], FlowappUp], tmp_path: Path
) -> None:
    folder = project(RECORD, tmp_path / "app", replayable.trigger())
    executions = await replay_after_restart(replayable, launch(folder), app_name(folder), count=200)

    assert Counter(e["status"] for e in executions) == {"completed": 201}
    assert numbers(executions) == Counter(range(201))
