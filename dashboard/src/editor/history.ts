// Undo and redo over texts: every change, from the canvas, a form or typing, is a new
// text; typing in a burst is one step. Selection is kept with each step, not undone
// on its own.

export interface Entry {
  text: string;
  selection: string | null;
  label: string;
}

export interface History {
  past: Entry[];
  present: Entry;
  future: Entry[];
  /** When the present entry was made by typing (to join a burst of keystrokes). */
  typingSince: number | null;
}

const LIMIT = 500;
const BURST_MS = 800;

export function start(text: string): History {
  return { past: [], present: { text, selection: null, label: "open" }, future: [], typingSince: null };
}

export function record(history: History, entry: Entry, options: { typing?: boolean; now?: number } = {}): History {
  if (entry.text === history.present.text) return { ...history, present: { ...history.present, selection: entry.selection } };
  const now = options.now ?? Date.now();
  const joins = options.typing && history.typingSince !== null && now - history.typingSince < BURST_MS;
  if (joins) return { ...history, present: entry, future: [], typingSince: now };
  return {
    past: [...history.past, history.present].slice(-LIMIT),
    present: entry,
    future: [],
    typingSince: options.typing ? now : null,
  };
}

export function undo(history: History): History {
  const previous = history.past[history.past.length - 1];
  if (!previous) return history;
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future], typingSince: null };
}

export function redo(history: History): History {
  const next = history.future[0];
  if (!next) return history;
  return { past: [...history.past, history.present], present: next, future: history.future.slice(1), typingSince: null };
}
