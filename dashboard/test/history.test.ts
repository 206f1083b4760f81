// Undo and redo over texts: every change is a step, a burst of typing is one.
import { describe, expect, it } from "vitest";
import { record, redo, start, undo } from "../src/editor/history";

const entry = (text: string, selection: string | null = null) => ({ text, selection, label: "edit" });

describe("history", () => {
  it("undoes and redoes each edit in order, selection included", () => {
    let h = start("a");
    h = record(h, entry("ab", "/do/0/x"));
    h = record(h, entry("abc", "/do/1/y"));
    h = undo(h);
    expect(h.present).toMatchObject({ text: "ab", selection: "/do/0/x" });
    h = undo(h);
    expect(h.present.text).toBe("a");
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(h.present.text).toBe("abc");
    expect(redo(h)).toBe(h);
  });

  it("joins keystrokes typed in a burst into one step, and not across a pause", () => {
    let h = start("");
    h = record(h, entry("a"), { typing: true, now: 0 });
    h = record(h, entry("ab"), { typing: true, now: 300 });
    h = record(h, entry("abc"), { typing: true, now: 600 });
    h = record(h, entry("abcd"), { typing: true, now: 3000 });
    expect(undo(h).present.text).toBe("abc");
    expect(undo(undo(h)).present.text).toBe("");
  });

  it("does not join a canvas edit to the typing before it, and a new edit drops the redos", () => {
    let h = start("");
    h = record(h, entry("a"), { typing: true, now: 0 });
    h = record(h, entry("a\n- b"), { now: 100 });
    expect(undo(h).present.text).toBe("a");
    h = record(undo(h), entry("other"));
    expect(h.future).toEqual([]);
  });

  it("records no step for a change that changes nothing", () => {
    const h = record(start("same"), entry("same", "/do/0/a"));
    expect(h.past).toEqual([]);
    expect(h.present.selection).toBe("/do/0/a");
  });
});
