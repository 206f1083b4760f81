// The metrics panel's line charts.
import { describe, expect, it } from "vitest";
import { sparkPath } from "../src/apps/Spark";

describe("spark line", () => {
  it("spans the width, highest value at the top, zero at the bottom", () => {
    expect(sparkPath([0, 5, 10], 100, 22)).toBe("M0.0 21.0 L50.0 11.0 L100.0 1.0");
  });
  it("breaks the line where a step has no value", () => {
    expect(sparkPath([1, null, 1, 1], 30, 12)).toBe("M0.0 1.0 M20.0 1.0 L30.0 1.0");
  });
  it("draws nothing without values", () => {
    expect(sparkPath([null, null], 30, 12)).toBe("");
    expect(sparkPath([], 30, 12)).toBe("");
  });
});
