// Validation as you type: the server's validator (the same as `flowapp validate`),
// asked half a second after the last change, the previous question cancelled.

import { useEffect, useState } from "react";
import { describeError } from "../api/client";
import type { Problem } from "../api/types";
import { useSession } from "../auth/session";

/** ``round`` asks again without a change of text (the app's functions changed). */
export function useValidation(text: string, parses: boolean, context: { app: string; file: string } | null, round = 0) {
  const { client } = useSession();
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const app = context?.app;
  const file = context?.file;
  useEffect(() => {
    if (!parses) return;
    const controller = new AbortController();
    setChecking(true);
    const timer = window.setTimeout(async () => {
      try {
        const answer = await client.validate(text, app && file ? { app, file } : undefined, controller.signal);
        setProblems(answer.problems);
        setError(null);
      } catch (failure) {
        if ((failure as Error).name !== "AbortError") setError(describeError(failure));
      } finally {
        if (!controller.signal.aborted) setChecking(false);
      }
    }, 500);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [client, text, parses, app, file, round]);
  return { problems, checking, error };
}
