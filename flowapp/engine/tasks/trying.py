"""``try``/``catch``: filter errors, retry with backoff, or fall back to ``catch.do``.

When a task inside ``try`` faults, the error is *caught* if it matches ``errors.with``
(types compared leniently), ``when`` holds and ``exceptWhen`` does not, each evaluated
on the try's input with the error bound as ``$<as>`` (default ``$error``). Then:
1. if a retry policy allows another attempt, the ``try`` list runs again after the delay;
2. otherwise, if ``catch.do`` exists, it runs on the try's input and its output is the
   try's output;
3. otherwise, if a retry policy was given (and is exhausted), the error is raised again;
4. otherwise the error is swallowed and the try's output is its input.

Retry delays: ``constant`` = delay, ``linear`` = delay x n, ``exponential`` = delay x 2^(n-1)
for the n-th retry, plus a jitter drawn from ``[from, to]``. ``limit.attempt.count`` is the
largest number of retries; ``limit.duration`` bounds the time since the first attempt
started; ``limit.attempt.duration`` interrupts an attempt that runs longer (a timeout
error, which the same catch may retry).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.expressions import Expression, ExpressionError, truthy
from flowapp.dsl.model import Catch, RetryPolicy, TryTask
from flowapp.engine.machine import Machine, TaskFault, expression_error
from flowapp.engine.state import Effect, Frame
from flowapp.engine.tasks.base import TaskHandler, advance, begin


def retry_delay(policy: RetryPolicy, retry_number: int, seed: str) -> float:
    """Seconds to wait before the ``retry_number``-th retry (1-based)."""
    base = policy.delay
    if policy.backoff == "linear":
        delay = base * retry_number
    elif policy.backoff == "exponential":
        delay = base * 2 ** (retry_number - 1)
    else:
        delay = base
    if policy.jitter is not None:
        low, high = policy.jitter
        digest = hashlib.blake2b(f"{seed}#{retry_number}".encode(), digest_size=4).digest()
        delay += low + (high - low) * int.from_bytes(digest, "big") / 2**32
    return delay


class TryHandler(TaskHandler):
    def start(self, m: Machine, task: TryTask, frame: Frame) -> None:
        frame.data.update(attempt=frame.attempt, retries=0, first_started=m.now)
        self.run_attempt(m, task, frame)

    def run_attempt(self, m: Machine, task: TryTask, frame: Frame) -> None:
        frame.data["phase"] = "try"
        policy = task.catch.retry
        if policy is not None and policy.attempt_duration is not None:
            frame.data["attempt_timer"] = m.start_timer(
                frame, policy.attempt_duration, "attempt-timeout"
            )
        if not begin(m, frame, task.tasks, frame.input):
            m.complete(frame, frame.input)

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        task = self.task(m, frame)
        if frame.data["phase"] == "catch":
            catch_tasks = task.catch.tasks
            assert catch_tasks is not None
            if not advance(m, frame, catch_tasks, output, then, vars=frame.data["vars"]):
                m.complete(frame, output)
        elif not advance(m, frame, task.tasks, output, then):
            m.complete(frame, output)

    def on_child_faulted(
        self, m: Machine, frame: Frame, child: Frame, error: dict[str, Any]
    ) -> None:
        if frame.data["phase"] != "try":
            m.fault(frame, error)
            return
        self.handle(m, self.task(m, frame), frame, error)

    def on_timer(self, m: Machine, frame: Frame, effect: Effect) -> None:
        task = self.task(m, frame)
        if effect.purpose == "retry":
            self.run_attempt(m, task, frame)
        elif effect.purpose == "attempt-timeout" and frame.data["phase"] == "try":
            m.cancel_children(frame)
            detail = "the attempt did not complete within `retry.limit.attempt.duration`"
            self.handle(
                m, task, frame, errors.error(errors.TIMEOUT, detail, instance=task.reference)
            )

    @staticmethod
    def task(m: Machine, frame: Frame) -> TryTask:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, TryTask)
        return task

    def handle(self, m: Machine, task: TryTask, frame: Frame, error: dict[str, Any]) -> None:
        timer = frame.data.pop("attempt_timer", None)
        if timer is not None:
            m.drop_effect(timer, cancel=True)
        catch = task.catch
        error_vars = {**(frame.vars or {}), catch.as_: error}
        try:
            if not self.catches(m, task, frame, catch, error_vars, error):
                m.fault(frame, error)
                return
            if catch.retry is not None and self.may_retry(m, task, frame, catch.retry, error_vars):
                self.schedule_retry(m, frame, catch.retry)
                return
        except TaskFault as fault:
            m.fault(frame, fault.error)
            return
        self.fall_back(m, frame, catch, error_vars, error)

    def fall_back(
        self,
        m: Machine,
        frame: Frame,
        catch: Catch,
        error_vars: dict[str, Any],
        error: dict[str, Any],
    ) -> None:
        if catch.tasks is not None:
            frame.data.update(phase="catch", vars=error_vars)
            if not begin(m, frame, catch.tasks, frame.input, vars=error_vars):
                m.complete(frame, frame.input)
        elif catch.retry is not None:
            m.fault(frame, error)
        else:
            m.complete(frame, frame.input)

    def catches(
        self,
        m: Machine,
        task: TryTask,
        frame: Frame,
        catch: Catch,
        error_vars: dict[str, Any],
        error: dict[str, Any],
    ) -> bool:
        if catch.errors and not errors.matches_filter(error, dict(catch.errors)):
            return False
        if catch.when is not None and not self.holds(m, task, frame, catch.when, error_vars):
            return False
        return catch.except_when is None or not self.holds(
            m, task, frame, catch.except_when, error_vars
        )

    def may_retry(
        self,
        m: Machine,
        task: TryTask,
        frame: Frame,
        policy: RetryPolicy,
        error_vars: dict[str, Any],
    ) -> bool:
        retries = frame.data["retries"]
        if policy.max_retries is not None and retries >= policy.max_retries:
            return False
        elapsed = m.now - frame.data["first_started"]
        if policy.total_duration is not None and elapsed >= policy.total_duration:
            return False
        if policy.when is not None and not self.holds(m, task, frame, policy.when, error_vars):
            return False
        return policy.except_when is None or not self.holds(
            m, task, frame, policy.except_when, error_vars
        )

    def schedule_retry(self, m: Machine, frame: Frame, policy: RetryPolicy) -> None:
        retries = frame.data["retries"] + 1
        frame.data.update(retries=retries, attempt=retries + 1, phase="retry-wait")
        seed = f"{m.state.execution_id}{frame.occurrence}"
        m.start_timer(frame, retry_delay(policy, retries, seed), "retry")

    @staticmethod
    def holds(
        m: Machine, task: TryTask, frame: Frame, condition: Expression, variables: dict[str, Any]
    ) -> bool:
        try:
            return truthy(condition.evaluate(frame.input, m.scope(frame, task, **variables)))
        except ExpressionError as exc:
            raise TaskFault(expression_error(exc, task.reference)) from None
