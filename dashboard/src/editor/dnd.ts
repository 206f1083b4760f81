// Drag and drop of tasks: from the palette (a new task of a kind) onto an edge's "+",
// into a container, or onto the canvas; and of a task node to another place. Drop
// targets are DOM elements carrying data-drop-list (and data-drop-index).

import type { TaskKind } from "../graph/kinds";

export const DRAG_TYPE = "application/x-flowapp-task";

export interface NewTask {
  kind: TaskKind;
  functionName?: string;
}

export interface DropTarget {
  list: string;
  index: number | null; // null: at the end of the list
  edge: string | null; // the edge id when dropped on an edge's "+"
}

export function readDrag(data: DataTransfer): NewTask | null {
  const raw = data.getData(DRAG_TYPE);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as NewTask;
  } catch {
    return null;
  }
}

export function dropTargetOf(element: Element | null): DropTarget | null {
  const target = element?.closest("[data-drop-list]") as HTMLElement | null;
  if (!target) return null;
  const index = target.dataset.dropIndex;
  return { list: target.dataset.dropList!, index: index === undefined ? null : Number(index), edge: target.dataset.dropEdge ?? null };
}

/** The drop target under a point, ignoring the node being dragged. */
export function dropTargetAt(x: number, y: number, ignore: string): DropTarget | null {
  for (const element of document.elementsFromPoint(x, y)) {
    if ((element as HTMLElement).closest(`[data-task="${CSS.escape(ignore)}"]`)) continue;
    const target = dropTargetOf(element);
    if (target) return target;
  }
  return null;
}
