/**
 * The SSE parser: the shared cases (tests/shared/sse-cases.json, outcomes written by the
 * Python parser), random re-chunking, and the floods a hostile backend can send.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { ProtocolError } from "../src/errors.js";
import type { BackendEvent } from "../src/events.js";
import { MALFORMED, MAX_EVENT_BYTES, SseDecoder, decodeEvent } from "../src/sse.js";
import { REPO } from "./support.js";

interface Case {
  readonly name: string;
  readonly chunks_hex: string[];
  readonly max_event_bytes: number | null;
  readonly outcomes: unknown[];
  readonly error: string | null;
}

const CASES = (JSON.parse(readFileSync(join(REPO, "tests", "shared", "sse-cases.json"), "utf8")) as { cases: Case[] }).cases;

/** An event in the neutral shape of the shared file. */
function neutral(event: BackendEvent): unknown {
  switch (event.type) {
    case "tool_call":
      return { type: "tool_call", tool_call_id: event.toolCallId, tool_name: event.toolName, tool_args: event.toolArgs };
    case "backend_done":
      return { type: "done", conversation_id: event.conversationId };
    case "file_edit":
    case "metrics":
      return { type: event.type, data: event.data };
    case "error":
      return {
        type: "error",
        content: event.content,
        ...(event.code === undefined ? {} : { code: event.code }),
        ...(event.providerStatus === undefined ? {} : { provider_status: event.providerStatus }),
      };
    default:
      return { type: event.type, content: event.content };
  }
}

function run(chunks: Uint8Array[], limit: number): { outcomes: unknown[]; error: string | null } {
  const decoder = new SseDecoder(limit);
  const outcomes: unknown[] = [];
  try {
    for (const chunk of chunks) {
      for (const payload of decoder.feed(chunk)) {
        const event = decodeEvent(payload);
        if (event === null) continue;
        outcomes.push(event === MALFORMED ? "malformed" : neutral(event));
      }
    }
    decoder.close();
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { outcomes, error: error.problem };
  }
  return { outcomes, error: null };
}

for (const testCase of CASES) {
  test(`sse case: ${testCase.name}`, () => {
    const chunks = testCase.chunks_hex.map((hex) => Buffer.from(hex, "hex"));
    const got = run(chunks, testCase.max_event_bytes ?? MAX_EVENT_BYTES);
    assert.deepEqual(got, { outcomes: testCase.outcomes, error: testCase.error });
  });
}

test("any split of a stream into chunks gives the same events", () => {
  let seed = 7;
  const random = (most: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % most;
  };
  for (const testCase of CASES) {
    const whole = Buffer.concat(testCase.chunks_hex.map((hex) => Buffer.from(hex, "hex")));
    for (let round = 0; round < 20; round += 1) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < whole.length; ) {
        const size = 1 + random(Math.max(1, Math.min(64, whole.length - at)));
        chunks.push(whole.subarray(at, at + size));
        at += size;
      }
      const got = run(chunks, testCase.max_event_bytes ?? MAX_EVENT_BYTES);
      assert.deepEqual(got, { outcomes: testCase.outcomes, error: testCase.error }, `${testCase.name}, round ${round}`);
    }
  }
});

test("40 MiB of empty data lines stop at the 24 MiB cap, in linear time and flat memory", (t) => {
  const line = Buffer.from("data:\n");
  const chunk = Buffer.concat(Array.from({ length: 65536 / line.length }, () => line));
  const decoder = new SseDecoder();
  const started = performance.now();
  const before = process.memoryUsage().rss;
  let fed = 0;
  let refused: unknown = null;
  try {
    decoder.feed(Buffer.from("data: {}\n"));
    while (fed < 40 * 1024 * 1024) {
      decoder.feed(chunk);
      fed += chunk.length;
    }
  } catch (error) {
    refused = error;
  }
  const seconds = (performance.now() - started) / 1000;
  const grown = (process.memoryUsage().rss - before) / (1024 * 1024);
  t.diagnostic(`figure node_sse_empty_data_flood_s=${seconds.toFixed(3)}`);
  t.diagnostic(`figure node_sse_empty_data_flood_rss_mib=${grown.toFixed(1)}`);
  assert.ok(refused instanceof ProtocolError, "the flood is refused");
  assert.match(refused.problem, /larger than 24 MiB/);
  assert.ok(fed <= MAX_EVENT_BYTES + chunk.length, "refused as soon as the cap is passed");
  // Bounded, not timed: a quadratic parser takes minutes here (Python's took 36 s).
  assert.ok(seconds < 30, `took ${seconds} s`);
});

test("a line that never ends is refused at the cap, whatever the chunk size", () => {
  const decoder = new SseDecoder();
  const chunk = Buffer.alloc(1 << 20, 0x78);
  decoder.feed(Buffer.from("data: "));
  assert.throws(() => {
    for (let i = 0; i < 30; i += 1) decoder.feed(chunk);
  }, ProtocolError);
});

test("an event just under the cap passes whole", () => {
  const content = "é".repeat(10 * 1024 * 1024); // 20 MiB of UTF-8
  const wire = Buffer.from(`data: ${JSON.stringify({ type: "text_delta", content })}\n\n`);
  const decoder = new SseDecoder();
  const payloads: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += 65536) payloads.push(...decoder.feed(wire.subarray(at, at + 65536)));
  assert.equal(payloads.length, 1);
  const event = decodeEvent(payloads[0] ?? new Uint8Array());
  assert.ok(event !== null && event !== MALFORMED && event.type === "text");
  assert.equal(event.content.length, content.length);
});
