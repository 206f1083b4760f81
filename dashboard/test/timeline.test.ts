// The timeline's segments: one per task run, retry attempts apart with the back-off
// gap between them, a minimum width, long idle stretches squeezed.
import { describe, expect, it } from "vitest";
import type { TaskRun } from "../src/api/types";
import { buildTimeline, busyIntervals, formatDuration, makeAxis } from "../src/runs/timeline";

const T0 = Date.parse("2024-05-01T12:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

let nextId = 1;
function run(reference: string, start: number, end: number | null, extra: Partial<TaskRun> = {}): TaskRun {
  return {
    id: nextId++,
    parent_id: null,
    name: reference.split("/").pop()!,
    reference,
    occurrence: reference,
    status: end === null ? "running" : "completed",
    input: null,
    output: null,
    error: null,
    attempt: 1,
    started_at: at(start),
    ended_at: end === null ? null : at(end),
    revision: null,
    ...extra,
  };
}

describe("timeline", () => {
  it("draws one row per task in the order tasks started, one segment per run", () => {
    const runs = [
      run("/do/0/a", 0, 100),
      run("/do/1/b", 100, 300),
      run("/do/2/c", 300, 400),
    ];
    const timeline = buildTimeline(runs, { width: 400, now: T0 + 1000, minWidth: 1 });
    expect(timeline.rows.map((r) => r.task)).toEqual(["/do/0/a", "/do/1/b", "/do/2/c"]);
    const [a, b, c] = timeline.rows.map((r) => r.segments[0]);
    expect(a.left).toBe(0);
    expect(a.width).toBeCloseTo(100);
    expect(b.left).toBeCloseTo(100);
    expect(b.width).toBeCloseTo(200);
    expect(c.left + c.width).toBeCloseTo(400);
    expect(timeline.width).toBeCloseTo(400);
    expect(timeline.gaps).toEqual([]);
  });

  it("keeps retry attempts as separate segments in their task's row, with the back-off gap between", () => {
    const runs = [
      run("/do/0/charge", 0, 100, { status: "faulted", attempt: 1 }),
      run("/do/0/charge", 1100, 1200, { status: "faulted", attempt: 2 }),
      run("/do/0/charge", 3200, 3300, { status: "completed", attempt: 3 }),
    ];
    const timeline = buildTimeline(runs, { width: 330, now: T0 + 4000, minWidth: 1 });
    expect(timeline.rows).toHaveLength(1);
    const segments = timeline.rows[0].segments;
    expect(segments.map((s) => [s.attempt, s.status])).toEqual([
      [1, "faulted"],
      [2, "faulted"],
      [3, "completed"],
    ]);
    // 3300 ms over 330 px: 0.1 px per ms; the gaps (1 s, 2 s) are drawn to scale.
    expect(segments[1].left - (segments[0].left + segments[0].width)).toBeCloseTo(100);
    expect(segments[2].left - (segments[1].left + segments[1].width)).toBeCloseTo(200);
  });

  it("gives instant runs (a set, a skipped task) a clickable minimum width", () => {
    const runs = [run("/do/0/a", 0, 10_000), run("/do/1/b", 10_000, 10_000, { status: "skipped" })];
    const timeline = buildTimeline(runs, { width: 500, now: T0 + 20_000, minWidth: 6 });
    expect(timeline.rows[1].segments[0].width).toBe(6);
    expect(timeline.rows[0].segments[0].width).toBeCloseTo(500);
  });

  it("squeezes a long idle stretch (a wait of an hour) and says how long it was", () => {
    const hour = 3_600_000;
    const runs = [run("/do/0/a", 0, 1000), run("/do/2/c", 1000 + hour, 2000 + hour)];
    const timeline = buildTimeline(runs, { width: 228, now: T0 + 2 * hour, idleMs: 30_000, gapPx: 28, minWidth: 1 });
    expect(timeline.gaps).toHaveLength(1);
    expect(timeline.gaps[0].end - timeline.gaps[0].start).toBe(hour);
    expect(timeline.gaps[0].width).toBe(28);
    const [a, c] = timeline.rows.map((r) => r.segments[0]);
    // The two busy seconds share 200 px; the hour takes 28.
    expect(a.width).toBeCloseTo(100);
    expect(c.left).toBeCloseTo(128);
    expect(c.width).toBeCloseTo(100);
    expect(timeline.width).toBeCloseTo(228);
  });

  it("does not squeeze an idle stretch shorter than the threshold", () => {
    const runs = [run("/do/0/a", 0, 1000), run("/do/1/b", 11_000, 12_000)];
    const timeline = buildTimeline(runs, { width: 1200, now: T0 + 20_000, idleMs: 30_000, minWidth: 1 });
    expect(timeline.gaps).toEqual([]);
    expect(timeline.rows[1].segments[0].left).toBeCloseTo(1100);
  });

  it("a running task's segment grows to now, and zoom widens everything", () => {
    const runs = [run("/do/0/a", 0, 1000), run("/do/1/b", 1000, null)];
    const timeline = buildTimeline(runs, { width: 300, now: T0 + 3000, minWidth: 1 });
    const b = timeline.rows[1].segments[0];
    expect(b.open).toBe(true);
    expect(b.end).toBe(T0 + 3000);
    expect(b.left + b.width).toBeCloseTo(300);
    const zoomed = buildTimeline(runs, { width: 300, zoom: 4, now: T0 + 3000, minWidth: 1 });
    expect(zoomed.width).toBeCloseTo(1200);
    expect(zoomed.rows[1].segments[0].left).toBeCloseTo(400);
  });

  it("indents rows by nesting: a loop's body under the loop", () => {
    const runs = [
      run("/do/0/each", 0, 300),
      run("/do/0/each/do/0/charge", 10, 100, { occurrence: "/do/0/each[0]/do/0/charge" }),
      run("/do/0/each/do/0/charge", 110, 200, { occurrence: "/do/0/each[1]/do/0/charge" }),
    ];
    const timeline = buildTimeline(runs, { width: 300, now: T0 + 300 });
    expect(timeline.rows.map((r) => [r.task, r.depth, r.segments.length])).toEqual([
      ["/do/0/each", 0, 1],
      ["/do/0/each/do/0/charge", 1, 2],
    ]);
  });

  it("axis helpers: merged busy stretches, monotone positions", () => {
    expect(busyIntervals([[5, 10], [0, 6], [20, 30]])).toEqual([[0, 10], [20, 30]]);
    const axis = makeAxis([[0, 100], [200_100, 200_200]], 228, 30_000, 28);
    let previous = -1;
    for (let t = -10; t <= 200_300; t += 1000) {
      const x = axis.at(t);
      expect(x).toBeGreaterThanOrEqual(previous);
      previous = x;
    }
    expect(axis.at(200_200)).toBeCloseTo(228);
  });

  it("formats durations for people", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(2400)).toBe("2.4 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatDuration(3_720_000)).toBe("1 h 2 min");
  });
});

