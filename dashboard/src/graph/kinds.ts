// The task kinds of Serverless Workflow 1.0: how each is recognised, summarised on its
// node, and what a new one looks like when it is dropped from the palette.

export const TASK_KINDS = [
  "call",
  "set",
  "switch",
  "for",
  "fork",
  "try",
  "do",
  "wait",
  "listen",
  "emit",
  "raise",
  "run",
] as const;

export type TaskKind = (typeof TASK_KINDS)[number] | "unknown";

/** Kinds drawn as containers holding task lists. */
export const CONTAINER_KINDS: ReadonlySet<TaskKind> = new Set(["for", "fork", "try", "do"]);

// The order the engine recognises a task's kind in (flowapp/dsl/build.py _TASK_KEYS):
// `for` has a `do` too, so `do` comes last.
const RECOGNITION_ORDER: TaskKind[] = ["call", "for", "fork", "emit", "listen", "raise", "run", "set", "switch", "try", "wait", "do"];

export function kindOf(definition: unknown): TaskKind {
  if (!definition || typeof definition !== "object" || Array.isArray(definition)) return "unknown";
  const keys = new Set(Object.keys(definition));
  return RECOGNITION_ORDER.find((kind) => keys.has(kind)) ?? "unknown";
}

export const KIND_LABELS: Record<TaskKind, string> = {
  call: "Call",
  set: "Set",
  switch: "Switch",
  for: "For each",
  fork: "Fork",
  try: "Try / catch",
  do: "Do",
  wait: "Wait",
  listen: "Listen",
  emit: "Emit",
  raise: "Raise",
  run: "Run",
  unknown: "Unknown",
};

/** What a task of each kind is when it is first dropped on the canvas: valid as it
 * stands, so that the validator has nothing to say until the user makes a choice. */
export function newTaskDefinition(kind: TaskKind, functionName?: string): Record<string, unknown> {
  switch (kind) {
    case "call":
      return functionName
        ? { call: functionName }
        : { call: "http", with: { method: "get", endpoint: "https://example.com" } };
    case "set":
      return { set: { value: "${ . }" } };
    case "switch":
      return { switch: [{ matched: { when: ". != null", then: "continue" } }, { otherwise: { then: "continue" } }] };
    case "for":
      return { for: { each: "item", in: "${ .items }" }, do: [{ step: { set: { item: "${ $item }" } } }] };
    case "fork":
      return {
        fork: {
          branches: [{ left: { set: { side: "left" } } }, { right: { set: { side: "right" } } }],
        },
      };
    case "try":
      return { try: [{ attempt: { set: { ok: true } } }], catch: { errors: { with: { status: 500 } }, as: "error" } };
    case "do":
      return { do: [{ step: { set: { value: "${ . }" } } }] };
    case "wait":
      return { wait: "PT1S" };
    case "listen":
      return { listen: { to: { one: { with: { type: "com.example.event" } } } } };
    case "emit":
      return { emit: { event: { with: { source: "https://flowapp.dev", type: "com.example.event" } } } };
    case "raise":
      return {
        raise: {
          error: { type: "https://serverlessworkflow.io/spec/1.0.0/errors/runtime", status: 500, title: "Failed" },
        },
      };
    case "run":
      return { run: { shell: { command: "echo hello" } } };
    default:
      return { set: {} };
  }
}

/** One line under the node's name saying what it does. */
export function summarize(kind: TaskKind, definition: Record<string, unknown>): string {
  const value = definition[kind];
  switch (kind) {
    case "call":
      return typeof value === "string" ? value : "call";
    case "set":
      return typeof value === "string" ? value : Object.keys((value as object) ?? {}).join(", ");
    case "wait":
      return typeof value === "string" ? value : JSON.stringify(value);
    case "for": {
      const loop = (value ?? {}) as Record<string, unknown>;
      return `${loop.each ?? "item"} in ${loop.in ?? "?"}`;
    }
    case "raise": {
      const error = ((value ?? {}) as Record<string, unknown>).error;
      return typeof error === "string" ? error : String((error as Record<string, unknown>)?.title ?? "error");
    }
    case "run": {
      const run = (value ?? {}) as Record<string, unknown>;
      return Object.keys(run).find((key) => ["shell", "script", "container", "workflow"].includes(key)) ?? "run";
    }
    case "emit": {
      const event = (((value ?? {}) as Record<string, Record<string, unknown>>).event?.with ?? {}) as Record<string, unknown>;
      return String(event?.type ?? "event");
    }
    case "listen":
      return Object.keys(((value ?? {}) as Record<string, unknown>).to ?? {}).join(", ");
    default:
      return "";
  }
}
