import { lazy, Suspense } from "react";
import { AppsPage } from "./apps/AppsPage";
import { LoginForm } from "./auth/LoginForm";
import { SessionProvider, useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { useLocation } from "./router";
import { ExecutionsPage } from "./runs/ExecutionsPage";

// The editor (CodeMirror, the canvas) is most of the JavaScript: the login form, the lists
// and the run pages do not wait for it.
const EditorPage = lazy(() => import("./editor/EditorPage").then((module) => ({ default: module.EditorPage })));
// The run view draws with the same canvas: loaded when an execution is opened.
const ExecutionPage = lazy(() => import("./runs/ExecutionPage").then((module) => ({ default: module.ExecutionPage })));

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
      <Suspense fallback={<p className="page">Loading the editor…</p>}>
        {route.view === "new" && <EditorPage key="new" app={null} />}
        {route.view === "editor" && <EditorPage key={route.app} app={route.app} />}
      </Suspense>
      {route.view === "executions" && <ExecutionsPage />}
      <Suspense fallback={<p className="page">Loading the run view…</p>}>
        {route.view === "execution" && <ExecutionPage key={route.id} id={route.id} />}
      </Suspense>
      {route.view === "not-found" && (
        <main className="page">
          <h1>Not found</h1>
          <p>Nothing lives at {route.path}.</p>
        </main>
      )}
    </Layout>
  );
}
