// What can be done to an execution from its run view: cancel, suspend, resume, retry
// from the task that failed, re-run (same input), re-run with edited input (the API's
// rerun with the new input as its body: the new execution says which it re-runs).

import { useState } from "react";
import { describeError } from "../api/client";
import type { Execution } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { executionPath, navigate } from "../router";
import { InputEditor } from "./InputEditor";
import { executionEnded } from "./status";

type Action = "cancel" | "suspend" | "resume" | "retry";

export function RunActions(props: {
  execution: Execution;
  /** The JSON Schema of the workflow's input, for the re-run form. */
  inputSchema: Record<string, unknown> | null;
  onChanged(leaving: string): void;
}) {
  const { client } = useSession();
  const { execution } = props;
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [editing, setEditing] = useState(false);
  const [input, setInput] = useState("");
  const status = execution.status;
  const ended = executionEnded(status);

  async function act(action: Action) {
    setBusy(true);
    setMessage(null);
    try {
      const answer = (await client.control(execution.id, action)) as { revision?: string | null; previous_revision?: string | null };
      let text = `${action} asked for`;
      if (action === "retry" && answer.revision && answer.revision !== answer.previous_revision) {
        text = `retrying from the failed task on ${answer.revision} (it ran on ${answer.previous_revision})`;
      } else if (action === "retry") text = "retrying from the failed task";
      setMessage({ kind: "success", text });
      props.onChanged(status);
    } catch (failure) {
      setMessage({ kind: "error", text: `${action} failed: ${describeError(failure)}` });
    } finally {
      setBusy(false);
    }
  }

  async function rerun() {
    setBusy(true);
    setMessage(null);
    try {
      const started = await client.rerun(execution.id);
      navigate(executionPath(started.id));
    } catch (failure) {
      setMessage({ kind: "error", text: `re-run failed: ${describeError(failure)}` });
      setBusy(false);
    }
  }

  async function rerunWith() {
    let value: unknown;
    try {
      value = JSON.parse(input || "null");
    } catch (failure) {
      setMessage({ kind: "error", text: `The input is not JSON: ${(failure as Error).message}` });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const started = await client.rerun(execution.id, { value });
      navigate(executionPath(started.id));
    } catch (failure) {
      setMessage({ kind: "error", text: `re-run failed: ${describeError(failure)}` });
      setBusy(false);
    }
  }

  return (
    <div className="run-actions">
      <div role="toolbar" aria-label="Execution actions">
        {!ended && (
          <button type="button" onClick={() => void act("cancel")} disabled={busy}>
            Cancel
          </button>
        )}
        {(status === "running" || status === "waiting" || status === "pending") && (
          <button type="button" onClick={() => void act("suspend")} disabled={busy}>
            Suspend
          </button>
        )}
        {status === "suspended" && (
          <button type="button" onClick={() => void act("resume")} disabled={busy}>
            Resume
          </button>
        )}
        {status === "faulted" && (
          <button type="button" className="primary" onClick={() => void act("retry")} disabled={busy}>
            Retry from the failed task
          </button>
        )}
        <button type="button" onClick={() => void rerun()} disabled={busy}>
          Re-run
        </button>
        <button
          type="button"
          aria-expanded={editing}
          onClick={() => {
            if (!editing) setInput(JSON.stringify(execution.input ?? null, null, 2));
            setEditing(!editing);
          }}
          disabled={busy}
        >
          Re-run with edited input…
        </button>
      </div>
      {editing && (
        <div className="run-form rerun-form">
          <InputEditor id="rerun-input" label="New input" value={input} onChange={setInput} schema={props.inputSchema} />
          <button type="button" className="primary" onClick={() => void rerunWith()} disabled={busy}>
            Start with this input
          </button>
        </div>
      )}
      {message && <Banner kind={message.kind}>{message.text}</Banner>}
    </div>
  );
}
