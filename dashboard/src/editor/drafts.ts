// Unsaved work survives a reload, an expired token and a server that went away: the
// editor's text is kept in localStorage, by app ("new" for a workflow not yet deployed),
// with the commit it was based on.

export interface Draft {
  text: string;
  base: string | null; // the commit the draft started from (null for a new workflow)
  savedAt: number;
}

const key = (app: string | null) => `flowapp.draft.${app ?? "new"}`;

export function loadDraft(app: string | null): Draft | null {
  try {
    const raw = window.localStorage.getItem(key(app));
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}

export function saveDraft(app: string | null, text: string, base: string | null): void {
  try {
    window.localStorage.setItem(key(app), JSON.stringify({ text, base, savedAt: Date.now() }));
  } catch {
    // a full or disabled storage: the text is still in the page
  }
}

export function dropDraft(app: string | null): void {
  window.localStorage.removeItem(key(app));
}

export const STARTER = `# A new workflow: draw it on the canvas or write it here; both stay in step.
document:
  dsl: '1.0.3'
  namespace: default
  name: my-workflow
  version: '0.1.0'
do:
  - hello:
      set:
        message: \${ "Hello, " + (.name // "world") + "!" }
`;
