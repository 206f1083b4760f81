import { AppsPage } from "./apps/AppsPage";
import { LoginForm } from "./auth/LoginForm";
import { SessionProvider, useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { EditorPage } from "./editor/EditorPage";
import { useLocation } from "./router";
import { ExecutionPage } from "./runs/ExecutionPage";
import { ExecutionsPage } from "./runs/ExecutionsPage";

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

function Shell() {
  const session = useSession();
  const { route } = useLocation();
  if (!session.token) return <LoginForm />;
  return (
    <Layout>
      {session.expired && (
        <LoginForm
          reason={`Your token no longer works (${session.expired.detail ?? "401"}). Log in again: nothing you typed is lost.`}
        />
      )}
      {route.view === "apps" && <AppsPage />}
      {route.view === "new" && <EditorPage key="new" app={null} />}
      {route.view === "editor" && <EditorPage key={route.app} app={route.app} />}
      {route.view === "executions" && <ExecutionsPage />}
      {route.view === "execution" && <ExecutionPage key={route.id} id={route.id} />}
      {route.view === "not-found" && (
        <main className="page">
          <h1>Not found</h1>
          <p>Nothing lives at {route.path}.</p>
        </main>
      )}
    </Layout>
  );
}
