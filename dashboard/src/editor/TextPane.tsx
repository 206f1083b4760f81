// The YAML text, in CodeMirror 6. Typing goes to the editor's one history (CodeMirror's
// own is left out, so that undo covers canvas and text alike); changes made elsewhere
// (canvas, forms, undo) are applied as one replacing transaction. Problems from the
// server are its lint diagnostics.

import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, foldGutter, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Annotation, EditorState } from "@codemirror/state";
import { EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import type { PlacedProblem } from "../graph/problems";

/** Marks the transactions that carry a change made outside the text editor. */
const External = Annotation.define<boolean>();

export interface TextPaneHandle {
  goToLine(line: number): void;
  goToOffset(offset: number): void;
}

interface Props {
  text: string;
  problems: PlacedProblem[];
  parseErrorLine: number | null;
  onType(text: string): void;
  onUndo(): void;
  onRedo(): void;
}

export const TextPane = forwardRef<TextPaneHandle, Props>(function TextPane(props, ref) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef(props);
  callbacks.current = props;

  useEffect(() => {
    const state = EditorState.create({
      doc: props.text,
      extensions: [
        lineNumbers(),
        foldGutter(),
        lintGutter(),
        highlightActiveLine(),
        indentOnInput(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle),
        yaml(),
        EditorState.tabSize.of(2),
        keymap.of([
          { key: "Mod-z", run: () => (callbacks.current.onUndo(), true), preventDefault: true },
          { key: "Mod-Shift-z", run: () => (callbacks.current.onRedo(), true), preventDefault: true },
          { key: "Mod-y", run: () => (callbacks.current.onRedo(), true), preventDefault: true },
          indentWithTab,
          ...defaultKeymap,
        ]),
        EditorView.contentAttributes.of({ "aria-label": "Workflow YAML", tabindex: "0" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !update.transactions.some((t) => t.annotation(External))) {
            callbacks.current.onType(update.state.doc.toString());
          }
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current! });
    return () => view.current?.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Text changed elsewhere: replace the document, keeping the cursor where it can stay.
  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current === props.text) return;
    const head = Math.min(editor.state.selection.main.head, props.text.length);
    editor.dispatch({
      changes: minimalChange(current, props.text),
      selection: { anchor: head },
      annotations: External.of(true),
    });
  }, [props.text]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const doc = editor.state.doc;
    const diagnostics: Diagnostic[] = [];
    for (const problem of props.problems) {
      if (!problem.line || problem.line > doc.lines) continue;
      const line = doc.line(problem.line);
      const from = Math.min(line.from + Math.max((problem.column ?? 1) - 1, 0), line.to);
      diagnostics.push({ from, to: Math.max(from, line.to), severity: "error", message: problem.message });
    }
    editor.dispatch(setDiagnostics(editor.state, diagnostics));
  }, [props.problems, props.text]);

  useImperativeHandle(ref, () => ({
    goToLine(line: number) {
      const editor = view.current;
      if (!editor || line < 1 || line > editor.state.doc.lines) return;
      const at = editor.state.doc.line(line).from;
      editor.dispatch({ selection: { anchor: at }, scrollIntoView: true });
    },
    goToOffset(offset: number) {
      const editor = view.current;
      if (!editor) return;
      const at = Math.min(offset, editor.state.doc.length);
      editor.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: "center" }) });
    },
  }));

  return <div className="text-pane" ref={host} data-parse-error-line={props.parseErrorLine ?? undefined} />;
});


/** The one range that differs between two texts, as a CodeMirror change. */
function minimalChange(before: string, after: string) {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  return { from: start, to: endBefore, insert: after.slice(start, endAfter) };
}
