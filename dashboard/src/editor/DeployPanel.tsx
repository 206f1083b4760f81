// Deploy from the editor: a new app from a drawn workflow, or a new revision of an app
// (its workflow saved, then deployed), with the deploy's log streamed as it goes and its
// outcome shown; then an execution can be started and its result seen.

import { useState } from "react";
import { ApiError, describeError } from "../api/client";
import type { DeployLine, Invocation } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { Link, executionPath } from "../router";

interface Props {
  app: string | null;
  text: string;
  blocked: string | null; // why deploying now makes no sense (parse error, problems)
  /** Save the text as the app's workflow (existing app) and return the app's name. */
  save(): Promise<string>;
  onDeployed(app: string): void;
}

export function DeployPanel(props: Props) {
  const { client } = useSession();
  const [log, setLog] = useState<string[]>([]);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [deployed, setDeployed] = useState<string | null>(null);

  async function deploy() {
    setBusy(true);
    setLog([]);
    setOutcome(null);
    try {
      const name = await props.save();
      setLog((lines) => [...lines, props.app ? `saved the workflow of ${name}` : `created app ${name}`]);
      const last = await client.deploy(name, (line: DeployLine) => {
        if ("progress" in line) setLog((lines) => [...lines, line.progress]);
      });
      if (last && "deploy" in last) {
        setOutcome({ ok: true, text: `Deployed ${name}: revision ${last.deploy.revision} is serving.` });
        setDeployed(name);
        props.onDeployed(name);
      } else if (last && "error" in last) {
        setOutcome({ ok: false, text: describeError(new ApiError(last.error.status ?? 422, last.error)) });
      } else {
        setOutcome({ ok: false, text: "The deploy's stream ended without an outcome." });
      }
    } catch (failure) {
      setOutcome({ ok: false, text: describeError(failure) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="deploy" aria-label="Deploy">
      <h2>Deploy</h2>
      {props.blocked && <p className="hint">{props.blocked}</p>}
      <button type="button" className="primary" onClick={deploy} disabled={busy || Boolean(props.blocked)}>
        {busy ? "Deploying…" : props.app ? `Save and deploy ${props.app}` : "Deploy as a new app"}
      </button>
      {log.length > 0 && (
        <pre className="deploy-log" role="log" aria-live="polite" aria-label="Deploy log">
          {log.join("\n")}
        </pre>
      )}
      {outcome && (
        <Banner kind={outcome.ok ? "success" : "error"}>
          <span data-deploy-outcome={outcome.ok ? "succeeded" : "failed"}>{outcome.text}</span>
        </Banner>
      )}
      {(deployed ?? props.app) && <RunForm app={(deployed ?? props.app)!} />}
    </section>
  );
}

function RunForm(props: { app: string }) {
  const { client } = useSession();
  const [input, setInput] = useState("{}");
  const [result, setResult] = useState<Invocation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run() {
    setError(null);
    setResult(null);
    let value: unknown;
    try {
      value = JSON.parse(input || "null");
    } catch (failure) {
      setError(`The input is not JSON: ${(failure as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      setResult(await client.invoke(props.app, value, 10));
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="run-form">
      <h3>Start an execution of {props.app}</h3>
      <label htmlFor="run-input">Input (JSON)</label>
      <textarea id="run-input" name="input" rows={3} value={input} onChange={(event) => setInput(event.target.value)} spellCheck={false} />
      <button type="button" onClick={run} disabled={busy}>
        {busy ? "Running…" : "Start execution"}
      </button>
      {error && <Banner kind="error">{error}</Banner>}
      {result && (
        <div className="run-result" data-execution={result.id} data-status={result.status}>
          <p>
            Execution <Link to={executionPath(result.id)}>{result.id}</Link>: <strong>{result.status}</strong>
          </p>
          {"output" in result && result.output !== undefined && <pre className="json">{JSON.stringify(result.output, null, 2)}</pre>}
          {result.error && <pre className="json">{JSON.stringify(result.error, null, 2)}</pre>}
        </div>
      )}
    </div>
  );
}
