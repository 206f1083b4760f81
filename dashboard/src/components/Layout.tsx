import { useSession } from "../auth/session";
import { Link } from "../router";

/** The frame of every view: navigation, and the server's reachability. */
export function Layout(props: { children: React.ReactNode }) {
  const session = useSession();
  return (
    <div className="layout">
      <header className="topbar">
        <nav aria-label="Main">
          <Link to="/" className="brand">
            flowapp
          </Link>
          <Link to="/">Apps</Link>
          <Link to="/executions">Executions</Link>
          <Link to="/new">New workflow</Link>
        </nav>
        <button type="button" className="link-button" onClick={session.logOut}>
          Log out
        </button>
      </header>
      {!session.reachable && (
        <p className="banner error" role="alert">
          The flowapp server cannot be reached. Your work is kept in this browser (a reload
          keeps it too); try again once the server is back.
        </p>
      )}
      {props.children}
    </div>
  );
}
