// A small line chart of one figure over a metrics window (the API's `series`), drawn as
// SVG: null points (no calls in that step) break the line.

export function sparkPath(points: readonly (number | null)[], width: number, height: number): string {
  const values = points.filter((p): p is number => p !== null);
  if (!values.length) return "";
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const span = max - min || 1;
  const step = points.length > 1 ? width / (points.length - 1) : 0;
  let path = "";
  let drawing = false;
  points.forEach((p, i) => {
    if (p === null) {
      drawing = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (height - 1 - ((p - min) / span) * (height - 2)).toFixed(1);
    path += `${drawing ? "L" : "M"}${x} ${y} `;
    drawing = true;
  });
  return path.trim();
}

export function Spark(props: {
  points: readonly (number | null)[];
  label: string;
  format(value: number | null): string;
  width?: number;
  height?: number;
}) {
  const width = props.width ?? 120;
  const height = props.height ?? 28;
  const last = [...props.points].reverse().find((p) => p !== null) ?? null;
  const peak = props.points.reduce<number | null>((m, p) => (p === null ? m : m === null ? p : Math.max(m, p)), null);
  const text = `${props.label}: now ${props.format(last)}, peak ${props.format(peak)} (${props.points.length} steps)`;
  return (
    <svg className="spark" width={width} height={height} role="img" aria-label={text} data-points={props.points.length}>
      <title>{text}</title>
      <path d={sparkPath(props.points, width, height)} fill="none" stroke="currentColor" strokeWidth={1.5} />
    </svg>
  );
}
