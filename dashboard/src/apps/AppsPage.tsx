// The apps: each with its conditions (Ready, FunctionsReady, TriggersReady and their
// reasons), serving revision and traffic split, triggers, functions with their
// instances, and the figures of the last five minutes from the metrics API; a panel per
// app opens its functions' figures.

import { Fragment, useEffect, useState } from "react";
import { ApiError, describeError } from "../api/client";
import type { App, AppMetrics, CallFigures, SeriesPoint } from "../api/types";
import { useSession } from "../auth/session";
import { Banner } from "../components/Banner";
import { useAsync } from "../components/useAsync";
import { Link, appPath } from "../router";
import { Spark } from "./Spark";

const CONDITIONS = ["Ready", "FunctionsReady", "TriggersReady"];
const METRICS_WINDOW = 300;
const REFRESH_MS = 10_000;

export function AppsPage() {
  const { client } = useSession();
  const apps = useAsync(() => client.listApps(), [client]);
  const [open, setOpen] = useState<string | null>(null);
  const items = apps.value?.items ?? [];
  return (
    <main className="page">
      <h1>Apps</h1>
      <p>
        <Link to="/new">New workflow</Link>: draw one, then deploy it as an app.
      </p>
      {apps.error && <Banner kind="error">{apps.error}</Banner>}
      {apps.value && items.length === 0 && <p>No apps yet.</p>}
      {items.length > 0 && (
        <table className="table apps" aria-label="Apps">
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">Conditions</th>
              <th scope="col">Revision and traffic</th>
              <th scope="col">Functions</th>
              <th scope="col">Triggers</th>
              <th scope="col">Last 5 min</th>
              <th scope="col">
                <span className="visually-hidden">Links</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((app) => (
              <Fragment key={app.name}>
                <tr data-app={app.name}>
                  <td>
                    <Link to={appPath(app.name)}>{app.name}</Link>
                  </td>
                  <td>
                    <Conditions app={app} />
                  </td>
                  <td>
                    <div>{app.deployed_revision ?? "not deployed"}</div>
                    {app.traffic.length > 0 && (
                      <div className="traffic" data-traffic={app.traffic.map((t) => `${t.revision}=${t.percent}`).join(",")}>
                        {app.traffic.map((t) => (
                          <span key={t.revision} className="traffic-share" style={{ flexGrow: Math.max(t.percent, 1) }} title={`${t.revision}: ${t.percent}%`}>
                            {t.revision.replace(`${app.name}-`, "")} {t.percent}%
                          </span>
                        ))}
                      </div>
                    )}
                  </td>
                  <td>
                    <Observed entries={observation(app, "functions")} unit="instance" />
                  </td>
                  <td>
                    <Observed entries={observation(app, "triggers")} />
                  </td>
                  <td>
                    <MetricsSummary app={app.name} />
                  </td>
                  <td className="row-links">
                    <Link to={`/executions?app=${encodeURIComponent(app.name)}`}>Executions</Link>
                    <button
                      type="button"
                      className="link-button"
                      aria-expanded={open === app.name}
                      aria-controls={`metrics-${app.name}`}
                      onClick={() => setOpen(open === app.name ? null : app.name)}
                    >
                      Metrics
                    </button>
                  </td>
                </tr>
                {open === app.name && (
                  <tr>
                    <td colSpan={7} id={`metrics-${app.name}`}>
                      <MetricsPanel app={app.name} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function Conditions(props: { app: App }) {
  const byType = new Map(props.app.conditions.map((c) => [c.type, c]));
  const shown = [...CONDITIONS, ...props.app.conditions.map((c) => c.type).filter((t) => !CONDITIONS.includes(t))];
  return (
    <ul className="conditions">
      {shown.map((type) => {
        const condition = byType.get(type);
        if (!condition && type !== "Ready") return null;
        const status = condition?.status ?? "Unknown";
        return (
          <li key={type} data-condition={type} data-condition-status={status} title={condition?.message}>
            <span className={`condition condition-${status.toLowerCase()}`}>{type}</span>{" "}
            {condition ? `${status} (${condition.reason})` : "unknown"}
          </li>
        );
      })}
    </ul>
  );
}

function observation(app: App, section: "functions" | "triggers"): [string, unknown][] {
  const value = (app.observation ?? {})[section];
  return value && typeof value === "object" ? Object.entries(value as Record<string, unknown>) : [];
}

function Observed(props: { entries: [string, unknown][]; unit?: string }) {
  if (!props.entries.length) return <span className="hint">none</span>;
  return (
    <ul className="observed">
      {props.entries.map(([name, value]) => {
        const v = (value ?? {}) as Record<string, unknown>;
        const state = typeof v.state === "string" ? v.state : typeof value === "string" ? value : "";
        const instances = typeof v.instances === "number" ? v.instances : null;
        return (
          <li key={name} data-name={name} data-state={state}>
            <strong>{name}</strong> {state}
            {instances !== null && props.unit ? ` · ${instances} ${props.unit}${instances === 1 ? "" : "s"}` : ""}
            {typeof v.error === "string" && v.error ? <span className="danger"> · {v.error}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}

/** A number of seconds as milliseconds for people; "—" without calls. */
export function ms(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const value = seconds * 1000;
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  return `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)}%`;
}

function useMetrics(app: string, series = false) {
  const { client } = useSession();
  const [metrics, setMetrics] = useState<AppMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    const load = () =>
      client
        .appMetrics(app, METRICS_WINDOW, series)
        .then((value) => current && (setMetrics(value), setError(null)))
        .catch((failure) => {
          if (!current) return;
          setError(failure instanceof ApiError && failure.status === 501 ? "this server keeps no metrics" : describeError(failure));
        });
    void load();
    const timer = window.setInterval(() => document.visibilityState === "visible" && void load(), REFRESH_MS);
    return () => {
      current = false;
      window.clearInterval(timer);
    };
  }, [client, app, series]);
  return { metrics, error };
}

function MetricsSummary(props: { app: string }) {
  const { metrics, error } = useMetrics(props.app);
  if (error) return <span className="hint">{error}</span>;
  if (!metrics) return <span className="hint">…</span>;
  const t = metrics.totals;
  return (
    <span className="metrics-summary" data-requests={t.requests}>
      {t.requests_per_second.toFixed(2)} rps · errors {percent(t.error_rate)} · p95 {ms(t.latency_seconds.p95)}
    </span>
  );
}

function Figures(props: { figures: CallFigures }) {
  const f = props.figures;
  return (
    <>
      <td>{f.requests}</td>
      <td data-metric="rps">{f.requests_per_second.toFixed(3)}</td>
      <td data-metric="error_rate">{percent(f.error_rate)}</td>
      <td>
        {Object.entries(f.by_code)
          .map(([code, count]) => `${code}: ${count}`)
          .join(", ") || "—"}
      </td>
      <td data-metric="p50">{ms(f.latency_seconds.p50)}</td>
      <td data-metric="p95">{ms(f.latency_seconds.p95)}</td>
      <td data-metric="p99">{ms(f.latency_seconds.p99)}</td>
    </>
  );
}

export function MetricsPanel(props: { app: string }) {
  const { metrics, error } = useMetrics(props.app, true);
  return (
    <section className="metrics-panel" aria-label={`Metrics of ${props.app}`} data-metrics-app={props.app}>
      {error && <Banner kind="warning">The metrics cannot be read: {error}</Banner>}
      {metrics && (
        <>
          <p className="hint">
            The last {Math.round(metrics.covered_seconds)} s (of a {metrics.window_seconds} s window), read again every{" "}
            {REFRESH_MS / 1000} s.
          </p>
          <table className="table metrics" aria-label={`Function calls of ${props.app}`}>
            <thead>
              <tr>
                <th scope="col">Function</th>
                <th scope="col">Instances</th>
                <th scope="col">Requests</th>
                <th scope="col">Per second</th>
                <th scope="col">Error rate</th>
                <th scope="col">By status class</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
                <th scope="col">p99</th>
                <th scope="col">Requests/s over time</th>
              </tr>
            </thead>
            <tbody>
              {metrics.functions.map((f) => (
                <tr key={f.function} data-function={f.function}>
                  <th scope="row">{f.function}</th>
                  <td>
                    {f.instances}
                    {f.in_flight ? ` (${f.in_flight} busy)` : ""}
                  </td>
                  <Figures figures={f} />
                  <td>
                    <Spark points={(f.series ?? []).map((p) => p.requests_per_second)} label={`${f.function} requests per second`} format={rate} />
                  </td>
                </tr>
              ))}
              <tr data-function="">
                <th scope="row">all functions</th>
                <td />
                <Figures figures={metrics.totals} />
                <td>
                  <Spark points={(metrics.totals.series ?? []).map((p) => p.requests_per_second)} label="all functions requests per second" format={rate} />
                </td>
              </tr>
            </tbody>
          </table>
          <TotalsCharts series={metrics.totals.series ?? []} />
          <p className="executions-figures" data-started={metrics.executions.started}>
            Executions: {metrics.executions.started} started ({metrics.executions.started_per_second.toFixed(3)}/s);{" "}
            {Object.entries(metrics.executions.by_status)
              .map(([status, count]) => `${count} ${status}`)
              .join(", ")}
            ; duration p50 {ms(metrics.executions.duration_seconds.p50)}, p95 {ms(metrics.executions.duration_seconds.p95)}, p99{" "}
            {ms(metrics.executions.duration_seconds.p99)}
          </p>
        </>
      )}
    </section>
  );
}

const rate = (value: number | null) => (value === null ? "—" : `${value.toFixed(2)}/s`);

/** The app's figures over the window, a chart each (the seed's Grafana views). */
function TotalsCharts(props: { series: SeriesPoint[] }) {
  if (props.series.length < 2) return <p className="hint">Charts appear once the server has sampled its counters twice.</p>;
  const statuses = ["completed", "faulted", "cancelled"];
  return (
    <div className="charts" role="group" aria-label="Over the window">
      <figure>
        <Spark points={props.series.map((p) => p.requests_per_second)} label="Requests per second" format={rate} width={180} height={40} />
        <figcaption>Requests/s</figcaption>
      </figure>
      <figure>
        <Spark points={props.series.map((p) => p.error_rate)} label="Error rate" format={percent} width={180} height={40} />
        <figcaption>Error rate</figcaption>
      </figure>
      <figure>
        <Spark points={props.series.map((p) => p.latency_p95)} label="Latency p95" format={ms} width={180} height={40} />
        <figcaption>Latency p95</figcaption>
      </figure>
      {statuses.map((status) => (
        <figure key={status}>
          <Spark
            points={props.series.map((p) => p.executions?.[status] ?? 0)}
            label={`Executions ${status} per step`}
            format={(v) => (v === null ? "—" : String(v))}
            width={180}
            height={40}
          />
          <figcaption>Executions {status}</figcaption>
        </figure>
      ))}
    </div>
  );
}
