// Every problem the server's validator found, each a button that selects its task and
// moves the text editor to its line.

import type { PlacedProblem } from "../graph/problems";

export function ProblemsList(props: { problems: PlacedProblem[]; checking: boolean; onJump(problem: PlacedProblem): void }) {
  return (
    <section className="problems" aria-label="Problems">
      <h2>
        Problems <span className="count" data-count={props.problems.length}>{props.problems.length}</span>
        {props.checking && <span className="hint"> checking…</span>}
      </h2>
      {props.problems.length === 0 ? (
        <p className="hint">None: the validator (the same as `flowapp validate`) accepts this workflow.</p>
      ) : (
        <ul>
          {props.problems.map((problem, index) => (
            <li key={index}>
              <button type="button" className="problem" data-problem-task={problem.task ?? ""} onClick={() => props.onJump(problem)}>
                {problem.line ? `line ${problem.line}: ` : ""}
                {problem.workflowPointer ? <code>{problem.workflowPointer}</code> : null} {problem.message}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