describe("timeline: runs drawn over one another", () => {
  it("holds a loop's quick iterations in one segment until zoomed in, a fault showing through", () => {
    const runs = [run("/do/0/slow", 0, 10_000)];
    for (let i = 0; i < 1000; i++) {
      runs.push(run("/do/1/each/do/0/x", 10_000 + i, 10_000 + i + 1, i === 500 ? { status: "faulted" } : {}));
    }
    const timeline = buildTimeline(runs, { width: 1000, now: T0 + 20_000, minWidth: 6 });
    const segments = timeline.rows[1].segments;
    // 1 s of the 11 s fits in ~91 px: at least 6 px each, at most ~16 segments.
    expect(segments.length).toBeLessThan(20);
    expect(segments.reduce((n, s) => n + s.runs.length, 0)).toBe(1000);
    const faulted = segments.find((s) => s.status === "faulted")!;
    expect(faulted.run).toBe(runs[501].id); // a click shows the fault
    expect(faulted.runs).toContain(runs[501].id);
    // Zoomed in far enough, each run is its own segment again.
    const zoomed = buildTimeline(runs.slice(0, 11), { width: 3000, zoom: 32, now: T0 + 20_000, minWidth: 6 });
    expect(zoomed.rows[1].segments.map((s) => s.runs.length)).toEqual(Array(10).fill(1));
  });
});
