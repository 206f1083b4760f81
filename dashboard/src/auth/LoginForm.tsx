import { useState } from "react";
import { describeError } from "../api/client";
import { useSession } from "./session";

/** The token form; shown instead of the page, or over it when a token stopped working
 * (the page underneath, and whatever was typed there, stays as it was). */
export function LoginForm(props: { reason?: string }) {
  const session = useSession();
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.client.whoami(value.trim());
      session.logIn(value.trim());
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-backdrop">
      <form className="login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">flowapp</h1>
        {props.reason && (
          <p className="banner warning" role="alert">
            {props.reason}
          </p>
        )}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={value}
          onChange={(event) => setValue(event.target.value)}
          required
          autoFocus
        />
        <p className="hint">
          <code>flowapp up</code> prints an admin token on its first start; create others with{" "}
          <code>flowapp token create</code>.
        </p>
        {error && (
          <p className="banner error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !value.trim()}>
          {busy ? "Checking…" : "Log in"}
        </button>
      </form>
    </div>
  );
}
