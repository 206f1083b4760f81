// The one client of the public /api/v1 (docs/api.md). Every view goes through it, so
// that authentication, problems and a server that went away are handled in one place.

import type {
  App,
  AppMetrics,
  ExecutionWorkflow,
  LogLine,
  Rerun,
  SubWorkflow,
  TaskRunPage,
  DeployLine,
  Execution,
  ExecutionPage,
  FunctionsView,
  Invocation,
  ProblemDocument,
  Validation,
  WhoAmI,
  WorkflowSource,
} from "./types";
import { SseParser } from "./sse";

/** The server answered with an RFC 7807 problem (or at least an error status). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemDocument,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

/** The server could not be reached at all (stopped, restarting, network gone). */
export class Unreachable extends Error {
  constructor(readonly cause: unknown) {
    super("the flowapp server cannot be reached; your work is kept in this browser");
  }
}

export interface ClientHooks {
  token: () => string | null;
  /** A 401: the token expired or was revoked. */
  onUnauthorized?: (problem: ProblemDocument) => void;
  /** Reachability changed (a request failed to connect, or succeeded again). */
  onReachable?: (reachable: boolean) => void;
}

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  query?: Query;
  body?: BodyInit | null;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(
    private readonly hooks: ClientHooks,
    private readonly base = "",
  ) {}

  // --- apps ---------------------------------------------------------------------------
  whoami(token?: string): Promise<WhoAmI> {
    const headers = token ? { authorization: `Bearer ${token}` } : undefined;
    return this.json("GET", "/api/v1/whoami", { headers });
  }
  listApps(): Promise<{ items: App[] }> {
    return this.json("GET", "/api/v1/apps");
  }
  getApp(name: string): Promise<App> {
    return this.json("GET", `/api/v1/apps/${enc(name)}`);
  }
  createApp(yamlText: string): Promise<App> {
    return this.json("POST", "/api/v1/apps", { body: yamlText, contentType: "application/yaml" });
  }
  validate(yamlText: string, context?: { app: string; file: string }, signal?: AbortSignal): Promise<Validation> {
    return this.json("POST", "/api/v1/validate", {
      body: yamlText,
      contentType: "application/yaml",
      query: context,
      signal,
    });
  }

  // --- an app's workflow and functions -------------------------------------------------
  getWorkflow(app: string): Promise<WorkflowSource> {
    return this.json("GET", `/api/v1/apps/${enc(app)}/workflow`);
  }
  saveWorkflow(app: string, text: string, commit: string | null): Promise<WorkflowSource> {
    const headers: Record<string, string> = commit ? { "if-match": `"${commit}"` } : {};
    return this.json("PUT", `/api/v1/apps/${enc(app)}/workflow`, {
      body: text,
      contentType: "application/yaml",
      headers,
    });
  }
  functions(app: string): Promise<FunctionsView> {
    return this.json("GET", `/api/v1/apps/${enc(app)}/functions`);
  }
  createFunction(app: string, name: string, runtime: string): Promise<FunctionsView> {
    return this.json("POST", `/api/v1/apps/${enc(app)}/functions`, {
      body: JSON.stringify({ name, runtime }),
      contentType: "application/json",
    });
  }

  /** Deploy the app's current source, calling ``onLine`` for each streamed line. */
  async deploy(app: string, onLine: (line: DeployLine) => void): Promise<DeployLine | null> {
    const response = await this.send("POST", `/api/v1/apps/${enc(app)}/deploys`, {
      query: { stream: true },
    });
    return readNdjson(response, onLine);
  }

  // --- executions ---------------------------------------------------------------------
  invoke(app: string, input: unknown, wait?: number): Promise<Invocation> {
    return this.json("POST", `/api/v1/apps/${enc(app)}/executions`, {
      body: JSON.stringify(input ?? null),
      contentType: "application/json",
      query: { wait },
      acceptStatus: true,
    } as RequestOptions);
  }
  getExecution(id: string, tasksLimit?: number): Promise<Execution> {
    return this.json("GET", `/api/v1/executions/${enc(id)}`, { query: { tasks_limit: tasksLimit } });
  }
  listExecutions(query: Query = {}): Promise<ExecutionPage> {
    return this.json("GET", "/api/v1/executions", { query });
  }
  control(id: string, action: "cancel" | "suspend" | "resume" | "retry"): Promise<unknown> {
    return this.json("POST", `/api/v1/executions/${enc(id)}/${action}`);
  }
  /** A new execution with the same input, or with ``input`` (an edited one) when given. */
  rerun(id: string, input?: { value: unknown }): Promise<Rerun> {
    const body = input ? { body: JSON.stringify(input.value ?? null), contentType: "application/json" } : {};
    return this.json("POST", `/api/v1/executions/${enc(id)}/rerun`, body);
  }
  taskRuns(id: string, cursor: string, limit = 1000): Promise<TaskRunPage> {
    return this.json("GET", `/api/v1/executions/${enc(id)}/tasks`, { query: { cursor, limit } });
  }
  executionWorkflow(id: string): Promise<ExecutionWorkflow> {
    return this.json("GET", `/api/v1/executions/${enc(id)}/workflow`);
  }
  subWorkflows(id: string): Promise<{ items: SubWorkflow[] }> {
    return this.json("GET", `/api/v1/executions/${enc(id)}/children`);
  }
  /** The execution's changes as Server-Sent Events, read with fetch (a token never goes
   * in a URL, and EventSource cannot send it as a header). Resolves when the stream ends. */
  async streamExecution(
    id: string,
    after: number,
    onEvent: (event: { event: string; data: string }) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.send("GET", `/api/v1/executions/${enc(id)}/stream`, {
      query: { after },
      headers: { accept: "text/event-stream" },
      signal,
    });
    const reader = response.body?.getReader();
    if (!reader) return;
    const parser = new SseParser(onEvent);
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
  }
  appMetrics(app: string, window = 300, series = false): Promise<AppMetrics> {
    return this.json("GET", `/api/v1/apps/${enc(app)}/metrics`, { query: { window, series } });
  }
  logs(app: string, query: { function?: string; execution?: string; limit?: number }): Promise<{ items: LogLine[] }> {
    return this.json("GET", `/api/v1/apps/${enc(app)}/logs`, { query });
  }

  // --- plumbing -----------------------------------------------------------------------
  /** A JSON answer; an invocation's faulted execution (JSON, not a problem) is returned too. */
  async json<T>(method: string, path: string, options: RequestOptions & { acceptStatus?: boolean } = {}): Promise<T> {
    const response = await this.send(method, path, options, options.acceptStatus);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async send(method: string, path: string, options: RequestOptions = {}, acceptJsonErrors = false): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const token = this.hooks.token();
    if (token && !headers.authorization) headers.authorization = `Bearer ${token}`;
    if (options.contentType) headers["content-type"] = options.contentType;
    let response: Response;
    try {
      response = await fetch(this.base + path + queryString(options.query), {
        method,
        headers,
        body: options.body ?? null,
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      this.hooks.onReachable?.(false);
      throw new Unreachable(error);
    }
    this.hooks.onReachable?.(true);
    if (response.ok) return response;
    const isProblem = (response.headers.get("content-type") || "").includes("problem+json");
    if (acceptJsonErrors && !isProblem) return response;
    const problem = await readProblem(response);
    if (response.status === 401) this.hooks.onUnauthorized?.(problem);
    throw new ApiError(response.status, problem);
  }
}

async function readProblem(response: Response): Promise<ProblemDocument> {
  try {
    return (await response.json()) as ProblemDocument;
  } catch {
    return { status: response.status, title: response.statusText || `HTTP ${response.status}` };
  }
}

async function readNdjson(response: Response, onLine: (line: DeployLine) => void): Promise<DeployLine | null> {
  const reader = response.body?.getReader();
  if (!reader) return null;
  const decoder = new TextDecoder();
  let buffer = "";
  let last: DeployLine | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const text = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (text) {
        last = JSON.parse(text) as DeployLine;
        onLine(last);
      }
      newline = buffer.indexOf("\n");
    }
    if (done) break;
  }
  if (buffer.trim()) {
    last = JSON.parse(buffer) as DeployLine;
    onLine(last);
  }
  return last;
}

function queryString(query?: Query): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

const enc = encodeURIComponent;

/** A problem's text as one line for a banner: title, detail and the first locations. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const p = error.problem;
    const where = (p.problems || [])
      .slice(0, 3)
      .map((x) => `${x.line ? `line ${x.line}: ` : ""}${x.pointer ? `${x.pointer}: ` : ""}${x.message}`);
    return [p.title, p.detail, ...where].filter(Boolean).join(" — ");
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
