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
  name: string;
  reference: string; // the task's JSON Pointer
  status: string;
  input: unknown;
  output: unknown;
  error: ProblemDocument | null;
  attempt: number;
  started_at: string | null;
  ended_at: string | null;
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
  tasks?: TaskRun[];
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
