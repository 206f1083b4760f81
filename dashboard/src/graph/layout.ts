// Automatic layout with ELK: tasks top to bottom, containers (for, fork, try, do) as
// nested boxes holding their task lists. Positions are never stored in the YAML.
//
//   WorkflowGraph --toElk--> ELK graph --elk.layout (in a Web Worker)--> fromElk --> boxes
//
// Pure functions here; layout.worker.ts runs ELK off the main thread.

import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { endOf, startOf, type WorkflowGraph } from "./model";

export const TASK_WIDTH = 210;
export const TASK_HEIGHT = 58;
export const TERMINAL_SIZE = 26;
export const CONTAINER_HEADER = 40;
const COLLAPSED_HEIGHT = 64;

export interface Box {
  id: string;
  parent: string | null;
  x: number; // relative to the parent box
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  boxes: Map<string, Box>;
  width: number;
  height: number;
}

const ROOT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "34",
  "elk.spacing.nodeNode": "28",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  // The canvas draws its own edges, so ELK's routes are not used: polyline routing and
  // one pass of crossing minimisation, in document order, lay out 500 tasks about 2-3
  // times faster than orthogonal routing at the default thoroughness (layout.bench.ts).
  "elk.edgeRouting": "POLYLINE",
  "elk.layered.thoroughness": "1",
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
};
const CONTAINER_OPTIONS: Record<string, string> = {
  "elk.padding": `[top=${CONTAINER_HEADER},left=16,bottom=16,right=16]`,
};

/** The graph as ELK wants it; ``collapsed`` containers are drawn without their insides. */
export function toElk(graph: WorkflowGraph, collapsed: ReadonlySet<string> = new Set()): ElkNode {
  const visible = new Set<string>();
  const listChildren = (list: string): ElkNode[] => {
    const tasks = graph.lists.get(list)?.tasks ?? [];
    const nodes: ElkNode[] = [terminal(startOf(list)), ...tasks.map(taskNode), terminal(endOf(list))];
    return nodes;
  };
  const terminal = (id: string): ElkNode => {
    visible.add(id);
    return { id, width: TERMINAL_SIZE, height: TERMINAL_SIZE };
  };
  const taskNode = (id: string): ElkNode => {
    visible.add(id);
    const task = graph.tasks.get(id)!;
    if (task.lists.length === 0) return { id, width: TASK_WIDTH, height: TASK_HEIGHT };
    if (collapsed.has(id)) return { id, width: TASK_WIDTH, height: COLLAPSED_HEIGHT };
    return { id, layoutOptions: CONTAINER_OPTIONS, children: task.lists.flatMap(listChildren) };
  };
  const children = listChildren(graph.root);
  const edges: ElkExtendedEdge[] = graph.edges
    .filter((edge) => visible.has(edge.source) && visible.has(edge.target))
    .map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] }));
  return { id: "root", layoutOptions: ROOT_OPTIONS, children, edges };
}

/** ELK's answer as boxes by node id (positions relative to the parent box). */
export function fromElk(laid: ElkNode): Layout {
  const boxes = new Map<string, Box>();
  const visit = (node: ElkNode, parent: string | null) => {
    for (const child of node.children ?? []) {
      boxes.set(child.id, {
        id: child.id,
        parent,
        x: child.x ?? 0,
        y: child.y ?? 0,
        width: child.width ?? TASK_WIDTH,
        height: child.height ?? TASK_HEIGHT,
      });
      visit(child, child.id);
    }
  };
  visit(laid, null);
  return { boxes, width: laid.width ?? 0, height: laid.height ?? 0 };
}
