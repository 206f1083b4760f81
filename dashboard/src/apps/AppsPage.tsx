import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";
import { useSession } from "../auth/session";
import { Link, appPath } from "../router";

/** The apps: each opens in the editor. (Status, traffic and metrics come here later.) */
export function AppsPage() {
  const { client } = useSession();
  const apps = useAsync(() => client.listApps(), [client]);
  return (
    <main className="page">
      <h1>Apps</h1>
      <p>
        <Link to="/new">New workflow</Link>: draw one, then deploy it as an app.
      </p>
      {apps.error && <Banner kind="error">{apps.error}</Banner>}
      {apps.value && apps.value.items.length === 0 && <p>No apps yet.</p>}
      {apps.value && apps.value.items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">Revision</th>
              <th scope="col">Ready</th>
            </tr>
          </thead>
          <tbody>
            {apps.value.items.map((app) => {
              const ready = app.conditions.find((c) => c.type === "Ready");
              return (
                <tr key={app.name} data-app={app.name}>
                  <td>
                    <Link to={appPath(app.name)}>{app.name}</Link>
                  </td>
                  <td>{app.deployed_revision ?? "not deployed"}</td>
                  <td title={ready?.message}>{ready ? `${ready.status} (${ready.reason})` : "unknown"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}
