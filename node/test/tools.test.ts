/**
 * The Node LocalToolRunner beyond the shared table: kicad-cli's environment, timeout and
 * cancellation (the whole process group is killed), grep's deadline, cancellation and
 * terminate backstop, per-file write serialisation, modes kept, FIFOs refused.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";

import { LocalToolRunner, type ToolResult } from "../src/index.js";
import { platformHasDirFd } from "../src/tools/sandbox.js";

function project(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), "trace-node-tools-")));
}

let id = 0;
function call(runner: LocalToolRunner, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolResult> {
  id += 1;
  return runner.run({ type: "tool_call", toolCallId: `t${id}`, toolName: tool, toolArgs: args }, signal ?? new AbortController().signal);
}

/** A fake kicad-cli: writes the names of its environment, or sleeps (with a child) first. */
function fakeKicad(dir: string, body: string): string {
  const script = join(dir, "kicad-cli");
  writeFileSync(
    script,
    `#!/bin/sh\nout=""; prev=""\nfor a in "$@"; do [ "$prev" = "--output" ] && out="$a"; prev="$a"; done\n${body}\n`,
  );
  chmodSync(script, 0o755);
  return script;
}

/** True while `pid` runs (a killed process not yet reaped by init is a zombie: not running). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const SECRETS = { TRACE_API_TOKEN: "trace-secret-token", ANTHROPIC_API_KEY: "sk-ant-secret", KICAD_API_TOKEN: "kicad-tok" };

test("kicad-cli inherits only the allow-listed environment: no key, no token", async () => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_sch"), "(kicad_sch)\n");
  const cli = fakeKicad(dir, `printf '{"names": "%s"}' "$(env | cut -d= -f1 | tr '\\n' ' ')" > "$out"`);
  const runner = new LocalToolRunner(dir, {
    kicadCli: cli,
    environment: { PATH: process.env["PATH"], HOME: "/home/x", KICAD9_SYMBOL_DIR: "/lib", ...SECRETS },
  });
  const result = await call(runner, "get_erc_violations", {});
  assert.equal(result.isError, false, result.result);
  const names = (JSON.parse(result.result) as { names: string }).names.split(" ");
  assert.ok(names.includes("KICAD9_SYMBOL_DIR") && names.includes("HOME"));
  for (const secret of Object.keys(SECRETS)) assert.ok(!names.includes(secret), secret);
});

test("the default schematic is never a hidden file or a link to one", async () => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_sch"), "(kicad_sch)\n");
  writeFileSync(join(dir, ".secret.kicad_sch"), "(kicad_sch)\n");
  writeFileSync(join(dir, ".env"), "KEY=1\n");
  symlinkSync(".env", join(dir, "env.kicad_sch"));
  const cli = fakeKicad(dir, 'for last; do :; done; printf \'{"file": "%s"}\' "$last" > "$out"');
  const runner = new LocalToolRunner(dir, { kicadCli: cli, environment: { PATH: process.env["PATH"] } });
  const result = await call(runner, "get_erc_violations", {});
  assert.deepEqual(JSON.parse(result.result), { file: join(dir, "board.kicad_sch") });
  const named = await call(runner, "get_erc_violations", { file_path: "env.kicad_sch" });
  assert.match(named.result, /^refusing to check 'env.kicad_sch': hidden files/);
});

test("a kicad-cli that overruns its timeout is killed with its whole process group", async () => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_pcb"), "(kicad_pcb)\n");
  const pidFile = join(dir, "child.pid");
  const cli = fakeKicad(dir, `sleep 60 & echo $! > ${pidFile}; wait`);
  const runner = new LocalToolRunner(dir, { kicadCli: cli, edaTimeout: 0.5, environment: { PATH: process.env["PATH"] } });
  const result = await call(runner, "get_drc_violations", {});
  assert.deepEqual(result.isError, true);
  assert.equal(result.result, "kicad-cli pcb drc did not finish within 0.5 s and was stopped");
  const child = Number(readFileSync(pidFile, "utf8"));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok(!alive(child), "the engine's own child was killed too");
});

test("cancelling the turn kills a running kicad-cli at once", async (t) => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_sch"), "(kicad_sch)\n");
  const cli = fakeKicad(dir, "sleep 60");
  const runner = new LocalToolRunner(dir, { kicadCli: cli, environment: { PATH: process.env["PATH"] } });
  const abort = new AbortController();
  const pending = call(runner, "get_erc_violations", {}, abort.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const asked = performance.now();
  abort.abort();
  const result = await pending;
  t.diagnostic(`figure node_eda_cancel_latency_s=${((performance.now() - asked) / 1000).toFixed(3)}`);
  assert.equal(result.result, "kicad-cli sch erc was cancelled");
});

let big = "";
before(() => {
  big = project();
  // About 30 MB over three files, with a pattern re2js takes seconds over.
  const bulk = ('(property "Reference" "R1") (at 10 20) wörds and more words\n').repeat(160_000);
  for (let i = 0; i < 3; i += 1) writeFileSync(join(big, `bulk${i}.kicad_sch`), bulk);
});
const SLOW = '([a-z]+\\s?)+"R[0-9]+"\\)$';

test("grep stops at its deadline with what it found and says so", async () => {
  const runner = new LocalToolRunner(big, { grepSeconds: 0.3 });
  const result = await call(runner, "grep", { pattern: SLOW, output_mode: "count" });
  assert.equal(result.isError, false, result.result);
  assert.match(result.result, /\[search stopped after 0\.3 s: results are incomplete; search a narrower path or use a simpler pattern\]$/);
});

test("cancelling the turn stops a running grep at once (its worker is terminated)", async (t) => {
  const runner = new LocalToolRunner(big, { grepSeconds: 60 });
  const abort = new AbortController();
  const pending = call(runner, "grep", { pattern: SLOW }, abort.signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const asked = performance.now();
  abort.abort();
  const result = await pending;
  t.diagnostic(`figure node_grep_cancel_latency_s=${((performance.now() - asked) / 1000).toFixed(3)}`);
  assert.deepEqual([result.isError, result.result], [true, "grep was cancelled: the chat turn was interrupted"]);
  const later = await call(runner, "read_file", { target_file: "bulk0.kicad_sch", limit: 1 }, abort.signal);
  assert.equal(later.result, "read_file was cancelled: the chat turn was interrupted", "later calls fail at once");
});

test("a grep that overruns its deadline and the grace period is terminated", async () => {
  const runner = new LocalToolRunner(big, { grepSeconds: 0.001, graceSeconds: 0 });
  const result = await call(runner, "grep", { pattern: SLOW });
  assert.deepEqual([result.isError, result.result], [true, "grep did not finish within 0.001 s and was stopped"]);
});

test("concurrent edits of one file are serialised: none is lost", async () => {
  const dir = project();
  const lines = Array.from({ length: 12 }, (_, i) => `<marker ${i}>`);
  writeFileSync(join(dir, "notes.md"), lines.join("\n") + "\n");
  const runner = new LocalToolRunner(dir);
  const results = await Promise.all(
    lines.map((line) => call(runner, "search_replace", { file_path: "notes.md", old_string: line, new_string: `${line}-done` })),
  );
  assert.ok(results.every((r) => !r.isError), JSON.stringify(results));
  assert.equal(readFileSync(join(dir, "notes.md"), "utf8"), lines.map((l) => `${l}-done`).join("\n") + "\n");
  assert.equal(runner.lockedPaths, 0);
});

test("a replaced file keeps its mode; a new one gets 0644 minus the umask", async () => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_sch"), "(old)\n");
  chmodSync(join(dir, "board.kicad_sch"), 0o640);
  const runner = new LocalToolRunner(dir);
  await call(runner, "write", { file_path: "board.kicad_sch", contents: "(new)\n" });
  assert.equal(statSync(join(dir, "board.kicad_sch")).mode & 0o777, 0o640);
  await call(runner, "write", { file_path: "fresh.kicad_sch", contents: "(x)\n" });
  const umask = process.umask();
  assert.equal(statSync(join(dir, "fresh.kicad_sch")).mode & 0o777, 0o644 & ~umask);
});

test("a FIFO is refused without hanging, and skipped by a walk", async () => {
  const dir = project();
  execFileSync("mkfifo", [join(dir, "pipe.md")]);
  writeFileSync(join(dir, "a.md"), "hello\n");
  const runner = new LocalToolRunner(dir);
  assert.deepEqual(await call(runner, "read_file", { target_file: "pipe.md" }), {
    toolCallId: `t${id}`,
    result: "'pipe.md' is not a regular file",
    isError: true,
  });
  assert.equal((await call(runner, "grep", { pattern: "hello" })).result, "a.md:1:hello");
});

test("on Linux the sandbox walks by descriptor (/proc/self/fd), never by a path a link could redirect", () => {
  if (process.platform !== "linux") return;
  assert.equal(platformHasDirFd(), true);
});
