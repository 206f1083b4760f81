// Validation problems (file, line, column, pointer, message) placed where they belong:
// on the task whose pointer is the longest prefix of the problem's (the same rule the
// specification's own editor uses), and on a line of the text.

import type { Problem } from "../api/types";
import type { WorkflowGraph } from "./model";
import { isWithin, longestPrefix } from "./pointer";

export interface PlacedProblem extends Problem {
  /** The problem's pointer inside the workflow (the file's base stripped). */
  workflowPointer: string | null;
  /** The task it belongs to, or null for the workflow as a whole. */
  task: string | null;
}

/** ``base`` is the workflow's pointer in the file ("" or "/spec/workflow"). */
export function placeProblems(problems: Problem[], graph: WorkflowGraph, base: string): PlacedProblem[] {
  return problems.map((problem) => {
    const pointer = problem.pointer ?? null;
    const inWorkflow = pointer !== null && (base === "" || isWithin(pointer, base)) ? pointer.slice(base.length) : null;
    const task = inWorkflow !== null ? longestPrefix(inWorkflow, graph.tasks.keys()) : null;
    return { ...problem, workflowPointer: inWorkflow, task };
  });
}

export function countByTask(problems: PlacedProblem[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const problem of problems) {
    if (problem.task) counts.set(problem.task, (counts.get(problem.task) ?? 0) + 1);
  }
  return counts;
}

/** The problems about one field of one task (e.g. a `when` expression's syntax). */
export function problemsAt(problems: PlacedProblem[], pointer: string): PlacedProblem[] {
  return problems.filter((problem) => problem.workflowPointer !== null && isWithin(problem.workflowPointer, pointer));
}
