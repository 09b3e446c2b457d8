/**
 * `trace.verify(provider)` against the Python suite's providers' stub (run as
 * `python -m tests.support.provider_stub`): the verdicts, words and headers of
 * `buildwithtrace byok verify`, compared with the Python CLI on the same keys.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";

import {
  InsecureTransportError,
  InvalidInputError,
  InvalidSettingError,
  KeyRejectedError,
  ProviderUnreachableError,
  Trace,
  UnknownProviderError,
} from "../src/index.js";
import { configDir, PYTHON, REPO } from "./support.js";

const VALID = "sk-ant-api03-node-verify-valid-0001";
const WRONG = "sk-ant-api03-node-verify-wrong-0002";
const GEMINI_WRONG = "AIza-node-verify-wrong-key-0003";
const OPENAI = "sk-proj-node-verify-openai-0004";

let stub: ChildProcess;
let url: string;
const record = join(tmpdir(), `trace-node-stub-${process.pid}.jsonl`);

before(async () => {
  stub = spawn(
    PYTHON,
    ["-m", "tests.support.provider_stub", "--valid", `anthropic=${VALID}`, "--behaviour", "openai=redirect", "--record", record],
    { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: stub.stdout as NodeJS.ReadableStream });
  url = await new Promise<string>((resolve, reject) => {
    lines.once("line", (line) => resolve(line.trim()));
    stub.once("exit", (code) => reject(new Error(`provider stub exited (${code})`)));
  });
});
after(() => {
  stub.kill("SIGTERM");
});

function world(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(TRACE_|ANTHROPIC_|OPENAI_|GEMINI_|GOOGLE_API)/.test(name)) env[name] = value;
  }
  return {
    ...env,
    TRACE_CONFIG_DIR: configDir(),
    TRACE_CREDENTIALS_STORE: "file",
    TRACE_ANTHROPIC_BASE_URL: `${url}/anthropic`,
    TRACE_OPENAI_BASE_URL: `${url}/openai`,
    TRACE_GEMINI_BASE_URL: `${url}/gemini`,
  };
}

function cli(args: string[], env: Record<string, string>, input?: string): string {
  return execFileSync(join(REPO, ".venv", "bin", "buildwithtrace"), args, { env, input, cwd: REPO, encoding: "utf8" });
}

/** `byok verify --json` of the Python CLI (it exits non-zero for a key that is not valid). */
function pythonVerdict(args: string[], env: Record<string, string>): Record<string, unknown> {
  try {
    return JSON.parse(cli(["byok", "verify", ...args, "--json"], env)) as Record<string, unknown>;
  } catch (error) {
    return JSON.parse(String((error as { stdout: string }).stdout)) as Record<string, unknown>;
  }
}

test("verdicts, words and sources are the Python CLI's", async () => {
  const env = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${VALID}\n`);
  cli(["byok", "set", "anthropic", "--name", "old", "--key-stdin"], env, `${WRONG}\n`);
  cli(["byok", "use", "anthropic"], env);
  cli(["byok", "set", "openai", "--key-stdin"], env, `${OPENAI}\n`);
  cli(["byok", "set", "gemini", "--key-stdin"], env, `${GEMINI_WRONG}\n`);
  const trace = new Trace({ env });
  const cases: [string, string | undefined][] = [
    ["anthropic", undefined],
    ["anthropic", "old"],
    ["openai", undefined],
    ["gemini", undefined],
  ];
  for (const [provider, name] of cases) {
    const node = await trace.verify(provider, name === undefined ? {} : { name });
    const python = pythonVerdict(name === undefined ? [provider] : [provider, "--name", name], env);
    assert.deepEqual(
      { provider: node.provider, verdict: node.verdict, status: node.status, detail: node.detail, masked: node.maskedKey, source: node.source },
      python,
      `${provider} ${name ?? ""}`,
    );
  }
  const valid = await trace.verify("anthropic");
  assert.deepEqual([valid.valid, valid.failure], [true, null]);
  const rejected = await trace.verify("anthropic", { name: "old" });
  assert.ok(rejected.failure instanceof KeyRejectedError);
  assert.equal(rejected.failure.problem, "anthropic rejected the key (HTTP 401)");
  const redirected = await trace.verify("openai");
  assert.ok(redirected.failure instanceof ProviderUnreachableError);
  assert.equal((await trace.verify("gemini")).verdict, "rejected"); // 400 API_KEY_INVALID
});

test("the key goes in the provider's header, never in the URL", async () => {
  writeFileSync(record, "");
  const env = world();
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${VALID}\n`);
  await new Trace({ env }).verify("anthropic");
  const [seen] = readFileSync(record, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { path: string; query: string; headers: Record<string, string> });
  assert.ok(seen !== undefined);
  assert.deepEqual([seen.path, seen.query], ["/anthropic/v1/models", ""]);
  assert.deepEqual([seen.headers["x-api-key"], seen.headers["anthropic-version"]], [VALID, "2023-06-01"]);
});

test("a helper's key is verified, the helper told it runs for verify", async () => {
  const env = world();
  const bin = join(tmpdir(), `trace-node-verify-${process.pid}`);
  mkdirSync(bin, { recursive: true });
  const why = join(bin, "why");
  const script = join(bin, "key.mjs");
  writeFileSync(script, `import fs from "node:fs";\nfs.writeFileSync(${JSON.stringify(why)}, process.env.TRACE_KEY_HELPER_REASON);\nconsole.log(${JSON.stringify(VALID)});\n`);
  cli(["byok", "set", "anthropic", "--name", "vault", "--helper", `${process.execPath} ${script}`], env);
  const found = await new Trace({ env }).verify("anthropic");
  assert.deepEqual([found.verdict, found.source, readFileSync(why, "utf8")], ["valid", "helper:vault", "verify"]);
});

test("what cannot be verified is refused with the Python words", async () => {
  const env = world();
  const trace = new Trace({ env });
  await assert.rejects(trace.verify("trace"), (error: unknown) => {
    assert.ok(error instanceof InvalidInputError);
    assert.deepEqual([error.problem, error.fix], ["Trace-hosted models take no key to verify", "buildwithtrace auth status"]);
    return true;
  });
  await assert.rejects(trace.verify("mistral"), (error: unknown) => {
    assert.ok(error instanceof UnknownProviderError);
    assert.equal(error.fix, "use one of: anthropic, openai, gemini");
    return true;
  });
  await assert.rejects(new Trace({ env: { ...env, TRACE_OPENAI_BASE_URL: "ftp://x" } }).verify("anthropic"), (error: unknown) => {
    assert.ok(error instanceof InvalidSettingError);
    assert.equal(error.problem, "TRACE_OPENAI_BASE_URL is not an http(s)://host[:port] URL");
    return true;
  });
  cli(["byok", "set", "anthropic", "--key-stdin"], env, `${VALID}\n`);
  await assert.rejects(
    new Trace({ env: { ...env, TRACE_ANTHROPIC_BASE_URL: "http://stub.example.com" } }).verify("anthropic"),
    InsecureTransportError,
  );
});
