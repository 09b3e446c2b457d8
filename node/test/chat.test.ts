/** The SDK against the Python suite's protocol server (a real HTTP server, run as a subprocess). */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  AuthenticationRejectedError,
  BackendError,
  BackendUnavailableError,
  type ChatEvent,
  InsecureTransportError,
  MemorySecretStore,
  MemorySettingsStore,
  PlanRestrictionError,
  ProtocolError,
  QuotaExhaustedError,
  type ToolRunner,
  Trace,
  type TraceOptions,
} from "../src/index.js";
import { done, ProtocolServer, raw, type RecordedRequest, text, TOKEN, turn, type Json } from "./support.js";

const KEY = "sk-ant-node-canary-key-0123456789";
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
    ...options,
  });
}

let seenRequests = 0;
let seenResults = 0;

/** Replace the server's script; `fresh()` then returns only what came after. */
async function script(...turns: Json[]): Promise<void> {
  const state = await server.state();
  seenRequests = state.requests.length;
  seenResults = state.tool_results.length;
  await server.script({ turns });
}

async function fresh(): Promise<{ requests: RecordedRequest[]; toolResults: Record<string, Json>[]; turnsLeft: number }> {
  const state = await server.state();
  return {
    requests: state.requests.slice(seenRequests),
    toolResults: state.tool_results.slice(seenResults),
    turnsLeft: state.turns_left,
  };
}

test("chat returns the text and what answered, and sends the BYOK fields", async () => {
  await script(turn([text("Hello "), text("world"), { op: "metrics", data: { input_tokens: 3 } }, done("conv-9")]));
  const reply = await client({ llmProvider: "anthropic", llmApiKey: KEY }).chat("hi", { llmModelId: "claude-opus-4-1" });
  assert.equal(reply.text, "Hello world");
  assert.equal(reply.conversationId, "conv-9");
  assert.deepEqual(
    [reply.provider, reply.model, reply.keySource, reply.maskedKey, reply.billing],
    ["anthropic", "claude-opus-4-1", "argument", "…6789", "provider"],
  );
  assert.deepEqual(reply.usage, { input_tokens: 3 });
  assert.ok(!JSON.stringify(reply).includes(KEY), "a reply never holds the key");
  const [request] = (await fresh()).requests;
  assert.equal(request?.headers["authorization"], `Bearer ${TOKEN}`);
  assert.deepEqual(
    [request?.body["llm_provider"], request?.body["llm_api_key"], request?.body["llm_model_id"], request?.body["client"], request?.body["mode"]],
    ["anthropic", KEY, "claude-opus-4-1", "sdk", "ask"],
  );
});

test("a Trace-hosted chat carries no BYOK field at all", async () => {
  await script(turn([text("ok"), done()]));
  const reply = await client().chat("hi");
  assert.deepEqual([reply.provider, reply.keySource, reply.billing], ["trace", null, "trace_plan"]);
  const body = (await fresh()).requests[0]?.body ?? {};
  assert.deepEqual(Object.keys(body).filter((k) => k.startsWith("llm_")), []);
});

test("stream yields typed events; tool calls run through the runner and results are posted", async () => {
  await script(
    turn([
      text("Looking"),
      { op: "tool_call", tool_call_id: "t1", tool_name: "read_file", tool_args: { target_file: "a.kicad_sch" } },
      { op: "echo_result", tool_call_id: "t1", template: "[{result}]" },
      done(),
    ]),
  );
  const runner: ToolRunner = {
    run: async (call) => ({ toolCallId: call.toolCallId, result: `read ${String(call.toolArgs["target_file"])}`, isError: false }),
  };
  const events: ChatEvent[] = [];
  for await (const event of client({ toolRunner: runner }).stream("check")) events.push(event);
  // The order things happened: a tool's outcome comes before what the backend streamed
  // once it had the result (the Python CLI's chat --json keeps the same order).
  assert.deepEqual(
    events.map((e) => e.type),
    ["text", "tool_call", "tool_result", "text", "done"],
  );
  const last = events.at(-1);
  assert.ok(last?.type === "done");
  assert.equal(last.reply.text, "Looking[read a.kicad_sch]");
  assert.equal(last.reply.toolRuns.length, 1);
  const posted = (await fresh()).toolResults;
  assert.deepEqual(posted.map((r) => [r["tool_call_id"], r["result"], r["is_error"] ?? false]), [["t1", "read a.kicad_sch", false]]);
});

