// Who is logged in: the token lives in this browser tab's sessionStorage (never in a
// URL), and the one ApiClient reads it from there. A 401 or an unreachable server is
// reported here so that every view shows the same message, and nothing typed is lost:
// drafts are kept in localStorage by the editor.

import { createContext, useContext, useMemo, useState } from "react";
import { ApiClient } from "../api/client";
import type { ProblemDocument } from "../api/types";

const TOKEN_KEY = "flowapp.token";

export function storedToken(): string | null {
  return window.sessionStorage.getItem(TOKEN_KEY);
}

export interface Session {
  client: ApiClient;
  token: string | null;
  /** Why the last request was refused for its token (expired, revoked); null if not. */
  expired: ProblemDocument | null;
  reachable: boolean;
  logIn(token: string): void;
  logOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider(props: { children: React.ReactNode }) {
  const [token, setToken] = useState<string | null>(storedToken);
  const [expired, setExpired] = useState<ProblemDocument | null>(null);
  const [reachable, setReachable] = useState(true);
  const client = useMemo(
    () =>
      new ApiClient({
        token: storedToken,
        onUnauthorized: (problem) => setExpired(problem),
        onReachable: setReachable,
      }),
    [],
  );
  const session: Session = {
    client,
    token,
    expired,
    reachable,
    logIn(value) {
      window.sessionStorage.setItem(TOKEN_KEY, value);
      setToken(value);
      setExpired(null);
    },
    logOut() {
      window.sessionStorage.removeItem(TOKEN_KEY);
      setToken(null);
      setExpired(null);
    },
  };
  return <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
