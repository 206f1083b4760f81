"""Keeping known secret values out of what is written: sealed state, masked records.

The engine works with real values (expressions compute with secrets, commands carry what
they need). Where the runtime writes to the database, every occurrence of a known secret
value (a string of four characters or more among the values of the secrets the workflow
declares, objects' strings included) is replaced by ``********``:

- in the execution's state and in outbox commands, reversibly: ``seal`` also returns
  references (where in the value each mask is, and which secret it stands for), saved
  beside the sealed value, and ``unseal`` puts the secrets' current values back when the
  state is read again (recovery, retry) or the command carried out (a call in flight
  after a restart, an emitted event). A command thus carries references that are
  resolved at dispatch, and a secret rotated meanwhile is sent with its new value;
- in task runs and an execution's error (records for people), for good: ``mask``. A
  retried execution reuses the masked outputs of the tasks it does not run again. The
  workflow's own output is saved as the workflow returned it: what it returns is its
  author's choice.

References name a position in the sealed value, not a placeholder text: a ``********``
(or anything else) written by a workflow or sent by a caller is never mistaken for one,
so no input can make the runtime substitute a secret where the workflow did not put it.
Dictionary keys are not searched; values derived from a secret (hashed, encoded, cut)
are not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

MASK = "********"
MIN_LENGTH = 4  # shorter values would mask ordinary text everywhere
REFERENCES = "sealedSecrets"  # the key under which a sealed state keeps its references

Reference = dict[str, Any]  # {"at": JSON pointer, "spans": [[offset, secret pointer], ...]}


class SecretGone(Exception):
    """A reference names a secret that is no longer supplied."""

    def __init__(self, pointer: str) -> None:
        name = pointer.split("/")[1] if pointer.count("/") else pointer
        super().__init__(f"secret `{name}` is no longer supplied")
        self.pointer = pointer
        self.name = name


class KnownSecrets:
    """The string values of some secrets, each with its JSON pointer in ``$secrets``."""

    __slots__ = ("_in_json", "_pattern", "_pointers")

    def __init__(self, secrets: Mapping[str, Any]) -> None:
        found: dict[str, str] = {}
        for pointer, text in _strings(secrets, ""):
            if len(text) >= MIN_LENGTH:
                found.setdefault(text, pointer)
        self._pointers = found
        # Longest first: a regex alternation takes the first alternative that matches.
        alternatives = sorted(found, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if found else None
        # The same values as JSON writes them, to tell at once that a value holds none.
        self._in_json = tuple({orjson.dumps(text)[1:-1] for text in found})

    def __bool__(self) -> bool:
        return self._pattern is not None

    def seal(self, value: Any) -> tuple[Any, list[Reference]]:
        """``value`` with every known secret masked, and the references to undo it."""
        references: list[Reference] = []
        if self._pattern is None or not self._may_hold(value):
            return value, references
        return self._seal(value, [], references), references

    def mask(self, value: Any) -> Any:
        return self.seal(value)[0]

    def _may_hold(self, value: Any) -> bool:
        """Whether a secret appears anywhere in ``value`` (keys included): one search of
        its JSON text, much cheaper than a walk of every string in it."""
        if isinstance(value, str):
            return True
        try:
            text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return True
        return any(written in text for written in self._in_json)

    def _seal(self, value: Any, path: list[str], references: list[Reference]) -> Any:
        """The walk, into the containers that hold a secret only: ``path`` grows and
        shrinks as it goes, and a pointer is written only for a string that holds one."""
        if isinstance(value, str):
            return self._seal_text(value, path, references)
        if isinstance(value, dict):
            items: Iterator[tuple[Any, Any]] = iter(value.items())
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            return value
        sealed = dict(value) if isinstance(value, dict) else list(value)
        for key, item in items:
            if isinstance(item, (dict, list)) and not self._may_hold(item):
                continue
            if isinstance(item, (dict, list, str)):
                path.append(str(key))
                sealed[key] = self._seal(item, path, references)
                path.pop()
        return sealed

    def _seal_text(self, text: str, path: list[str], references: list[Reference]) -> str:
        assert self._pattern is not None
        spans: list[list[Any]] = []
        parts: list[str] = []
        position = 0
        length = 0
        for match in self._pattern.finditer(text):
            before = text[position : match.start()]
            parts += [before, MASK]
            length += len(before)
            spans.append([length, self._pointers[match.group()]])
            length += len(MASK)
            position = match.end()
        if not spans:
            return text
        parts.append(text[position:])
        references.append({"at": "".join(f"/{_escape(p)}" for p in path), "spans": spans})
        return "".join(parts)


def unseal(
    value: Any,
    references: list[Reference],
    secrets: Mapping[str, Any],
    missing: list[str] | None = None,
) -> Any:
    """``value`` with each reference replaced by the secret's current value. A secret no
    longer supplied raises ``SecretGone``, or, given ``missing``, is named there and its
    mask left in place."""
    for reference in references:
        value = _replace_at(value, _parts(reference["at"]), reference["spans"], secrets, missing)
    return value


def seal_state(data: dict[str, Any], known: KnownSecrets) -> dict[str, Any]:
    """A state (or a command) to save: sealed, its references kept under ``REFERENCES``."""
    sealed, references = known.seal(data)
    if references:
        sealed[REFERENCES] = references
    return sealed  # type: ignore[no-any-return]


def unseal_state(
    data: dict[str, Any], secrets: Mapping[str, Any], missing: list[str] | None = None
) -> dict[str, Any]:
    """What ``seal_state`` sealed, with the secrets' current values."""
    references = data.get(REFERENCES)
    if not references:
        return data
    opened = {k: v for k, v in data.items() if k != REFERENCES}
    return unseal(opened, references, secrets, missing)  # type: ignore[no-any-return]


def _replace_at(
    value: Any,
    path: list[str],
    spans: list[list[Any]],
    secrets: Mapping[str, Any],
    missing: list[str] | None,
) -> Any:
    if not path:
        if not isinstance(value, str):
            return value  # not what was sealed: leave it
        for offset, pointer in reversed(spans):
            if value[offset : offset + len(MASK)] != MASK:
                continue
            try:
                text = _secret_text(secrets, pointer)
            except SecretGone as gone:
                if missing is None:
                    raise
                missing.append(gone.name)
                continue
            value = value[:offset] + text + value[offset + len(MASK) :]
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _replace_at(value[head], rest, spans, secrets, missing)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        copied = list(value)
        copied[int(head)] = _replace_at(value[int(head)], rest, spans, secrets, missing)
        return copied
    return value


def _secret_text(secrets: Mapping[str, Any], pointer: str) -> str:
    current: Any = secrets
    for part in _parts(pointer):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise SecretGone(pointer)
    if not isinstance(current, str):
        raise SecretGone(pointer)
    return current


def _strings(value: Any, at: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{at}/{_escape(str(key))}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{at}/{index}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _parts(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


NONE = KnownSecrets({})  # nothing to seal: every value passes through unchanged
