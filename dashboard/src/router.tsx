// The dashboard's one router: deep links are plain paths (/apps/{name},
// /executions/{id}, ?task=<pointer>) served by `flowapp up` as the same page.

import { useEffect, useState } from "react";

export type Route =
  | { view: "apps" }
  | { view: "new" }
  | { view: "editor"; app: string }
  | { view: "executions" }
  | { view: "execution"; id: string }
  | { view: "not-found"; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "apps")) return { view: "apps" };
  if (parts[0] === "new" && parts.length === 1) return { view: "new" };
  if (parts[0] === "apps" && parts.length === 2) return { view: "editor", app: parts[1] };
  if (parts[0] === "executions" && parts.length === 1) return { view: "executions" };
  if (parts[0] === "executions" && parts.length === 2) return { view: "execution", id: parts[1] };
  return { view: "not-found", path: pathname };
}

export function appPath(name: string): string {
  return `/apps/${encodeURIComponent(name)}`;
}

export function executionPath(id: string, task?: string): string {
  const query = task ? `?task=${encodeURIComponent(task)}` : "";
  return `/executions/${encodeURIComponent(id)}${query}`;
}

const CHANGE = "flowapp:navigate";

export function navigate(to: string, { replace = false } = {}): void {
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current location, re-rendering on navigation (links, back/forward). */
export function useLocation(): { route: Route; search: URLSearchParams } {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const update = () => setLocation(window.location.pathname + window.location.search);
    window.addEventListener("popstate", update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  const url = new URL(location, window.location.origin);
  return { route: parseRoute(url.pathname), search: url.searchParams };
}

/** Set one query parameter (e.g. ?task=) without adding a history entry. */
export function setQueryParam(name: string, value: string | null): void {
  const url = new URL(window.location.href);
  if (value === null) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  navigate(url.pathname + url.search, { replace: true });
}

export function Link(props: { to: string; children: React.ReactNode; className?: string }) {
  return (
    <a
      href={props.to}
      className={props.className}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}
