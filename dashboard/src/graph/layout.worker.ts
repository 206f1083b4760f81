// ELK in a Web Worker: a 500-task workflow is laid out without freezing the page.
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkNode } from "elkjs/lib/elk-api";

const elk = new ELK();

self.onmessage = async (event: MessageEvent<{ id: number; graph: ElkNode }>) => {
  const { id, graph } = event.data;
  const started = performance.now();
  try {
    const laid = await elk.layout(graph);
    self.postMessage({ id, laid, ms: performance.now() - started });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};
