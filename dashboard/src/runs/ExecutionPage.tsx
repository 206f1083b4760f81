import { useEffect } from "react";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";

const FINISHED = new Set(["completed", "faulted", "cancelled"]);

/** One execution: status, input, output, error and its task runs, polled until it ends.
 * (The run view with graph, timeline and per-task panels is built on this route.) */
export function ExecutionPage(props: { id: string }) {
  const { client } = useSession();
  const execution = useAsync(() => client.getExecution(props.id), [client, props.id]);
  const status = execution.value?.status;
  useEffect(() => {
    if (!status || FINISHED.has(status)) return;
    const timer = window.setTimeout(() => void execution.reload(), 500);
    return () => window.clearTimeout(timer);
  }, [status, execution]);
  const value = execution.value;
  return (
    <main className="page">
      <h1>Execution {props.id}</h1>
      {execution.error && <Banner kind="error">{execution.error}</Banner>}
      {value && (
        <>
          <p>
            App <strong>{value.app}</strong>, revision {value.revision}:{" "}
            <strong className="execution-status" data-status={value.status}>
              {value.status}
            </strong>
          </p>
          <h2>Output</h2>
          <pre className="json" aria-label="Output">{JSON.stringify(value.output, null, 2)}</pre>
          {value.error && (
            <>
              <h2>Error</h2>
              <pre className="json">{JSON.stringify(value.error, null, 2)}</pre>
            </>
          )}
          <h2>Task runs</h2>
          <ol className="task-runs">
            {(value.tasks ?? []).map((run, index) => (
              <li key={index} data-task={run.reference} data-status={run.status}>
                <code>{run.reference}</code> {run.status}
                {run.attempt > 1 ? ` (attempt ${run.attempt})` : ""}
              </li>
            ))}
          </ol>
        </>
      )}
    </main>
  );
}
