// The run view's graph: the editor's model and ELK layout, drawn read-only, each task
// coloured by its status. Nodes carry data-task=<pointer> and data-status. Loops get an
// iteration picker on their box; a `run: workflow` task links to the sub-workflow it
// started.

import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  getSmoothStepPath,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type EdgeProps,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { KIND_LABELS } from "../graph/kinds";
import { TASK_WIDTH, toElk, type Layout } from "../graph/layout";
import { layoutInWorker } from "../graph/layoutClient";
import { isTerminal, type FlowEdge, type TaskNode, type WorkflowGraph } from "../graph/model";
import { executionPath, Link } from "../router";
import type { NodeStatus } from "./status";

export interface RunGraphProps {
  graph: WorkflowGraph;
  statuses: ReadonlyMap<string, NodeStatus>;
  runCounts: ReadonlyMap<string, number>;
  selection: string | null;
  /** Iterations with runs, per loop pointer; the picked one per loop. */
  loopIterations: ReadonlyMap<string, number[]>;
  picked: ReadonlyMap<string, number>;
  onPick(loop: string, iteration: number | null): void;
  /** Sub-workflow executions started by a `run` task, by its pointer. */
  subWorkflows: ReadonlyMap<string, string[]>;
  onSelect(pointer: string | null): void;
}

interface RunTaskData extends Record<string, unknown> {
  task: TaskNode;
  status: NodeStatus;
  runs: number;
  iterations: number[] | null;
  picked: number | null;
  onPick(loop: string, iteration: number | null): void;
  children: string[];
}

const STATUS_LABELS: Record<NodeStatus, string> = {
  pending: "not run yet",
  running: "running",
  waiting: "waiting",
  completed: "completed",
  faulted: "faulted",
  cancelled: "cancelled",
  skipped: "skipped",
};

function StatusLine(props: { status: NodeStatus; runs: number }) {
  return (
    <span className="run-status">
      <span className={`status-dot status-${props.status}`} aria-hidden="true" />
      {STATUS_LABELS[props.status]}
      {props.runs > 1 ? ` · ${props.runs} runs` : ""}
    </span>
  );
}

function SubWorkflowLinks(props: { ids: string[] }) {
  if (!props.ids.length) return null;
  return (
    <span className="sub-workflows nodrag">
      {props.ids.slice(0, 3).map((id, index) => (
        <Link key={id} to={executionPath(id)} className="sub-workflow">
          {props.ids.length > 1 ? `sub-workflow ${index + 1}` : "open sub-workflow"}
        </Link>
      ))}
    </span>
  );
}

