// Server-Sent Events read from a fetch stream, whatever the chunks.
import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "../src/api/sse";

function parseAll(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  chunks.forEach((chunk) => parser.push(chunk));
  return events;
}

describe("SSE parser", () => {
  const text = 'event: tasks\ndata: {"items": []}\n\n: keep-alive\n\nevent: end\ndata: {"status":\ndata: "completed"}\n\n';

  it("reads events, joins data lines, skips comments", () => {
    expect(parseAll([text])).toEqual([
      { event: "tasks", data: '{"items": []}' },
      { event: "end", data: '{"status":\n"completed"}' },
    ]);
  });

  it("gives the same events whatever the chunking, CRLF included", () => {
    const whole = parseAll([text]);
    for (let size = 1; size < 9; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, "g"))!;
      expect(parseAll(chunks)).toEqual(whole);
    }
    const crlf = text.replace(/\n/g, "\r\n");
    expect(parseAll(crlf.split(""))).toEqual(whole);
  });

  it("holds an unfinished event until its blank line", () => {
    expect(parseAll(["event: execution\ndata: {}\n"])).toEqual([]);
    expect(parseAll(["data: x\n\n"])).toEqual([{ event: "message", data: "x" }]);
  });
});
