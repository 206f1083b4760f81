// The canvas's node and edge components. Every task node carries data-task=<pointer>;
// run views add data-status to the same element.

import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, Handle, Position, type EdgeProps, type NodeProps } from "@xyflow/react";
import { useState } from "react";
import type { FunctionInfo } from "../api/types";
import { KIND_LABELS, TASK_KINDS, type TaskKind } from "../graph/kinds";
import type { FlowEdge, TaskNode } from "../graph/model";
import { DRAG_TYPE, readDrag, type NewTask } from "./dnd";

export interface TaskData extends Record<string, unknown> {
  task: TaskNode;
  problems: number;
  function: FunctionInfo | null;
  collapsed: boolean;
  stale: boolean;
  onToggle(pointer: string): void;
  onDropNew(list: string, index: number | null, task: NewTask, edge: string | null): void;
}

export interface TerminalData extends Record<string, unknown> {
  label: string;
}

export interface EdgeData extends Record<string, unknown> {
  edge: FlowEdge;
  offset: number; // the how-manieth edge between the same two nodes
  menuOpen: boolean; // its "+" menu is open (kept by the canvas: edges are redrawn often)
  onMenu(edge: string | null): void;
  onAdd(edge: FlowEdge, kind: TaskKind): void;
  onDropNew(list: string, index: number | null, task: NewTask, edge: string | null): void;
}

function Badge(props: { count: number; pointer: string }) {
  if (!props.count) return null;
  const label = `${props.count} problem${props.count > 1 ? "s" : ""}`;
  return (
    <span className="badge" data-problems={props.count} title={label} aria-label={label}>
      {props.count}
    </span>
  );
}

function FunctionLine(props: { info: FunctionInfo | null }) {
  if (!props.info) return null;
  if (!props.info.has_code) {
    return (
      <span className="no-code" data-no-code="true">
        {props.info.declared ? "no code yet" : "function not declared"}
      </span>
    );
  }
  return <span className="runtime">{props.info.runtime}</span>;
}

export function TaskNodeView({ data, selected }: NodeProps & { data: TaskData }) {
  const { task } = data;
  return (
    <div
      className={`task-node kind-${task.kind}${selected ? " selected" : ""}${data.problems ? " has-problems" : ""}`}
      data-task={task.id}
      data-kind={task.kind}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="task-head">
        <span className="task-kind">{KIND_LABELS[task.kind]}</span>
        <Badge count={data.problems} pointer={task.id} />
      </div>
      <div className="task-name">{task.name}</div>
      <div className="task-summary">
        {task.summary} <FunctionLine info={data.function} />
      </div>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

export function ContainerNodeView({ data, selected }: NodeProps & { data: TaskData }) {
  const { task } = data;
  const [over, setOver] = useState(false);
  const firstList = task.lists[0];
  return (
    <div
      className={`container-node kind-${task.kind}${selected ? " selected" : ""}${over ? " drop-over" : ""}`}
      data-task={task.id}
      data-kind={task.kind}
      data-drop-list={firstList}
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
        event.preventDefault();
        event.stopPropagation();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(event) => {
        const dropped = readDrag(event.dataTransfer);
        setOver(false);
        if (!dropped) return;
        event.preventDefault();
        event.stopPropagation();
        data.onDropNew(firstList, null, dropped, null);
      }}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <div className="container-head">
        <button
          type="button"
          className="collapse"
          aria-expanded={!data.collapsed}
          aria-label={`${data.collapsed ? "Expand" : "Collapse"} ${task.name}`}
          onClick={(event) => {
            event.stopPropagation();
            data.onToggle(task.id);
          }}
        >
          {data.collapsed ? "▸" : "▾"}
        </button>
        <span className="task-kind">{KIND_LABELS[task.kind]}</span>
        <span className="task-name">{task.name}</span>
        <Badge count={data.problems} pointer={task.id} />
      </div>
      {data.collapsed && <div className="task-summary">{task.summary || `${task.lists.length} list(s) folded`}</div>}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

export function TerminalNodeView({ data }: NodeProps & { data: TerminalData }) {
  return (
    <div className="terminal-node" title={data.label}>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="terminal-label">{data.label}</span>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

export function FlowEdgeView(props: EdgeProps & { data?: EdgeData }) {
  const [path, labelX, labelY] = getSmoothStepPath({ ...props, borderRadius: 8 });
  const [over, setOver] = useState(false);
  const data = props.data!;
  const menu = data.menuOpen;
  const setMenu = (open: boolean) => data.onMenu(open ? data.edge.id : null);
  const edge = data.edge;
  return (
    <>
      <BaseEdge id={props.id} path={path} markerEnd={props.markerEnd} className={`flow-edge edge-${edge.kind}`} />
      <EdgeLabelRenderer>
        <div
          className={`edge-tools${over ? " drop-over" : ""}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX + data.offset * 150}px, ${labelY + data.offset * 26}px)` }}
          data-edge={edge.id}
          data-drop-list={edge.list}
          data-drop-index={edge.insertAt}
          data-drop-edge={edge.id}
          onDragOver={(event) => {
            if (!event.dataTransfer.types.includes(DRAG_TYPE)) return;
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(event) => {
            const dropped = readDrag(event.dataTransfer);
            setOver(false);
            if (!dropped) return;
            event.preventDefault();
            event.stopPropagation();
            data.onDropNew(edge.list, edge.insertAt, dropped, edge.id);
          }}
        >
          {edge.label && <span className="edge-label">{edge.label}</span>}
          <button
            type="button"
            className="edge-plus nodrag nopan"
            aria-label={`Add a task on the edge ${edge.label ?? ""} here`.replace("  ", " ")}
            aria-expanded={menu}
            onClick={() => setMenu(!menu)}
          >
            +
          </button>
          {menu && (
            <div className="kind-menu" role="menu" onKeyDown={(event) => event.key === "Escape" && setMenu(false)}>
              {TASK_KINDS.map((kind) => (
                <button
                  key={kind}
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setMenu(false);
                    data.onAdd(edge, kind);
                  }}
                >
                  {KIND_LABELS[kind]}
                </button>
              ))}
            </div>
          )}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}