test("in ask and plan modes a writing tool gets an error result naming the mode", async () => {
  for (const mode of ["ask", "plan"] as const) {
    await script(
      turn([
        { op: "tool_call", tool_call_id: "w1", tool_name: "write", tool_args: { file_path: "a.kicad_sch", contents: "x" } },
        done(),
      ]),
    );
    let ran = false;
    const runner: ToolRunner = {
      run: async (call) => {
        ran = true;
        return { toolCallId: call.toolCallId, result: "wrote", isError: false };
      },
    };
    const reply = await client({ toolRunner: runner }).chat("edit", { mode });
    assert.equal(ran, false, "the runner never sees a writing tool outside agent mode");
    assert.deepEqual(reply.toolRuns, [
      { toolCallId: "w1", toolName: "write", isError: true, resultChars: reply.toolRuns[0]?.resultChars, target: "a.kicad_sch" },
    ]);
    const posted = (await fresh()).toolResults[0];
    assert.equal(
      posted?.["result"],
      `tool 'write' was not run: ${mode} mode runs read-only tools only (get_drc_violations, ` +
        "get_erc_violations, grep, list_dir, read_file); to let the model edit design files, " +
        'run again with --mode agent (SDK: mode="agent")',
    );
  }
});

test("the default runner is the local runner on the project directory; the reply keeps summaries", async () => {
  const dir = mkdtempSync(join(tmpdir(), "trace-node-chat-"));
  writeFileSync(join(dir, "a.kicad_sch"), "(kicad_sch)\n");
  await script(
    turn([
      { op: "tool_call", tool_call_id: "r1", tool_name: "read_file", tool_args: { target_file: "a.kicad_sch" } },
      { op: "tool_call", tool_call_id: "r2", tool_name: "read_file", tool_args: {} },
      done(),
    ]),
  );
  const reply = await client({ projectDir: dir }).chat("x", { mode: "agent" });
  const runs = [...reply.toolRuns].sort((a, b) => a.toolCallId.localeCompare(b.toolCallId));
  assert.deepEqual(runs, [
    { toolCallId: "r1", toolName: "read_file", isError: false, resultChars: "     1|(kicad_sch)".length, target: "a.kicad_sch" },
    {
      toolCallId: "r2",
      toolName: "read_file",
      isError: true,
      resultChars: "read_file: missing required argument 'target_file' or 'file_path'".length,
      target: null,
    },
  ]);
});

test("429/503 are retried (Retry-After honoured) before the stream starts", async () => {
  await script(turn([text("ok"), done()], [{ status: 503, retry_after: 0, times: 2 }, { status: 429, retry_after: 0 }]));
  const reply = await client().chat("x");
  assert.equal(reply.text, "ok");
  assert.equal((await fresh()).requests.length, 4);
});

