import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";
import { Link, executionPath } from "../router";

/** The newest executions (filters, a cursor and live updates come with the run views). */
export function ExecutionsPage() {
  const { client } = useSession();
  const page = useAsync(() => client.listExecutions({ limit: 50 }), [client]);
  return (
    <main className="page">
      <h1>Executions</h1>
      {page.error && <Banner kind="error">{page.error}</Banner>}
      {page.value && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Execution</th>
              <th scope="col">App</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {page.value.items.map((execution) => (
              <tr key={execution.id} data-execution={execution.id}>
                <td>
                  <Link to={executionPath(execution.id)}>{execution.id}</Link>
                </td>
                <td>{execution.app}</td>
                <td data-status={execution.status}>{execution.status}</td>
                <td>{execution.started_at}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
