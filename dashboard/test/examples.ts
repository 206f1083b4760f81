// The specification's 66 example workflows, read from the repository's copy
// (tests/fixtures/spec/examples), so that the tests run in any clone.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const EXAMPLES_DIR = join(__dirname, "..", "..", "tests", "fixtures", "spec", "examples");

export function examples(): { name: string; text: string }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(EXAMPLES_DIR, name), "utf8") }));
}
