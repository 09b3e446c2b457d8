/**
 * Second trust-boundary review: findings of the Node SDK, reproduced (each failed before
 * its fix).
 */
import assert from "node:assert/strict";
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { ToolError } from "../src/tools/arguments.js";
import * as pathPolicy from "../src/tools/path-policy.js";
import { Sandbox } from "../src/tools/sandbox.js";
import * as writePolicy from "../src/tools/write-policy.js";

function project(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), "trace-node-review-")));
}

// On Windows, fs reads "\" as a separator, but the sandbox and the policies split on "/"
// only (node:path posix): "sub\..\..\x" is one harmless name to them and the parent of
// the project to the file system; "x\..\.env" is a visible name to them and .env to it.
const BACKSLASHED = ["sub\\..\\..\\outside.txt", "x\\..\\.env", "x\\..\\.git\\config"];

for (const raw of BACKSLASHED) {
  test(
    `R5: a path with backslashes is refused before the file system sees it: ${raw}`,
    () => {
      const sandbox = new Sandbox(project());
      assert.throws(() => pathPolicy.resolve(sandbox, raw, "read"), ToolError);
    },
  );
}

test(
  "R5: a manifest behind a backslash is not writable: sub\\package.json",
  () => {
    assert.equal(writePolicy.writableName("sub\\package.json"), false);
    assert.equal(writePolicy.writableName("a\\.vscode\\tasks.json"), false);
  },
);
