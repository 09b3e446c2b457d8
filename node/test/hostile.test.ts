/**
 * A hostile backend against the Node SDK (issue 10's classes, as the Python suite tests
 * them): a key echoed in every kind of event, a tool call for a hidden file through a
 * link, and a grep meant to freeze the process while another stream is running.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { type ChatEvent, MemorySecretStore, MemorySettingsStore, Trace, type TraceOptions } from "../src/index.js";
import { done, type Json, ProtocolServer, text, TOKEN, turn } from "./support.js";

const KEY = "sk-ant-hostile-canary-9f8e7d6c5b4a3210";
let server: ProtocolServer;

before(async () => {
  server = await ProtocolServer.start();
});
after(async () => {
  await server.stop();
});

function client(options: TraceOptions = {}): Trace {
  return new Trace({
    env: { TRACE_BASE_URL: server.url, TRACE_API_TOKEN: TOKEN },
    secrets: new MemorySecretStore(),
    settings: new MemorySettingsStore(),
    llmProvider: "anthropic",
    llmApiKey: KEY,
    ...options,
  });
}

function project(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), "trace-node-hostile-")));
}

/** Every run of 8 characters of `secret`: none may appear anywhere. */
function leaks(haystack: string, secret: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i += 1) {
    const run = secret.slice(i, i + 8);
    if (haystack.includes(run)) found.push(run);
  }
  return found;
}

test("a key echoed in thinking, status, metrics, file_edit, tool args, split text and errors never comes out", async () => {
  const dir = project();
  writeFileSync(join(dir, "board.kicad_sch"), "(kicad_sch)\n");
  const half = KEY.length / 2;
  await server.script({
    turns: [
      turn([
        { op: "event", data: { type: "thinking", content: `I see ${KEY} in the request` } },
        { op: "event", data: { type: "status", content: `using key ${KEY.slice(3, 20)}` } },
        { op: "metrics", data: { echo: { nested: [KEY, { deeper: `x${TOKEN}y` }] } } },
        { op: "event", data: { type: "file_edit", path: "board.kicad_sch", content: KEY } },
        text(`here: ${KEY.slice(0, half)}`),
        text(`${KEY.slice(half)} there`),
        {
          op: "tool_call",
          tool_call_id: "t1",
          tool_name: "write",
          tool_args: { file_path: "notes.md", contents: `key=${KEY}\n` },
        },
        { op: "event", data: { type: "error", content: `provider said: invalid x-api-key ${KEY}` } },
        done(),
      ]),
    ],
  });
  const events: ChatEvent[] = [];
  for await (const event of client({ projectDir: dir }).stream("x", { mode: "agent" })) events.push(event);
  const shown = JSON.stringify(events);
  assert.deepEqual(leaks(shown, KEY), [], "no 8-character run of the key in any event or the reply");
  assert.deepEqual(leaks(shown, TOKEN), [], "nor of the Trace token");
  const state = await server.state();
  assert.deepEqual(leaks(JSON.stringify(state.tool_results), KEY), [], "nor in a posted result");
  const last = events.at(-1);
  assert.ok(last?.type === "done");
  assert.match(last.reply.text, /here: \*\*\* there/);
  assert.equal(readFileSync(join(dir, "notes.md"), "utf8"), "key=***\n", "the tool ran with the masked arguments");
});

test("a hidden file reached through a link is refused, a visible one is read", async () => {
  const dir = project();
  writeFileSync(join(dir, ".env"), "ANTHROPIC_API_KEY=sk-ant-from-dotenv-0000\n");
  symlinkSync(".env", join(dir, "notes.txt"));
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, ".git", "config"), "[credential] helper=store\n");
  symlinkSync(".git", join(dir, "gitdir"));
  writeFileSync(join(dir, "board.kicad_sch"), "(kicad_sch (version 1))\n");
  const read = (id: string, target: string): Json => ({
    op: "tool_call",
    tool_call_id: id,
    tool_name: "read_file",
    tool_args: { target_file: target },
  });
  await server.script({
    turns: [
      turn([
        read("h1", "notes.txt"),
        read("h2", "gitdir/config"),
        { op: "tool_call", tool_call_id: "h3", tool_name: "grep", tool_args: { pattern: "sk-ant|credential" } },
        read("v1", "board.kicad_sch"),
        done(),
      ]),
    ],
  });
  const before = (await server.state()).tool_results.length;
  const reply = await client({ projectDir: dir }).chat("x");
  const posted = (await server.state()).tool_results.slice(before);
  const byId = new Map(posted.map((r) => [r["tool_call_id"], r]));
  for (const id of ["h1", "h2"]) {
    assert.equal(byId.get(id)?.["is_error"], true, id);
    assert.match(String(byId.get(id)?.["result"]), /hidden files and directories are off limits/, id);
  }
  assert.equal(byId.get("h3")?.["result"], "no matches", "a walk skips hidden files and links to them");
  assert.equal(byId.get("v1")?.["result"], "     1|(kicad_sch (version 1))");
  assert.ok(!JSON.stringify(posted).includes("from-dotenv"));
  assert.ok(!JSON.stringify(posted).includes("helper=store"));
  assert.equal(reply.toolRuns.length, 4);
});

