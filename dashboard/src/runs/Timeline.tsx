// The timeline (Gantt) of an execution's task runs: a row per task, a segment per run
// (retry attempts apart, with their back-off gaps), long idle stretches squeezed and
// marked, zoom. A segment is a button: clicking it selects its task and run.

import { useEffect, useMemo, useRef, useState } from "react";
import type { TaskRun } from "../api/types";
import { buildTimeline, formatDuration } from "./timeline";

const LABEL_WIDTH = 200;
const ZOOMS = [1, 2, 4, 8, 16, 32];

export function Timeline(props: {
  runs: readonly TaskRun[];
  now: number;
  selectedTask: string | null;
  selectedRun: number | null;
  onSelect(task: string, run: number): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [zoom, setZoom] = useState(1);
  useEffect(() => {
    const element = box.current;
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, element.clientWidth - LABEL_WIDTH - 24)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const timeline = useMemo(
    () => buildTimeline(props.runs, { width, zoom, now: props.now }),
    [props.runs, width, zoom, props.now],
  );
  const zoomIndex = ZOOMS.indexOf(zoom);
  return (
    <section className="timeline" aria-label="Timeline" ref={box}>
      <div className="timeline-bar">
        <h2>Timeline</h2>
        <span className="hint">
          {timeline.rows.length ? formatDuration(timeline.end - timeline.start) : "no task has run yet"}
          {timeline.gaps.length > 0 && ` · ${timeline.gaps.length} idle stretch${timeline.gaps.length > 1 ? "es" : ""} squeezed`}
        </span>
        <span role="group" aria-label="Zoom" className="zoom">
          <button type="button" onClick={() => setZoom(ZOOMS[Math.max(0, zoomIndex - 1)])} disabled={zoomIndex <= 0}>
            Zoom out
          </button>
          <button type="button" onClick={() => setZoom(ZOOMS[Math.min(ZOOMS.length - 1, zoomIndex + 1)])} disabled={zoomIndex >= ZOOMS.length - 1}>
            Zoom in
          </button>
          <button type="button" onClick={() => setZoom(1)} disabled={zoom === 1}>
            Fit
          </button>
        </span>
      </div>
      <div className="timeline-scroll">
        <div className="timeline-grid" style={{ width: LABEL_WIDTH + timeline.width + 16 }}>
          {timeline.gaps.map((gap) => (
            <div
              key={gap.start}
              className="timeline-gap"
              style={{ left: LABEL_WIDTH + gap.left, width: gap.width }}
              title={`idle for ${formatDuration(gap.end - gap.start)}`}
            >
              <span className="visually-hidden">idle for {formatDuration(gap.end - gap.start)}</span>
            </div>
          ))}
          {timeline.rows.map((row) => (
            <div key={row.task} className={`timeline-row${row.task === props.selectedTask ? " selected" : ""}`} data-row={row.task}>
              <div className="timeline-label" style={{ width: LABEL_WIDTH, paddingLeft: 4 + row.depth * 12 }} title={row.task}>
                {row.name}
              </div>
              <div className="timeline-track" style={{ width: timeline.width }}>
                {row.segments.map((segment) => {
                  const selected = props.selectedRun !== null && segment.runs.includes(props.selectedRun);
                  const many = segment.runs.length > 1;
                  const label = many
                    ? `${row.name}: ${segment.runs.length} runs over ${formatDuration(segment.end - segment.start)}, ${segment.status} shown (zoom in to tell them apart)`
                    : `${row.name}${row.segments.length > 1 ? ` run ${segment.run}, attempt ${segment.attempt}` : ""}: ${segment.status}, ${formatDuration(segment.end - segment.start)}`;
                  return (
                    <button
                      type="button"
                      key={segment.run}
                      className={`segment status-${segment.status}${selected ? " selected" : ""}${segment.open ? " open" : ""}${many ? " many" : ""}`}
                      style={{ left: segment.left, width: segment.width }}
                      data-run={segment.run}
                      data-run-task={row.task}
                      data-status={segment.status}
                      data-attempt={segment.attempt}
                      data-runs={segment.runs.length}
                      aria-label={label}
                      aria-pressed={selected}
                      title={`${label}\n${segment.occurrence}`}
                      onClick={() => props.onSelect(row.task, segment.run)}
                    />
                  );
                })}
              </div>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
