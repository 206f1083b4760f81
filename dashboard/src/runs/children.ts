// Sub-workflows in a run view: the executions an execution started with `run: workflow`
// (GET .../children), matched to the task that started each: a `run` task naming the
// child's workflow (and namespace, when it names one) and, when several do, the one
// whose run was open when the child started.

import type { SubWorkflow, TaskRun } from "../api/types";
import type { WorkflowGraph } from "../graph/model";

/** Sub-workflow execution ids by the pointer of the task that started them. */
export function matchSubWorkflows(
  graph: WorkflowGraph | null,
  children: readonly SubWorkflow[],
  runsByTask: ReadonlyMap<string, TaskRun[]> = new Map(),
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!graph || !children.length) return out;
  const targets: { pointer: string; name: string; namespace: unknown }[] = [];
  for (const task of graph.tasks.values()) {
    if (task.kind !== "run") continue;
    const target = ((task.definition.run ?? {}) as Record<string, unknown>).workflow as Record<string, unknown> | undefined;
    if (target && typeof target.name === "string") targets.push({ pointer: task.id, name: target.name, namespace: target.namespace });
  }
  for (const child of children) {
    const candidates = targets.filter(
      (t) => t.name === child.workflow.name && (!t.namespace || t.namespace === child.workflow.namespace),
    );
    const started = child.started_at ? Date.parse(child.started_at) : NaN;
    const open = (pointer: string) =>
      (runsByTask.get(pointer) ?? []).some((run) => {
        if (!run.started_at || Number.isNaN(started)) return false;
        const end = run.ended_at ? Date.parse(run.ended_at) : Infinity;
        return Date.parse(run.started_at) <= started && started <= end;
      });
    const chosen = candidates.length > 1 ? (candidates.find((t) => open(t.pointer)) ?? candidates[0]) : candidates[0];
    if (!chosen) continue;
    const ids = out.get(chosen.pointer);
    if (ids) ids.push(child.id);
    else out.set(chosen.pointer, [child.id]);
  }
  return out;
}
