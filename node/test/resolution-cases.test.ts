/**
 * The shared resolution table (tests/shared/resolution-cases.json, generated from the
 * Python domain) through this SDK's `new Trace({...}).resolve(...)`: the same cases the
 * Python suite runs through `Trace(...).resolve(...)`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  MemorySecretStore,
  MemorySettingsStore,
  PROVIDERS,
  type ProviderName,
  SDK_ORDER,
  Trace,
  TraceError,
} from "../src/index.js";
import { REPO } from "./support.js";

interface Source {
  provider?: string;
  key?: string;
  model?: string;
}
interface World {
  env?: Record<string, string>;
  stored?: Record<string, string>;
  active?: ProviderName;
  remembered?: Record<string, string>;
}
interface Case extends World {
  name: string;
  world?: string;
  client?: Source;
  call?: Source;
  expect?: Record<string, string | null>;
  error?: { name: string; exit_code: number; problem: string; fix: string };
}
interface Table {
  policy: { sdk_order: string[]; key_name_order?: string[] };
  store_label: string;
  worlds: Record<string, World>;
  providers: { name: string; label: string; env_vars: string[]; default_model: string | null; billing: string; payer: string }[];
  cases: Case[];
}

const table = JSON.parse(readFileSync(join(REPO, "tests", "shared", "resolution-cases.json"), "utf8")) as Table;

// TODO(issue 13, Node round): the Python side added key sources the Node SDK does not
// resolve yet: key helpers ("helpers"), named keys ("stored" labels "provider:name",
// "key_names"), project files ("project", the "project" origin and model source), and
// the override setting ("env_override"); expectations gained "overrides", "project",
// "notices" and "helper_runs". Until the Node SDK implements them (docs/configuration.md,
// "Key sources"), rows using any of these inputs are skipped and only the format-1
// expectation fields are compared. Delete PENDING_INPUTS, isPending and OLD_FIELDS then.
const PENDING_INPUTS = ["helpers", "key_names", "project", "env_override"] as const;
const OLD_FIELDS = ["provider", "key", "key_source", "masked_key", "model", "model_source", "origin", "billing"] as const;

function isPending(c: Case & Record<string, unknown>): boolean {
  if (PENDING_INPUTS.some((name) => name in c)) return true;
  return Object.keys(c.stored ?? {}).some((label) => label.includes(":"));
}

function formatOne(expect: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (expect === undefined) return undefined;
  return Object.fromEntries(OLD_FIELDS.map((name) => [name, expect[name]]));
}

async function outcome(c: Case): Promise<Pick<Case, "expect" | "error">> {
  const world = c.world === undefined ? {} : (table.worlds[c.world] ?? {});
  const stored = c.stored ?? world.stored ?? {};
  const active = c.active ?? world.active;
  const remembered = c.remembered ?? world.remembered ?? {};
  try {
    const trace = new Trace({
      env: { ...world.env, ...c.env },
      secrets: new MemorySecretStore(Object.fromEntries(Object.entries(stored).map(([p, k]) => [`llm:${p}`, k]))),
      settings: new MemorySettingsStore({ activeProvider: active, models: remembered }),
      llmProvider: c.client?.provider,
      llmApiKey: c.client?.key,
      llmModelId: c.client?.model,
    });
    const r = await trace.resolve({ llmProvider: c.call?.provider, llmApiKey: c.call?.key, llmModelId: c.call?.model });
    return {
      expect: {
        provider: r.provider,
        key: r.credential?.secret.reveal() ?? null,
        key_source: r.keySource,
        masked_key: r.maskedKey,
        model: r.model,
        model_source: r.modelSource,
        origin: r.origin,
        billing: r.billing,
      },
    };
  } catch (error) {
    if (!(error instanceof TraceError)) throw error;
    return { error: { name: error.name, exit_code: error.exitCode, problem: error.problem, fix: error.fix } };
  }
}

test("the SDK order and provider table (who pays in the same words) are the Python domain's", () => {
  // TODO(issue 13, Node round): the "project" origin (a project file) is not in Node yet.
  assert.deepEqual([...SDK_ORDER], table.policy.sdk_order.filter((origin) => origin !== "project"));
  assert.deepEqual(
    PROVIDERS.map((p) => ({ name: p.name, label: p.label, env_vars: [...p.envVars], default_model: p.defaultModel, billing: p.billing, payer: p.payer })),
    table.providers.map(({ name, label, env_vars, default_model, billing, payer }) => ({ name, label, env_vars, default_model, billing, payer })),
  );
  assert.equal(table.store_label, "memory");
});

test("every shared case resolves as the Python SDK resolves it", async () => {
  assert.ok(table.cases.length > 1500);
  const mismatches: string[] = [];
  for (const c of table.cases) {
    if (isPending(c as Case & Record<string, unknown>)) continue; // TODO(issue 13): see PENDING_INPUTS
    const recorded = c.expect !== undefined ? { expect: formatOne(c.expect) } : { error: c.error };
    const actual = await outcome(c);
    try {
      assert.deepEqual(actual, recorded);
    } catch {
      mismatches.push(`${c.name}: recorded ${JSON.stringify(recorded)}, got ${JSON.stringify(actual)}`);
    }
  }
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} cases differ`);
});
