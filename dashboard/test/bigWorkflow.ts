// A workflow of 500 tasks: 50 `for` containers of 8 tasks, and 50 tasks between them.
export function bigWorkflow(loops = 50, inner = 8): string {
  const lines = ["document: {dsl: '1.0.3', namespace: bench, name: big, version: '1.0.0'}", "do:"];
  for (let i = 0; i < loops; i++) {
    lines.push(`  - step${i}:`, `      set: {n: ${i}}`, `  - loop${i}:`, "      for: {each: item, in: '${ [1, 2] }'}", "      do:");
    for (let j = 0; j < inner; j++) lines.push(`        - task${i}x${j}:`, `            set: {j: ${j}}`);
  }
  return lines.join("\n") + "\n";
}
