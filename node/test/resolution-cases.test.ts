/**
 * The shared resolution table (tests/shared/resolution-cases.json, format 2, generated
 * from the Python domain) through this SDK's `new Trace({...}).resolve(...)`: the same
 * cases the Python suite runs through `Trace(...).resolve(...)`, every input (named keys,
 * helpers, project files, the override setting) and every expectation field compared.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import {
  HelperCommand,
  KeyRef,
  MemoryProjectFiles,
  MemorySecretStore,
  MemorySettingsStore,
  PROVIDERS,
  type ProjectState,
  type ProviderName,
  SDK_ORDER,
  KEY_NAME_ORDER,
  CLI_ORDER,
  ScriptedKeyHelper,
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
interface Helper {
  command: string;
  shell: boolean;
  prints: string;
}
interface Project {
  provider?: ProviderName;
  key_name?: string;
  model?: string;
  state: ProjectState;
}
interface Case extends World {
  name: string;
  world?: string;
  client?: Source;
  call?: Source;
  key_names?: Record<string, string>;
  helpers?: Record<string, Helper>;
  project?: Project;
  env_override?: "warn" | "error";
  expect?: Record<string, unknown>;
  error?: { name: string; exit_code: number; problem: string; fix: string };
}
interface Table {
  version: number;
  policy: { cli_order: string[]; sdk_order: string[]; key_name_order: string[] };
  store_label: string;
  project_path: string;
  worlds: Record<string, World>;
  providers: { name: string; label: string; account: string; env_vars: string[]; default_model: string | null; billing: string; payer: string }[];
  cases: Case[];
}

const table = JSON.parse(readFileSync(join(REPO, "tests", "shared", "resolution-cases.json"), "utf8")) as Table;
// The digests the generator gives the table's project file (tests/shared/resolution_cases.py).
const PROJECT_DIGEST = "sha256:" + "7".repeat(64);
const CHANGED_DIGEST = "sha256:" + "8".repeat(64);

/** One case through `new Trace({...}).resolve(...)`, over in-memory stores, helpers and project files. */
async function outcome(c: Case): Promise<Pick<Case, "expect" | "error">> {
  const world = c.world === undefined ? {} : (table.worlds[c.world] ?? {});
  const stored = c.stored ?? world.stored ?? {};
  const active = c.active ?? world.active;
  const remembered = c.remembered ?? world.remembered ?? {};
  const helper = new ScriptedKeyHelper(Object.fromEntries(Object.values(c.helpers ?? {}).map((h) => [h.command, h.prints])));
  const projects = new MemoryProjectFiles();
  const project = c.project;
  if (project !== undefined) {
    projects.put(process.cwd(), {
      path: table.project_path,
      digest: project.state === "changed" ? CHANGED_DIGEST : PROJECT_DIGEST,
      selection: { provider: project.provider ?? null, keyName: project.key_name ?? null, model: project.model ?? null },
    });
  }
  try {
    const trace = new Trace({
      env: { ...world.env, ...c.env },
      secrets: new MemorySecretStore(Object.fromEntries(Object.entries(stored).map(([label, k]) => [KeyRef.ofLabel(label).account, k]))),
      settings: new MemorySettingsStore({
        activeProvider: active,
        models: remembered,
        keyNames: c.key_names ?? {},
        envOverride: c.env_override,
        helpers: Object.fromEntries(Object.entries(c.helpers ?? {}).map(([label, h]) => [label, new HelperCommand(h.command, h.shell)])),
        allowedProjects: project === undefined || project.state === "not_allowed" ? {} : { [table.project_path]: PROJECT_DIGEST },
      }),
      keyHelper: helper,
      projectFiles: projects,
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
        overrides: r.overrides,
        project: r.project === null ? null : { path: r.project.path, state: r.project.state },
        notices: r.notices.map((n) => ({ code: n.code, message: n.message })),
        helper_runs: helper.runs.map((run) => ({ key: run.key, reason: run.reason })),
      },
    };
  } catch (error) {
    if (!(error instanceof TraceError)) throw error;
    return { error: { name: error.name, exit_code: error.exitCode, problem: error.problem, fix: error.fix } };
  }
}

test("the orders and the provider table (who pays in the same words) are the Python domain's", () => {
  assert.equal(table.version, 2);
  assert.deepEqual([...SDK_ORDER], table.policy.sdk_order);
  assert.deepEqual([...KEY_NAME_ORDER], table.policy.key_name_order);
  assert.deepEqual([...CLI_ORDER], table.policy.cli_order);
  assert.deepEqual(
    PROVIDERS.map((p) => ({
      name: p.name,
      label: p.label,
      account: new KeyRef(p.name).account,
      env_vars: [...p.envVars],
      default_model: p.defaultModel,
      billing: p.billing,
      payer: p.payer,
    })),
    table.providers,
  );
  assert.equal(table.store_label, "memory");
});

test("every shared case resolves as the Python SDK resolves it", async () => {
  assert.ok(table.cases.length > 1500);
  const mismatches: string[] = [];
  for (const c of table.cases) {
    const recorded = c.expect !== undefined ? { expect: c.expect } : { error: c.error };
    const actual = await outcome(c);
    try {
      assert.deepEqual(actual, recorded);
    } catch {
      mismatches.push(`${c.name}: recorded ${JSON.stringify(recorded)}, got ${JSON.stringify(actual)}`);
    }
  }
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} cases differ`);
});

test("the table exercises every key source, origin, notice and project state", () => {
  const expects = table.cases.flatMap((c) => (c.expect === undefined ? [] : [c.expect]));
  const sources = new Set(expects.map((e) => e["key_source"]));
  for (const label of ["memory:work", "memory:client-a", "helper", "helper:client-a", "env:TRACE_LLM_API_KEY"]) {
    assert.ok(sources.has(label), label);
  }
  assert.deepEqual(new Set(expects.map((e) => e["origin"])), new Set(table.policy.sdk_order));
  const notices = new Set(expects.flatMap((e) => (e["notices"] as { code: string }[]).map((n) => n.code)));
  assert.deepEqual(notices, new Set(["env_override", "project_ignored"]));
  const errors = new Set(table.cases.flatMap((c) => (c.error === undefined ? [] : [c.error.name])));
  for (const name of ["MissingNamedKeyError", "KeyHelperError", "EnvOverrideError"]) assert.ok(errors.has(name), name);
});
