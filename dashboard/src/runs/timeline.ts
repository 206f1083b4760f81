// The run view's timeline (a Gantt of task runs), computed without React:
//
//   runs --rows (one per task, in the order tasks first started)--> segments (one per run:
//   each retry attempt apart, the back-off gap between them left empty)
//   time --axis (idle stretches longer than `idleMs` squeezed to `gapPx`)--> x in pixels
//
// Every segment is at least `minWidth` pixels wide so that an instant run (a `set`, a
// skipped task) can still be clicked. Runs of a row that would be drawn over one another
// at this zoom (a loop's thousand quick iterations) are one segment holding them all:
// zooming in tells them apart, and the page draws hundreds of segments, not thousands.

import type { TaskRun } from "../api/types";
import { isWithin } from "../graph/pointer";

export interface TimelineOptions {
  /** Pixels the whole timeline gets at zoom 1. */
  width: number;
  /** 1 fits the execution in ``width``; 2 is twice as wide, and so on. */
  zoom?: number;
  minWidth?: number;
  /** Idle stretches (no run open) longer than this are compressed... */
  idleMs?: number;
  /** ...to this many pixels each. */
  gapPx?: number;
  /** The time now, for runs that have not ended (milliseconds since the epoch). */
  now: number;
}

export interface Segment {
  run: number; // the task run's id (of a segment holding several: the one it selects)
  runs: number[]; // every run drawn here, in the order they started
  occurrence: string;
  attempt: number;
  status: string;
  start: number; // ms since the epoch
  end: number;
  left: number; // px
  width: number; // px, at least minWidth
  open: boolean; // still running: it grows with time
}

export interface Row {
  task: string; // pointer
  name: string;
  depth: number; // how many rows' tasks contain it
  segments: Segment[];
}

export interface IdleGap {
  start: number;
  end: number;
  left: number;
  width: number;
}

export interface Timeline {
  rows: Row[];
  gaps: IdleGap[];
  start: number; // ms of the first run's start
  end: number;
  width: number; // px
}

interface Piece {
  from: number;
  to: number;
  x: number;
  width: number;
}

export const DEFAULT_MIN_WIDTH = 6;
// The status a segment holding several runs shows: a fault stands out, then work going on.
const SEGMENT_PRECEDENCE = ["faulted", "running", "cancelled", "completed", "skipped"];
export const DEFAULT_IDLE_MS = 30_000;
export const DEFAULT_GAP_PX = 28;

function parse(time: string | null): number | null {
  if (!time) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : ms;
}

/** The busy stretches (times some run was open), merged and in order. */
export function busyIntervals(spans: readonly [number, number][]): [number, number][] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** A time axis: busy stretches and short idle ones at one scale, long idle ones
 * squeezed. ``x`` maps a time to pixels, monotonically. */
export function makeAxis(spans: readonly [number, number][], width: number, idleMs: number, gapPx: number) {
  const busy = busyIntervals(spans);
  const pieces: { from: number; to: number; squeezed: boolean }[] = [];
  busy.forEach(([from, to], index) => {
    const previous = busy[index - 1];
    if (previous) pieces.push({ from: previous[1], to: from, squeezed: from - previous[1] > idleMs });
    pieces.push({ from, to, squeezed: false });
  });
  const squeezed = pieces.filter((p) => p.squeezed).length;
  const scaledMs = pieces.filter((p) => !p.squeezed).reduce((sum, p) => sum + (p.to - p.from), 0);
  const room = Math.max(width - squeezed * gapPx, width / 2);
  const pxPerMs = scaledMs > 0 ? room / scaledMs : 0;
  const laid: (Piece & { squeezed: boolean })[] = [];
  let x = 0;
  for (const piece of pieces) {
    const w = piece.squeezed ? gapPx : (piece.to - piece.from) * pxPerMs;
    laid.push({ ...piece, x, width: w });
    x += w;
  }
  const total = Math.max(x, 0);
  const at = (time: number): number => {
    if (!laid.length) return 0;
    if (time <= laid[0].from) return 0;
    // Binary search for the piece holding ``time``.
    let lo = 0;
    let hi = laid.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (laid[mid].from <= time) lo = mid;
      else hi = mid - 1;
    }
    const piece = laid[lo];
    if (time >= piece.to) return piece.x + piece.width;
    const span = piece.to - piece.from;
    return piece.x + (span > 0 ? ((time - piece.from) / span) * piece.width : 0);
  };
  const gaps: IdleGap[] = laid
    .filter((p) => p.squeezed)
    .map((p) => ({ start: p.from, end: p.to, left: p.x, width: p.width }));
  return { at, width: total, gaps, pxPerMs };
}

export function buildTimeline(runs: readonly TaskRun[], options: TimelineOptions): Timeline {
  const minWidth = options.minWidth ?? DEFAULT_MIN_WIDTH;
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const gapPx = options.gapPx ?? DEFAULT_GAP_PX;
  const width = options.width * (options.zoom ?? 1);
  const timed = runs
    .map((run) => {
      const start = parse(run.started_at);
      if (start === null) return null;
      const ended = parse(run.ended_at);
      return { run, start, end: Math.max(start, ended ?? options.now), open: ended === null };
    })
    .filter((x): x is { run: TaskRun; start: number; end: number; open: boolean } => x !== null)
    .sort((a, b) => a.run.id - b.run.id);
  const axis = makeAxis(
    timed.map((t) => [t.start, t.end] as [number, number]),
    width,
    idleMs,
    gapPx,
  );
  const rows = new Map<string, Row>();
  for (const { run, start, end, open } of timed) {
    let row = rows.get(run.reference);
    if (!row) {
      row = { task: run.reference, name: run.name, depth: 0, segments: [] };
      rows.set(run.reference, row);
    }
    const left = axis.at(start);
    const right = Math.max(left + minWidth, axis.at(end));
    const last = row.segments[row.segments.length - 1];
    if (last && left < last.left + last.width) {
      // Drawn over the previous segment: held by it.
      last.runs.push(run.id);
      last.end = Math.max(last.end, end);
      last.width = Math.max(last.width, right - last.left);
      last.open = last.open || open;
      if (SEGMENT_PRECEDENCE.indexOf(run.status) < SEGMENT_PRECEDENCE.indexOf(last.status)) {
        last.status = run.status;
        last.run = run.id; // a click shows the run that explains the colour
        last.attempt = run.attempt;
        last.occurrence = run.occurrence;
      }
      continue;
    }
    row.segments.push({
      run: run.id,
      runs: [run.id],
      occurrence: run.occurrence,
      attempt: run.attempt,
      status: run.status,
      start,
      end,
      left,
      width: right - left,
      open,
    });
  }
  const keys = [...rows.keys()];
  for (const row of rows.values()) {
    row.depth = keys.filter((key) => key !== row.task && isWithin(row.task, key)).length;
  }
  const first = timed.length ? Math.min(...timed.map((t) => t.start)) : options.now;
  const last = timed.length ? Math.max(...timed.map((t) => t.end)) : options.now;
  return {
    rows: [...rows.values()],
    gaps: axis.gaps,
    start: first,
    end: last,
    width: Math.max(axis.width, minWidth),
  };
}

/** A duration for people: 850 ms, 2.4 s, 3 min 5 s, 1 h 2 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