test("statuses map to the Python error tree", async () => {
  const cases: [number, new (...args: never[]) => Error, number][] = [
    [401, AuthenticationRejectedError, 3],
    [402, QuotaExhaustedError, 4],
    [403, PlanRestrictionError, 4],
    [500, BackendError, 4],
  ];
  for (const [status, kind, exitCode] of cases) {
    await script(turn([done()], [{ status, body: { detail: `boom ${KEY}` } }]));
    await assert.rejects(client({ llmProvider: "anthropic", llmApiKey: KEY }).chat("x"), (error: unknown) => {
      assert.ok(error instanceof kind, `${status} -> ${kind.name}`);
      assert.equal((error as BackendError).exitCode, exitCode);
      const message = String((error as Error).message);
      assert.ok(!message.includes(KEY), "secrets are masked in every error");
      if (status === 402 || status === 403) {
        assert.ok(message.includes('"boom ***"'), `${status} quotes the backend's (masked) words`);
      }
      if (status === 402) {
        assert.ok(message.includes("billed to your own Anthropic account"), "402 says who pays for the provider in effect");
      }
      return true;
    });
  }
});

test("a stream that breaks after it started is not retried", async () => {
  await script(turn([text("half"), { op: "drop" }]), turn([text("second"), done()]));
  // undici ends a chunked body cut short under "Connection: close" as if complete, so the
  // break shows as a stream without done; either way it is an error and never retried.
  await assert.rejects(client().chat("x"), (e: unknown) => e instanceof BackendUnavailableError || e instanceof ProtocolError);
  const state = await fresh();
  assert.equal(state.requests.length, 1);
  assert.equal(state.turnsLeft, 1);
});

test("a stream without done is a protocol error; error events are masked", async () => {
  await script(turn([{ op: "event", data: { type: "error", content: `provider said: bad key ${KEY}` } }]));
  const events: ChatEvent[] = [];
  await assert.rejects(async () => {
    for await (const event of client({ llmProvider: "anthropic", llmApiKey: KEY }).stream("x")) events.push(event);
  }, ProtocolError);
  assert.deepEqual(events, [{ type: "error", content: "provider said: bad key ***" }]);
});

test("malformed events are skipped and the turn goes on", async () => {
  await script(turn([raw("data: not json\n\n"), raw('data: {"type":"text_delta","content":1e999}\n\n'), text("fine"), done()]));
  const warnings: string[] = [];
  const reply = await client({ onWarning: (w) => warnings.push(w) }).chat("x");
  assert.equal(reply.text, "fine");
  assert.deepEqual(warnings, ["skipped 2 malformed event(s) in the Trace backend's stream"]);
});

test("an AbortSignal cancels a stalled stream cleanly", async () => {
  await script(turn([text("a"), { op: "sleep", seconds: 30 }, done()]));
  const controller = new AbortController();
  const seen: string[] = [];
  const started = Date.now();
  await assert.rejects(async () => {
    for await (const event of client().stream("x", { signal: controller.signal })) {
      seen.push(event.type);
      controller.abort();
    }
  }, (error: unknown) => error instanceof Error && error.name === "AbortError");
  assert.deepEqual(seen, ["text"]);
  assert.ok(Date.now() - started < 20_000, "cancelled, not waited out");
});

test("credentials only go to https or a literal loopback host", async () => {
  for (const url of ["http://example.com", "http://localhost.:8000", "http://127.1:8000"]) {
    const trace = new Trace({
      env: { TRACE_BASE_URL: url, TRACE_API_TOKEN: TOKEN },
      secrets: new MemorySecretStore(),
      settings: new MemorySettingsStore(),
      fetch: async () => {
        throw new Error("nothing may be sent");
      },
    });
    await assert.rejects(trace.chat("x"), InsecureTransportError, url);
  }
});

test("a redirect is refused, never followed", async () => {
  await script(turn([done()], [{ status: 307, headers: { Location: "https://example.com/steal" } }]));
  await assert.rejects(client().chat("x"), (error: unknown) => error instanceof BackendError && /redirect/.test(error.message));
});

test("an injected fetch is used", async () => {
  await script(turn([text("via injected"), done()]));
  let calls = 0;
  const reply = await client({
    fetch: (input, init) => {
      calls += 1;
      return fetch(input, init);
    },
  }).chat("x");
  assert.equal(reply.text, "via injected");
  assert.equal(calls, 1);
});