const RunTaskView = memo(function RunTaskView({ data, selected }: NodeProps & { data: RunTaskData }) {
  const { task, status } = data;
  return (
    <div
      className={`task-node run-node status-${status}${selected ? " selected" : ""}`}
      data-task={task.id}
      data-kind={task.kind}
      data-status={status}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="task-head">
        <span className="task-kind">{KIND_LABELS[task.kind]}</span>
        <StatusLine status={status} runs={data.runs} />
      </div>
      <div className="task-name">{task.name}</div>
      <div className="task-summary">
        {data.children.length ? <SubWorkflowLinks ids={data.children} /> : task.summary}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

const RunContainerView = memo(function RunContainerView({ data, selected }: NodeProps & { data: RunTaskData }) {
  const { task, status } = data;
  const pickerId = `iteration-${task.id}`;
  return (
    <div
      className={`container-node run-node status-${status}${selected ? " selected" : ""}`}
      data-task={task.id}
      data-kind={task.kind}
      data-status={status}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="container-head">
        <span className="task-kind">{KIND_LABELS[task.kind]}</span>
        <span className="task-name">{task.name}</span>
        <StatusLine status={status} runs={data.runs} />
        {data.iterations && data.iterations.length > 0 && (
          <span className="iteration-picker nodrag">
            <label htmlFor={pickerId}>Iteration</label>
            <select
              id={pickerId}
              value={data.picked === null ? "" : String(data.picked)}
              onClick={(event) => event.stopPropagation()}
              onChange={(event) => data.onPick(task.id, event.target.value === "" ? null : Number(event.target.value))}
            >
              <option value="">all ({data.iterations.length})</option>
              {data.iterations.map((iteration) => (
                <option key={iteration} value={iteration}>
                  {iteration}
                </option>
              ))}
            </select>
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

function RunTerminalView({ data }: NodeProps & { data: { label: string } }) {
  return (
    <div className="terminal-node" title={data.label}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="terminal-label">{data.label}</span>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

function RunEdgeView(props: EdgeProps & { data?: { edge: FlowEdge; offset: number } }) {
  const [path, labelX, labelY] = getSmoothStepPath({ ...props, borderRadius: 8 });
  const edge = props.data!.edge;
  const offset = props.data!.offset;
  return (
    <>
      <BaseEdge id={props.id} path={path} markerEnd={props.markerEnd} className={`flow-edge edge-${edge.kind}`} />
      {edge.label && (
        <EdgeLabelRenderer>
          <div
            className="edge-tools"
            style={{ transform: `translate(-50%, -50%) translate(${labelX + offset * 150}px, ${labelY + offset * 26}px)` }}
            data-edge={edge.id}
          >
            <span className="edge-label">{edge.label}</span>
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

const nodeTypes = { runTask: RunTaskView, runContainer: RunContainerView, terminal: RunTerminalView };
const edgeTypes = { run: RunEdgeView };

export function RunGraph(props: RunGraphProps) {
  return (
    <ReactFlowProvider>
      <RunGraphInner {...props} />
    </ReactFlowProvider>
  );
}

function RunGraphInner(props: RunGraphProps) {
  const { graph } = props;
  const [layout, setLayout] = useState<Layout | null>(null);
  const flow = useReactFlow();
  const fitted = useRef<WorkflowGraph | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    let current = true;
    layoutInWorker(toElk(graph))
      .then(({ layout: laid }) => current && setLayout(laid))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [graph]);

  const onPick = useCallback((loop: string, iteration: number | null) => latest.current.onPick(loop, iteration), []);

  const nodes = useMemo<Node[]>(() => {
    if (!layout) return [];
    const out: Node[] = [];
    const depth = (id: string) => {
      let count = 0;
      for (let box = layout.boxes.get(id); box?.parent; box = layout.boxes.get(box.parent)) count++;
      return count;
    };
    const ordered = [...layout.boxes.values()].sort((a, b) => depth(a.id) - depth(b.id));
    for (const box of ordered) {
      const base = { id: box.id, position: { x: box.x, y: box.y }, ...(box.parent ? { parentId: box.parent } : {}) };
      if (isTerminal(box.id)) {
        const list = box.id.slice(box.id.indexOf(":") + 1);
        const label = list === graph.root ? (box.id.startsWith("end:") ? "end" : "start") : "";
        out.push({ ...base, type: "terminal", draggable: false, selectable: false, focusable: false, data: { label }, width: box.width, height: box.height });
        continue;
      }
      const task = graph.tasks.get(box.id);
      if (!task) continue;
      const container = task.lists.length > 0;
      const status = props.statuses.get(task.id) ?? "pending";
      out.push({
        ...base,
        type: container ? "runContainer" : "runTask",
        draggable: false,
        selected: props.selection === task.id,
        width: container ? box.width : TASK_WIDTH,
        height: box.height,
        style: container ? { width: box.width, height: box.height } : undefined,
        ariaLabel: `${task.kind} task ${task.name}: ${STATUS_LABELS[status]}`,
        data: {
          task,
          status,
          runs: props.runCounts.get(task.id) ?? 0,
          iterations: task.kind === "for" || task.kind === "listen" ? (props.loopIterations.get(task.id) ?? null) : null,
          picked: props.picked.get(task.id) ?? null,
          onPick,
          children: props.subWorkflows.get(task.id) ?? [],
        } satisfies RunTaskData,
      });
    }
    return out;
  }, [layout, graph, props.statuses, props.runCounts, props.selection, props.loopIterations, props.picked, props.subWorkflows, onPick]);

  const edges = useMemo<Edge[]>(() => {
    const shown = new Set(nodes.map((node) => node.id));
    const parallel = new Map<string, number>();
    return graph.edges
      .filter((edge) => shown.has(edge.source) && shown.has(edge.target))
      .map((edge) => {
        const pair = `${edge.source}->${edge.target}`;
        const offset = parallel.get(pair) ?? 0;
        parallel.set(pair, offset + 1);
        return {
          id: edge.id,
          source: edge.source,
          target: edge.target,
          type: "run",
          markerEnd: { type: MarkerType.ArrowClosed },
          data: { edge, offset },
        };
      });
  }, [graph, nodes]);

  // Fit once per workflow, when it is first laid out.
  useEffect(() => {
    if (!nodes.length || fitted.current === graph) return;
    fitted.current = graph;
    const frame = window.requestAnimationFrame(() => void flow.fitView({ maxZoom: 1, padding: 0.1 }));
    return () => window.cancelAnimationFrame(frame);
  }, [nodes, graph, flow]);

  return (
    <div
      className="canvas run-canvas"
      aria-label="Workflow graph"
      role="region"
      onKeyDown={(event) => {
        const focused = (event.target as HTMLElement).closest(".react-flow__node") as HTMLElement | null;
        const id = focused?.dataset.id;
        if ((event.key === "Enter" || event.key === " ") && id && !isTerminal(id)) {
          event.preventDefault();
          props.onSelect(id);
        }
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodeClick={(_, node) => !isTerminal(node.id) && props.onSelect(node.id)}
        onPaneClick={() => props.onSelect(null)}
        nodesDraggable={false}
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
