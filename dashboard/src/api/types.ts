// The shapes of the public /api/v1 answers the dashboard reads (docs/api.md).

export interface Problem {
  file?: string | null;
  line?: number | null;
  column?: number | null;
  pointer?: string | null;
  message: string;
}

/** An RFC 7807 problem as the API answers it. */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  problems?: Problem[];
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  last_transition_time?: string | null;
}

export interface App {
  name: string;
  namespace: string;
  resource: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  deployed_revision: string | null;
  traffic: { revision: string; percent: number }[];
  conditions: Condition[];
  observation: Record<string, unknown> | null;
}

export interface Validation {
  valid: boolean;
  problems: Problem[];
}

/** The text of an app's workflow as it is in the app's repository. */
export interface WorkflowSource {
  app: string;
  file: string; // workflow.yaml, or flowapp.yaml when the workflow is inline
  base: string; // JSON Pointer of the workflow inside the file ("" or "/spec/workflow")
  text: string;
  commit: string | null;
}

export interface FunctionInfo {
  name: string;
  runtime: string | null;
  path: string | null;
  declared: boolean;
  has_code: boolean;
  called_by: string[]; // task pointers
}

export interface FunctionsView {
  app: string;
  clone_url: string;
  runtimes: string[];
  items: FunctionInfo[];
}

export interface Deploy {
  id: number;
  app: string;
  revision: string;
  status: "running" | "succeeded" | "failed";
  message: string;
  log: string;
  started_at: string;
  ended_at: string | null;
}

/** One line of a streamed deploy (application/x-ndjson). */
export type DeployLine = { progress: string } | { deploy: Deploy } | { error: ProblemDocument };

export type ExecutionStatus =
  | "pending"
  | "running"
  | "waiting"
  | "suspended"
  | "completed"
  | "faulted"
  | "cancelled";

export interface TaskRun {
  id: number; // orders the runs of an execution (and pages them)
  parent_id: number | null; // the run of the task around it
  name: string;
  reference: string; // the task's JSON Pointer
  occurrence: string; // the reference with each loop iteration: /do/0/each[3]/do/0/charge
  status: string; // running, completed, faulted, cancelled, skipped
  input: unknown;
  output: unknown;
  error: ProblemDocument | null;
  attempt: number;
  started_at: string | null;
  ended_at: string | null;
  revision: string | null;
}

export interface Execution {
  id: string;
  app: string | null;
  revision: string | null;
  status: ExecutionStatus | string;
  input: unknown;
  output: unknown;
  error: ProblemDocument | null;
  started_at: string | null;
  ended_at: string | null;
  parent_id?: string | null;
  rerun_of?: string | null;
  tasks?: TaskRun[];
  task_count?: number;
  tasks_next_cursor?: string | null;
}

export interface TaskRunPage {
  items: TaskRun[];
  next_cursor: string | null;
}

/** The workflow an execution runs, as deployed on its own revision. */
export interface ExecutionWorkflow {
  execution: string;
  namespace: string;
  name: string;
  version: string;
  app: string | null;
  revision: string | null;
  document: Record<string, unknown>;
}

export interface SubWorkflow extends Execution {
  workflow: { namespace: string; name: string; version: string };
}

export interface Rerun {
  id: string;
  status: string;
  rerun_of: string;
  revision: string | null;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface SeriesPoint {
  at: string | number;
  requests_per_second: number;
  error_rate: number | null;
  latency_p95: number | null;
  executions?: Record<string, number>;
}

export interface CallFigures {
  series?: SeriesPoint[];
  requests: number;
  requests_per_second: number;
  by_code: Record<string, number>;
  error_rate: number | null;
  latency_seconds: Percentiles;
}

export interface AppMetrics {
  app: string;
  window_seconds: number;
  covered_seconds: number;
  functions: (CallFigures & { function: string; instances: number; in_flight: number })[];
  totals: CallFigures;
  executions: {
    started: number;
    started_per_second: number;
    by_status: Record<string, number>;
    duration_seconds: Percentiles;
  };
}

export interface LogLine {
  time: string;
  app: string;
  function: string;
  instance: string | null;
  stream: string;
  message: string;
  execution_id: string | null;
}

export interface ExecutionPage {
  items: Execution[];
  next_cursor: string | null;
}

export interface Invocation {
  id: string;
  status: string;
  output?: unknown;
  error?: ProblemDocument | null;
}

export interface WhoAmI {
  id: number | string;
  name: string;
  role: string;
  prefix: string;
}
