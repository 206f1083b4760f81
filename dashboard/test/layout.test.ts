// The layout of nested containers with ELK (the same code the worker runs).
import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { fromElk, toElk } from "../src/graph/layout";
import { buildGraph, endOf, startOf } from "../src/graph/model";
import { parse } from "../src/graph/textedit";
import { examples } from "./examples";

const elk = new ELK();

describe("layout", () => {
  it.each(examples().filter((e) => /try|fork|for\.yaml|do-multiple/.test(e.name)))(
    "$name: every task gets a box inside its container's box",
    async ({ text }) => {
      const graph = buildGraph(parse(text));
      const layout = fromElk(await elk.layout(toElk(graph)));
      for (const task of graph.tasks.values()) {
        const box = layout.boxes.get(task.id)!;
        expect(box, task.id).toBeTruthy();
        expect(box.parent).toBe(task.parent);
        if (task.parent) {
          const parent = layout.boxes.get(task.parent)!;
          expect(box.x + box.width).toBeLessThanOrEqual(parent.width + 0.5);
          expect(box.y + box.height).toBeLessThanOrEqual(parent.height + 0.5);
        }
      }
      const start = layout.boxes.get(startOf("/do"))!;
      const end = layout.boxes.get(endOf("/do"))!;
      expect(start.y).toBeLessThan(end.y);
    },
  );

  it("draws a collapsed container without its insides", async () => {
    const text = examples().find((e) => e.name === "try-catch.yaml")!.text;
    const graph = buildGraph(parse(text));
    const container = [...graph.tasks.values()].find((t) => t.kind === "try")!;
    const layout = fromElk(await elk.layout(toElk(graph, new Set([container.id]))));
    expect(layout.boxes.has(container.id)).toBe(true);
    for (const task of graph.tasks.values()) {
      if (task.parent === container.id) expect(layout.boxes.has(task.id)).toBe(false);
    }
  });
});
