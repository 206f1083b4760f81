// How long ELK takes for a 500-task workflow (50 `for` containers of 8 tasks and 50
// tasks between them), outside the browser: `npx vitest bench --run`.
import ELK from "elkjs/lib/elk.bundled.js";
import { bench, describe } from "vitest";
import { toElk } from "../src/graph/layout";
import { buildGraph } from "../src/graph/model";
import { parse } from "../src/graph/textedit";
import { bigWorkflow } from "./bigWorkflow";


const elk = new ELK();
const graph = buildGraph(parse(bigWorkflow()));

describe("layout of 500 tasks", () => {
  bench("ELK layered, nested containers", async () => {
    await elk.layout(toElk(graph));
  }, { iterations: 3, warmupIterations: 1 });
});
