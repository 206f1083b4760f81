// Task kinds (and the app's functions) to drag onto the canvas: onto an edge's "+",
// into a container, or anywhere on the canvas (the end of the workflow). A click (or
// Enter) adds the task after the selected one, for keyboards.

import type { FunctionInfo } from "../api/types";
import { KIND_LABELS, TASK_KINDS } from "../graph/kinds";
import { DRAG_TYPE, type NewTask } from "./dnd";

export function Palette(props: { functions: FunctionInfo[]; onAdd(task: NewTask): void }) {
  const items: { key: string; label: string; task: NewTask }[] = [
    ...props.functions.map((f) => ({ key: `fn-${f.name}`, label: `Call ${f.name}`, task: { kind: "call" as const, functionName: f.name } })),
    ...TASK_KINDS.map((kind) => ({ key: kind, label: KIND_LABELS[kind], task: { kind } })),
  ];
  return (
    <nav className="palette" aria-label="Task palette">
      <h2>Tasks</h2>
      <p className="hint">Drag onto an edge or into a box; or press to add after the selected task.</p>
      <ul>
        {items.map((item) => (
          <li key={item.key}>
            <button
              type="button"
              draggable
              data-palette={item.task.functionName ? `call:${item.task.functionName}` : item.task.kind}
              onDragStart={(event) => {
                event.dataTransfer.setData(DRAG_TYPE, JSON.stringify(item.task));
                event.dataTransfer.effectAllowed = "copy";
              }}
              onClick={() => props.onAdd(item.task)}
            >
              {item.label}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
