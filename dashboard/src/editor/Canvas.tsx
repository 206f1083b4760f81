// The workflow drawn: nodes placed by ELK (in a worker), containers as boxes that fold,
// an edge per flow directive with a "+" on each. A task is selected by a click (or
// Enter on its node); it moves by drag and drop onto an edge's "+" or into a container.

import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type Edge,
  type Node,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FunctionInfo } from "../api/types";
import { TASK_WIDTH, toElk, type Layout } from "../graph/layout";
import { layoutInWorker } from "../graph/layoutClient";
import { isTerminal, type FlowEdge, type WorkflowGraph } from "../graph/model";
import type { TaskKind } from "../graph/kinds";
import { dropTargetAt, DRAG_TYPE, readDrag, type NewTask } from "./dnd";
import { ContainerNodeView, FlowEdgeView, TaskNodeView, TerminalNodeView } from "./nodes";

const nodeTypes = { task: TaskNodeView, container: ContainerNodeView, terminal: TerminalNodeView };
const edgeTypes = { flow: FlowEdgeView };

interface Props {
  graph: WorkflowGraph;
  stale: boolean; // the text does not parse: this is the last good graph
  selection: string | null;
  problemCounts: Map<string, number>;
  /** The app's functions; null for a workflow that is not an app yet. */
  functions: Map<string, FunctionInfo> | null;
  onSelect(pointer: string | null): void;
  onAddOnEdge(edge: FlowEdge, task: NewTask): void;
  onAddInList(list: string, index: number | null, task: NewTask): void;
  onMove(pointer: string, list: string, index: number | null): void;
  onLayout?(ms: number, tasks: number): void;
}

export function Canvas(props: Props) {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

function CanvasInner(props: Props) {
  const { graph } = props;
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [layout, setLayout] = useState<Layout | null>(null);
  const [nodes, setNodes] = useState<Node[]>([]);
  const [openMenu, setOpenMenu] = useState<string | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const flow = useReactFlow();
  const shownCount = useRef(-1);

  // Lay out in the worker whenever the graph or the folding changes; newest wins.
  useEffect(() => {
    let current = true;
    const started = performance.now();
    layoutInWorker(toElk(graph, collapsed))
      .then(({ layout: laid, ms }) => {
        if (!current) return;
        setLayout(laid);
        latest.current.onLayout?.(ms, graph.tasks.size);
        performance.measure?.("flowapp:layout", { start: started, end: performance.now() });
      })
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [graph, collapsed]);

  const toggle = useCallback((pointer: string) => {
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(pointer)) next.delete(pointer);
      else next.add(pointer);
      return next;
    });
  }, []);

  const dropNew = useCallback((list: string, index: number | null, task: NewTask, edgeId: string | null) => {
    const edge = edgeId ? latest.current.graph.edges.find((e) => e.id === edgeId) : undefined;
    if (edge) latest.current.onAddOnEdge(edge, task);
    else latest.current.onAddInList(list, index, task);
  }, []);

  const built = useMemo(
    () => buildNodes(props, layout, collapsed, toggle, dropNew),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [graph, layout, collapsed, props.selection, props.problemCounts, props.functions, props.stale],
  );
  useEffect(() => setNodes(built), [built]);
  // When tasks come or go, fit the view again so that every task stays in sight.
  useEffect(() => {
    if (!built.length || built.length === shownCount.current) return;
    shownCount.current = built.length;
    const frame = window.requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.1 }));
    return () => window.cancelAnimationFrame(frame);
  }, [built, flow]);

  const edges = useMemo<Edge[]>(() => {
    const shown = new Set(built.map((node) => node.id));
    const parallel = new Map<string, number>(); // edges sharing both ends: labels side by side
    return graph.edges
      .filter((edge) => shown.has(edge.source) && shown.has(edge.target))
      .map((edge) => {
        const pair = `${edge.source}->${edge.target}`;
        const offset = parallel.get(pair) ?? 0;
        parallel.set(pair, offset + 1);
        return { edge, offset };
      })
      .map(({ edge, offset }) => ({
        id: edge.id,
        source: edge.source,
        target: edge.target,
        type: "flow",
        markerEnd: { type: MarkerType.ArrowClosed },
        data: {
          edge,
          offset,
          menuOpen: openMenu === edge.id,
          onMenu: setOpenMenu,
          onAdd: (e: FlowEdge, kind: TaskKind) => latest.current.onAddOnEdge(e, { kind }),
          onDropNew: dropNew,
        },
      }));
  }, [graph, built, dropNew, openMenu]);

  const onNodesChange = useCallback((changes: NodeChange[]) => setNodes((current) => applyNodeChanges(changes, current)), []);

  return (
    <div
      className={`canvas${props.stale ? " stale" : ""}`}
      aria-label="Workflow graph"
      role="region"
      onKeyDown={(event) => {
        // Enter or Space on a focused node (React Flow makes them focusable) selects it.
        const focused = (event.target as HTMLElement).closest(".react-flow__node") as HTMLElement | null;
        const id = focused?.dataset.id;
        if ((event.key === "Enter" || event.key === " ") && id && !isTerminal(id)) {
          event.preventDefault();
          props.onSelect(id);
        }
      }}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes(DRAG_TYPE)) event.preventDefault();
      }}
      onDrop={(event) => {
        const dropped = readDrag(event.dataTransfer);
        if (!dropped) return;
        event.preventDefault();
        latest.current.onAddInList(latest.current.graph.root, null, dropped);
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_, node) => !isTerminal(node.id) && props.onSelect(node.id)}

        onPaneClick={() => props.onSelect(null)}
        onNodeDragStop={(event, node) => {
          const point = "changedTouches" in event ? event.changedTouches[0] : event;
          const target = point ? dropTargetAt(point.clientX, point.clientY, node.id) : null;
          if (target && !isTerminal(node.id)) latest.current.onMove(node.id, target.list, target.index);
          else setNodes(built);
        }}
        nodesConnectable={false}
        elementsSelectable
        onlyRenderVisibleElements
        minZoom={0.1}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.1 }}
        deleteKeyCode={null}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