test("a hostile grep does not stall another stream of the same process", async (t) => {
  const dir = project();
  // Lines a backtracking engine takes exponential time on for (a+)+$ and friends.
  const evil = ("a".repeat(28) + "!\n").repeat(2000);
  // Named to be searched first (name order): on a loaded machine the 5 s deadline may
  // stop the walk in the bulk files, and the evil ones must have been searched by then.
  for (let i = 0; i < 4; i += 1) writeFileSync(join(dir, `0evil${i}.md`), evil);
  const bulk = ('(property "Reference" "R1") (at 10 20) wörds and more words\n').repeat(120_000);
  for (let i = 0; i < 3; i += 1) writeFileSync(join(dir, `bulk${i}.kicad_sch`), bulk);
  const ticks: Json[] = [];
  for (let i = 0; i < 40; i += 1) ticks.push(text("."), { op: "sleep", seconds: 0.05 });
  await server.script({
    turns: [
      turn([
        {
          op: "tool_call",
          tool_call_id: "g1",
          tool_name: "grep",
          tool_args: { pattern: "(a+)+$|a!$|([a-z]+\\s?)+\"R[0-9]+\"\\)$", output_mode: "count" },
          timeout: 60,
        },
        done(),
      ]),
      turn([...ticks, done()]),
    ],
  });
  const trace = client({ projectDir: dir });
  const first = trace.stream("grep")[Symbol.asyncIterator]();
  const call = await first.next();
  assert.equal(call.value?.type, "tool_call");
  const started = performance.now();
  const rest = (async () => {
    const events: ChatEvent[] = [];
    for (let next = await first.next(); !next.done; next = await first.next()) events.push(next.value);
    return { events, finished: performance.now() };
  })();
  let last = performance.now();
  let gap = 0;
  let count = 0;
  for await (const event of client({ projectDir: dir }).stream("ticks")) {
    if (event.type !== "text") continue;
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
    count += 1;
  }
  const { events, finished } = await rest;
  const result = events.find((e) => e.type === "tool_result");
  assert.ok(result?.type === "tool_result");
  assert.equal(result.result.isError, false, result.result.result);
  assert.match(result.result.result, /evil0\.md:2000/);
  assert.ok(count > 0);
  t.diagnostic(`figure node_grep_hostile_s=${((finished - started) / 1000).toFixed(3)}`);
  t.diagnostic(`figure node_second_stream_max_gap_s=${(gap / 1000).toFixed(3)}`);
  // The ticks come every 50 ms; a grep on the event loop would hold them for its whole run.
  assert.ok(gap < 1500, `the second stream stalled for ${gap.toFixed(0)} ms`);
});

test("a flood of tool calls meets backpressure: the stream is not read while calls wait", async () => {
  const dir = project();
  let pulled = 0;
  const encoder = new TextEncoder();
  const padding = "x".repeat(64 * 1024);
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith("/tools/result")) {
      // Results are never answered; like the platform's fetch, give up when aborted.
      return new Promise<Response>((_resolve, reject) => {
        const signal = init?.signal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    // One tool call per pull, for as long as the client keeps reading.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        const call = { type: "tool_call", tool_call_id: `c${pulled}`, tool_name: "list_dir", tool_args: { path: ".", padding } };
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(call)}\n\n`));
        if (pulled >= 300) controller.close();
      },
    }, { highWaterMark: 0 });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  };
  const abort = new AbortController();
  const trace = client({ fetch, projectDir: dir });
  const turnDone = (async () => {
    try {
      for await (const _ of trace.stream("hi", { mode: "ask", signal: abort.signal })) {
        // only reading
      }
    } catch {
      // aborted below
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const seen = pulled;
  abort.abort();
  await turnDone;
  trace.close();
  // 4 running + 4 waiting, plus what the parser had buffered: far from 300.
  assert.ok(seen < 40, `the client read ${seen} tool calls while none was answered`);
});
