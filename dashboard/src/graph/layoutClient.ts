// The main thread's side of the layout worker: one request at a time, the newest wins.
import type { ElkNode } from "elkjs/lib/elk-api";
import { fromElk, type Layout } from "./layout";

type Pending = { resolve: (value: { layout: Layout; ms: number }) => void; reject: (error: Error) => void };

let worker: Worker | null = null;
let counter = 0;
const pending = new Map<number, Pending>();

function theWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
  worker.onmessage = (event: MessageEvent<{ id: number; laid?: ElkNode; ms?: number; error?: string }>) => {
    const request = pending.get(event.data.id);
    pending.delete(event.data.id);
    if (!request) return;
    if (event.data.error || !event.data.laid) request.reject(new Error(event.data.error ?? "layout failed"));
    else request.resolve({ layout: fromElk(event.data.laid), ms: event.data.ms ?? 0 });
  };
  return worker;
}

/** Lay ``graph`` out in the worker; the time ELK took is returned (and measured). */
export function layoutInWorker(graph: ElkNode): Promise<{ layout: Layout; ms: number }> {
  const id = ++counter;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    theWorker().postMessage({ id, graph });
  });
}

/** Start the worker (and its ELK) early, while the page is still asking the API for the
 * workflow: the first layout then waits for no start-up. */
export function warmUpLayout(): void {
  if (typeof Worker !== "undefined") theWorker();
}
