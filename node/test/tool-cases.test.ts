/**
 * The shared tool cases (tests/shared/tool-cases.json) through the Node `LocalToolRunner`:
 * the same trees, calls and expected texts the Python runner gives (the Python suite runs
 * the file through its runner: tests/unit/test_shared_tool_cases.py). Also the mode table.
 */
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";

import { LocalToolRunner, READ_ONLY_TOOLS } from "../src/index.js";
import { modeRefusal } from "../src/tools/runner.js";
import { REPO } from "./support.js";

interface Entry {
  readonly file?: string;
  readonly dir?: string;
  readonly link?: string;
  readonly to?: string;
  readonly text?: string;
  readonly bytes_hex?: string;
}
interface Call {
  readonly tool: string;
  readonly args: unknown;
  readonly result: string;
  readonly is_error: boolean;
  readonly contains?: string[];
}
interface Case {
  readonly name: string;
  readonly tree: string;
  readonly limits?: { max_result_chars?: number; max_read_bytes?: number };
  readonly calls: Call[];
  readonly after?: Record<string, string>;
  readonly absent?: string[];
}
interface ModeRow {
  readonly mode: "ask" | "plan" | "agent";
  readonly tool: string;
  readonly allowed: boolean;
  readonly refusal: string | null;
}
interface Table {
  readonly trees: Record<string, Entry[]>;
  readonly cases: Case[];
  readonly modes: ModeRow[];
}

const TABLE = JSON.parse(readFileSync(join(REPO, "tests", "shared", "tool-cases.json"), "utf8")) as Table;

function build(entries: readonly Entry[], root: string, outside: string): void {
  for (const entry of entries) {
    if (entry.dir !== undefined) mkdirSync(join(root, entry.dir), { recursive: true });
    else if (entry.file !== undefined) {
      const target = entry.file.startsWith("$OUTSIDE/") ? join(outside, entry.file.slice(9)) : join(root, entry.file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.bytes_hex !== undefined ? Buffer.from(entry.bytes_hex, "hex") : Buffer.from(entry.text ?? "", "utf8"));
    } else if (entry.link !== undefined) {
      mkdirSync(dirname(join(root, entry.link)), { recursive: true });
      symlinkSync((entry.to ?? "").replace("$OUTSIDE", outside), join(root, entry.link));
    }
  }
}

function substitute<T>(value: T, root: string, outside: string): T {
  if (typeof value === "string") return value.replaceAll("$ROOT", root).replaceAll("$OUTSIDE", outside) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => substitute(v, root, outside)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, root, outside)])) as T;
  }
  return value;
}

for (const testCase of TABLE.cases) {
  test(`tool case: ${testCase.name}`, async () => {
    const base = mkdtempSync(join(tmpdir(), "trace-node-tools-"));
    mkdirSync(join(base, "project"));
    mkdirSync(join(base, "outside"));
    build(TABLE.trees[testCase.tree] ?? [], join(base, "project"), join(base, "outside"));
    const root = realpathSync(join(base, "project"));
    const outside = realpathSync(join(base, "outside"));
    const runner = new LocalToolRunner(root, {
      maxResultChars: testCase.limits?.max_result_chars,
      maxReadBytes: testCase.limits?.max_read_bytes,
      environment: {},
    });
    const signal = new AbortController().signal;
    for (const [number, call] of testCase.calls.entries()) {
      const args = substitute(call.args, root, outside) as Record<string, unknown>;
      const got = await runner.run({ type: "tool_call", toolCallId: `c${number}`, toolName: call.tool, toolArgs: args }, signal);
      const where = `${testCase.name}, call ${number} (${call.tool} ${JSON.stringify(call.args)})`;
      assert.equal(got.result, substitute(call.result, root, outside), where);
      assert.equal(got.isError, call.is_error, where);
      for (const part of call.contains ?? []) assert.ok(got.result.includes(part), `${where}: ${part}`);
    }
    for (const [name, text] of Object.entries(substitute(testCase.after ?? {}, root, outside))) {
      assert.equal(readFileSync(join(root, name), "utf8"), text, `${testCase.name}: after, ${name}`);
    }
    for (const name of testCase.absent ?? []) {
      let exists = existsSync(join(root, name));
      try {
        exists ||= lstatSync(join(root, name)) !== undefined;
      } catch {
        // absent
      }
      assert.equal(exists, false, `${testCase.name}: ${name} should not exist`);
    }
    assert.equal(runner.lockedPaths, 0, "every write lock was released");
  });
}

test("the mode table: which tools each mode runs, and the refusal's words", () => {
  for (const row of TABLE.modes) {
    const allowed = row.mode === "agent" || READ_ONLY_TOOLS.has(row.tool);
    assert.equal(allowed, row.allowed, `${row.mode} ${row.tool}`);
    if (!allowed) assert.equal(modeRefusal(row.mode, row.tool), row.refusal);
  }
});
