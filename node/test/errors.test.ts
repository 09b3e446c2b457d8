/** The error tree of tests/shared/errors.json (generated from the Python domain), rebuilt here. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import * as sdk from "../src/index.js";
import { refusal } from "../src/secret.js";
import { REPO } from "./support.js";

interface Sample {
  args: (string | number | boolean | null | string[])[];
  problem: string;
  fix: string;
  message: string;
}
interface ErrorRow {
  name: string;
  parent: string | null;
  exit_code: number;
  samples: Sample[];
}

const rows = (JSON.parse(readFileSync(join(REPO, "tests", "shared", "errors.json"), "utf8")) as { errors: ErrorRow[] }).errors;
type ErrorClass = new (...args: never[]) => sdk.TraceError;

function classOf(name: string): ErrorClass {
  const found: unknown = (sdk as Record<string, unknown>)[name];
  assert.equal(typeof found, "function", `the Node SDK exports no ${name}`);
  return found as ErrorClass;
}

test("every Python error class exists with the same parent, exit code and words", () => {
  for (const row of rows) {
    const cls = classOf(row.name);
    if (row.parent !== null) {
      assert.equal(Object.getPrototypeOf(cls), classOf(row.parent), `${row.name}'s parent`);
    }
    for (const sample of row.samples) {
      const build = cls as unknown as new (...args: unknown[]) => sdk.TraceError;
      const error = new build(...sample.args);
      assert.ok(error instanceof sdk.TraceError);
      assert.equal(error.name, row.name);
      assert.equal(error.exitCode, row.exit_code, `${row.name} exit code`);
      assert.equal(error.problem, sample.problem, `${row.name} problem`);
      assert.equal(error.fix, sample.fix, `${row.name} fix`);
      assert.equal(error.message, sample.message, `${row.name} message`);
    }
  }
});

test("a refused key is refused for the same reason, in the same words", () => {
  const cases = (JSON.parse(readFileSync(join(REPO, "tests", "shared", "errors.json"), "utf8")) as {
    key_refusals: { raw: string; reason: string | null }[];
  }).key_refusals;
  assert.ok(cases.length > 5);
  for (const { raw, reason } of cases) {
    assert.equal(refusal(raw), reason, JSON.stringify(raw));
  }
});
