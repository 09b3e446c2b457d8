/**
 * The key-source rules of tests/shared/key-source-cases.json (generated from the Python
 * domain) through the Node SDK: key names, helper commands (POSIX-shlex argv), what a
 * helper prints (first line or JSON, `expires_at` in epoch seconds), and project files
 * (through this SDK's TOML parser). Every section, every case, value or error words.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "smol-toml";

import { TraceError } from "../src/errors.js";
import { HelperCommand, KeyRef, parseHelperOutput, parseKeyName } from "../src/keys.js";
import { parseProjectDocument } from "../src/project.js";
import { REPO } from "./support.js";

interface Answer {
  value?: unknown;
  error?: { name: string; exit_code: number; problem: string; fix: string };
}
interface Table {
  helper_key: string;
  project_path: string;
  key_names: (Answer & { input: string })[];
  helper_commands: (Answer & { command: string; shell: boolean })[];
  helper_outputs: (Answer & { printed: string })[];
  project_files: (Answer & { toml: string })[];
}

const TABLE = JSON.parse(readFileSync(join(REPO, "tests", "shared", "key-source-cases.json"), "utf8")) as Table;

function answer(compute: () => unknown): Answer {
  try {
    return { value: compute() };
  } catch (error) {
    if (!(error instanceof TraceError)) throw error;
    return { error: { name: error.name, exit_code: error.exitCode, problem: error.problem, fix: error.fix } };
  }
}

function recorded(row: Answer): Answer {
  return row.error !== undefined ? { error: row.error } : { value: row.value };
}

test("the table has every section, each with cases", () => {
  for (const section of [TABLE.key_names, TABLE.helper_commands, TABLE.helper_outputs, TABLE.project_files]) {
    assert.ok(section.length >= 10);
  }
});

test("key names are parsed as the Python domain parses them", () => {
  for (const row of TABLE.key_names) {
    assert.deepEqual(answer(() => parseKeyName(row.input)), recorded(row), JSON.stringify(row.input));
  }
});

test("helper commands are checked and split (POSIX shlex) as in Python", () => {
  for (const row of TABLE.helper_commands) {
    const got = answer(() => HelperCommand.parse(row.command, row.shell).argv());
    assert.deepEqual(got, recorded(row), JSON.stringify(row.command).slice(0, 80));
  }
});

test("what a helper prints is read as in Python (first line, or JSON with expires_at)", () => {
  const ref = KeyRef.ofLabel(TABLE.helper_key);
  for (const row of TABLE.helper_outputs) {
    const got = answer(() => {
      const found = parseHelperOutput(row.printed, ref);
      return { key: found.secret.reveal(), expires_at: found.expiresAt };
    });
    assert.deepEqual(got, recorded(row), JSON.stringify(row.printed).slice(0, 80));
  }
});

test("project files select only, as in Python", () => {
  for (const row of TABLE.project_files) {
    const got = answer(() => {
      const selection = parseProjectDocument(parse(row.toml, { integersAsBigInt: true }), TABLE.project_path);
      return { provider: selection.provider, key_name: selection.keyName, model: selection.model };
    });
    assert.deepEqual(got, recorded(row), JSON.stringify(row.toml));
  }
});
