export function EditorPage(props: { app: string | null }) {
  return (
    <main className="page">
      <h1>{props.app ?? "New workflow"}</h1>
    </main>
  );
}
