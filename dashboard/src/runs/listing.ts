// The executions list read again while shown. The API lists newest first; a fresh first
// page goes on top of what is held (older pages kept below it, statuses updated), an
// older page goes below.

import type { Execution } from "../api/types";

export function mergeExecutions(held: readonly Execution[], fresh: readonly Execution[], where: "top" | "bottom"): Execution[] {
  const freshIds = new Set(fresh.map((execution) => execution.id));
  const kept = held.filter((execution) => !freshIds.has(execution.id));
  return where === "top" ? [...fresh, ...kept] : [...kept, ...fresh];
}
