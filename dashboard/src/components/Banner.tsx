/** A message where it happened: an error, a warning or a success. */
export function Banner(props: { kind: "error" | "warning" | "info" | "success"; children: React.ReactNode }) {
  const role = props.kind === "error" || props.kind === "warning" ? "alert" : "status";
  return (
    <div className={`banner ${props.kind}`} role={role}>
      {props.children}
    </div>
  );
}
