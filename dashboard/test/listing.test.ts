// The executions list merged with a fresh first page (on top) or an older page (below).
import { describe, expect, it } from "vitest";
import type { Execution } from "../src/api/types";
import { mergeExecutions } from "../src/runs/listing";

const execution = (id: string, status = "running"): Execution => ({
  id,
  app: "a",
  revision: null,
  status,
  input: null,
  output: null,
  error: null,
  started_at: null,
  ended_at: null,
});

describe("executions list", () => {
  it("puts new executions on top, updates those held, keeps older pages below", () => {
    const held = [execution("c"), execution("b"), execution("a")];
    const merged = mergeExecutions(held, [execution("d"), execution("c", "completed")], "top");
    expect(merged.map((e) => [e.id, e.status])).toEqual([
      ["d", "running"],
      ["c", "completed"],
      ["b", "running"],
      ["a", "running"],
    ]);
  });

  it("appends an older page without repeating what is held", () => {
    const held = [execution("c"), execution("b")];
    expect(mergeExecutions(held, [execution("b"), execution("a")], "bottom").map((e) => e.id)).toEqual(["c", "b", "a"]);
  });
});
