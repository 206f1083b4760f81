"""The in-memory object store behind the test API server, enforcing what the API server does.

- every write bumps one global ``resourceVersion``; a write carrying a stale one is a 409;
- ``metadata.generation`` starts at 1 and grows when anything but metadata and status changes;
- custom objects are pruned of undeclared fields (refused under ``fieldValidation=Strict``,
  as ``kubectl apply`` asks) and validated against their CRD's schema (422 otherwise);
- with a ``status`` subresource, writes to the object keep the old status and writes to
  ``/status`` change nothing else;
- deleting an object with finalizers only sets ``deletionTimestamp``; removing the last
  finalizer then deletes it; a deleted object's dependents (``ownerReferences`` to its
  uid) are deleted in turn, as the garbage collector does in the background;
- every change is appended to a history that watch streams read from any resourceVersion.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from jsonschema import Draft7Validator

from tests.k8s.resources import BUILT_IN, Obj, ResourceType, from_crd, prune, unknown_fields

Key = tuple[str, str, str | None, str]  # group, plural, namespace, name


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    def body(self) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "code": self.status,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass
class Change:
    version: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: ResourceType
    obj: Obj


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self) -> None:
        self.types: list[ResourceType] = list(BUILT_IN)
        self.objects: dict[Key, Obj] = {}
        self.history: list[Change] = []
        self.version = 0
        # Set (and replaced by a fresh one) at every change: what watch streams wait on.
        self.changed = asyncio.Event()
        self.requests = 0

    # --- types ------------------------------------------------------------------------

    def install_crd(self, crd: Obj) -> None:
        found = from_crd(crd)
        self.types = [t for t in self.types if (t.group, t.plural) != (found.group, found.plural)]
        self.types.append(found)

    def find_type(self, group: str, version: str, plural: str) -> ResourceType:
        for kind in self.types:
            if kind.group == group and kind.plural == plural and version in kind.versions:
                return kind
        raise ApiError(404, "NotFound", f"the server could not find {group}/{version} {plural}")

    # --- reads ------------------------------------------------------------------------

    def get(self, kind: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.objects.get((kind.group, kind.plural, namespace, name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
        return obj

    def list(self, kind: ResourceType, namespace: str | None, selector: str = "") -> list[Obj]:
        wanted = parse_selector(selector)
        return [
            obj
            for (group, plural, ns, _), obj in sorted(self.objects.items(), key=lambda i: str(i[0]))
            if (group, plural) == (kind.group, kind.plural)
            and (namespace is None or ns == namespace)
            and matches(obj, wanted)
        ]

    # --- writes -----------------------------------------------------------------------

    def create(
        self, kind: ResourceType, version: str, namespace: str | None, body: Obj, *, strict: bool
    ) -> Obj:
        metadata = body.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + uuid.uuid4().hex[:5]
        name = metadata.get("name")
        if not name:
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        key = (kind.group, kind.plural, namespace if kind.namespaced else None, name)
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", f'{kind.plural} "{name}" already exists')
        obj = self._admit(kind, version, body, strict=strict)
        if kind.status_subresource and kind.schemas:
            obj.pop("status", None)
        meta = obj["metadata"]
        meta.update(namespace=key[2], uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        if key[2] is None:
            meta.pop("namespace", None)
        meta.pop("deletionTimestamp", None)
        self.objects[key] = obj
        self._record("ADDED", kind, obj)
        if kind.kind == "CustomResourceDefinition":
            self.install_crd(obj)
        return obj

    def update(
        self,
        kind: ResourceType,
        version: str,
        namespace: str | None,
        name: str,
        body: Obj,
        *,
        status: bool,
        strict: bool,
    ) -> Obj:
        old = self.get(kind, namespace, name)
        expected = (body.get("metadata") or {}).get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'the object "{name}" has been modified; retry')
        new = self._admit(kind, version, body, strict=strict)
        if status:
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status")
            if merged["status"] is None:
                merged.pop("status")
            new = merged
        else:
            if kind.status_subresource:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
            new["metadata"] = self._kept_metadata(old, new.get("metadata") or {})
            if _payload(old) != _payload(new):
                new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        if new == old:
            return old
        key = (kind.group, kind.plural, old["metadata"].get("namespace"), name)
        self.objects[key] = new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            self._remove(kind, key)
            return new
        self._record("MODIFIED", kind, new)
        return new

    def delete(self, kind: ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.get(kind, namespace, name)
        key = (kind.group, kind.plural, obj["metadata"].get("namespace"), name)
        if obj["metadata"].get("finalizers"):
            if not obj["metadata"].get("deletionTimestamp"):
                obj = copy.deepcopy(obj)
                obj["metadata"]["deletionTimestamp"] = _now()
                obj["metadata"]["generation"] += 1
                self.objects[key] = obj
                self._record("MODIFIED", kind, obj)
            return obj
        self._remove(kind, key)
        return obj

    # --- internals ----------------------------------------------------------------------

    def _admit(self, kind: ResourceType, version: str, body: Obj, *, strict: bool) -> Obj:
        body = copy.deepcopy(body)
        body["apiVersion"] = kind.api_version(version)
        body["kind"] = kind.kind
        schema = kind.schemas.get(version)
        if schema is None:
            return body
        unknown = unknown_fields(schema, body)
        if unknown and strict:
            raise ApiError(422, "Invalid", "unknown field(s): " + ", ".join(sorted(unknown)))
        body = prune(schema, body)
        checked = {k: v for k, v in body.items() if k != "metadata"}
        errors = sorted(Draft7Validator(schema).iter_errors(checked), key=str)
        if errors:
            causes = "; ".join(
                f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
            )
            raise ApiError(422, "Invalid", f"{kind.kind} is invalid: {causes}")
        return body

    def _kept_metadata(self, old: Obj, given: Obj) -> Obj:
        """What a write may change in metadata: labels, annotations, finalizers and owners;
        identity, generation and deletion come from the server."""
        metadata = copy.deepcopy(old["metadata"])
        for field in ("labels", "annotations", "finalizers", "ownerReferences"):
            if given.get(field):
                metadata[field] = copy.deepcopy(given[field])
            else:
                metadata.pop(field, None)
        if old["metadata"].get("deletionTimestamp"):
            added = set(metadata.get("finalizers", [])) - set(old["metadata"].get("finalizers", []))
            if added:
                raise ApiError(422, "Forbidden", "no new finalizers can be added while deleting")
        return metadata

    def _remove(self, kind: ResourceType, key: Key) -> None:
        obj = self.objects.pop(key)
        self._record("DELETED", kind, obj)
        self._collect_dependents(obj["metadata"]["uid"])

    def _collect_dependents(self, uid: str) -> None:
        for key, obj in list(self.objects.items()):
            owners = obj["metadata"].get("ownerReferences") or []
            if key in self.objects and any(owner.get("uid") == uid for owner in owners):
                kind = next(t for t in self.types if (t.group, t.plural) == key[:2])
                self.delete(kind, key[2], key[3])

    def _record(self, type_: str, kind: ResourceType, obj: Obj) -> None:
        self.version += 1
        if type_ != "DELETED":
            obj["metadata"]["resourceVersion"] = str(self.version)
        self.history.append(Change(self.version, type_, kind, copy.deepcopy(obj)))
        self.changed.set()
        self.changed = asyncio.Event()


def _payload(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def parse_selector(selector: str) -> dict[str, str | None]:
    """Equality-based label selectors: ``a=b,c`` (``c`` must merely exist)."""
    wanted: dict[str, str | None] = {}
    for part in filter(None, (p.strip() for p in selector.split(","))):
        key, _, value = part.replace("==", "=").partition("=")
        wanted[key] = value if "=" in part else None
    return wanted


def matches(obj: Obj, wanted: dict[str, str | None]) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return all(
        key in labels and (value is None or labels[key] == value) for key, value in wanted.items()
    )
