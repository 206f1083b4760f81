"""Alert rules of an app: when its failures, error rate or p95 latency cross a threshold
over a window, the alert evaluator calls the rule's webhook.

Rules live in the platform store; the server checks the app exists (through the
platform) and leaves the rest of the rules (kind, window, URL) to the model here and to
the store, which refuses what the model would have let through.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from flowapp.server import models
from flowapp.server.deps import AlertRulesDep, AppLookupDep, blocking
from flowapp.server.openapi import errors, links
from flowapp.server.params import AppName
from flowapp.server.platform import NotFound
from flowapp.server.views import alert_rule_json
from flowapp.store.platform import AlertRuleSpec

router = APIRouter(prefix="/api/v1/apps/{name}/alerts", tags=["alerts"])

RuleId = Annotated[int, Path(ge=1, le=2**53, description="The alert rule's id.")]


@router.get("", response_model=models.AlertRuleList, responses=errors(404, 422))
async def list_rules(apps: AppLookupDep, rules: AlertRulesDep, name: AppName) -> Any:
    """The app's alert rules."""
    await apps.get_app(name)
    records = await blocking(rules.list_alert_rules, name)
    return {"items": [alert_rule_json(record) for record in records]}


RULE_LINKS = links("delete_rule", name="$response.body#/app", rule_id="$response.body#/id")


@router.post(
    "",
    status_code=201,
    response_model=models.AlertRule,
    responses={**errors(400, 404, 409, 413, 422), 201: {"links": RULE_LINKS}},
)
async def create_rule(
    apps: AppLookupDep, rules: AlertRulesDep, name: AppName, rule: models.NewAlertRule
) -> Any:
    """A new alert rule (its name is unique in the app)."""
    await apps.get_app(name)
    spec = AlertRuleSpec(app=name, **rule.model_dump())
    record = await blocking(rules.create_alert_rule, spec, now=time.time())
    return alert_rule_json(record)


@router.delete("/{rule_id}", status_code=204, response_class=Response, responses=errors(404, 422))
async def delete_rule(rules: AlertRulesDep, name: AppName, rule_id: RuleId) -> Response:
    """Delete an alert rule, its state and its pending notifications."""
    record = await blocking(rules.get_alert_rule, rule_id)
    if record is None or record.app != name:
        raise NotFound(f"app {name} has no alert rule {rule_id}")
    await blocking(rules.delete_alert_rule, rule_id)
    return Response(status_code=204)