function buildNodes(
  props: Props,
  layout: Layout | null,
  collapsed: Set<string>,
  onToggle: (pointer: string) => void,
  onDropNew: (list: string, index: number | null, task: NewTask, edge: string | null) => void,
): Node[] {
  if (!layout) return [];
  const nodes: Node[] = [];
  // Parents before children, as React Flow requires.
  const ordered = [...layout.boxes.values()].sort((a, b) => depth(layout, a.id) - depth(layout, b.id));
  for (const box of ordered) {
    const base = {
      id: box.id,
      position: { x: box.x, y: box.y },
      ...(box.parent ? { parentId: box.parent } : {}),
    };
    if (isTerminal(box.id)) {
      nodes.push({ ...base, type: "terminal", draggable: false, selectable: false, data: { label: terminalLabel(props.graph, box.id) }, width: box.width, height: box.height });
      continue;
    }
    const task = props.graph.tasks.get(box.id);
    if (!task) continue;
    const call = task.kind === "call" && typeof task.definition.call === "string" ? task.definition.call : null;
    const info = call && props.functions && isProjectFunction(call) ? (props.functions.get(call) ?? undeclared(call)) : null;
    const container = task.lists.length > 0;
    nodes.push({
      ...base,
      type: container ? "container" : "task",
      selected: props.selection === task.id,
      width: container ? box.width : TASK_WIDTH,
      height: box.height,
      style: container ? { width: box.width, height: box.height } : undefined,
      ariaLabel: `${task.kind} task ${task.name}`,
      data: {
        task,
        problems: props.problemCounts.get(task.id) ?? 0,
        function: info,
        collapsed: collapsed.has(task.id),
        stale: props.stale,
        onToggle,
        onDropNew,
      },
    });
  }
  return nodes;
}

const BUILTIN_CALLS = new Set(["http", "openapi", "grpc", "asyncapi", "a2a", "mcp"]);

/** A call the app must have code for (not built in, not cataloged, not by URI). */
function isProjectFunction(call: string): boolean {
  return !BUILTIN_CALLS.has(call) && !call.includes("@") && !call.includes("://");
}

function undeclared(name: string): FunctionInfo {
  return { name, runtime: null, path: null, declared: false, has_code: false, called_by: [] };
}

function depth(layout: Layout, id: string): number {
  let count = 0;
  for (let box = layout.boxes.get(id); box?.parent; box = layout.boxes.get(box.parent)) count++;
  return count;
}

function terminalLabel(graph: WorkflowGraph, id: string): string {
  const [end, list] = [id.startsWith("end:"), id.slice(id.indexOf(":") + 1)];
  if (list === graph.root) return end ? "end" : "start";
  const role = graph.lists.get(list)?.role ?? "do";
  return end ? "" : role;
}
