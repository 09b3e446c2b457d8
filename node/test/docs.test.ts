/**
 * docs/node-sdk.md, executed: `npm pack` installed into an empty project, each `js`
 * block run there against the protocol server (its `text` output block, if any,
 * compared), and the package's types checked from that project with `tsc --strict`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { configDir, done, ProtocolServer, REPO, text, TOKEN, turn } from "./support.js";

const NODE_DIR = join(REPO, "node");
let server: ProtocolServer;
let project: string;

interface Example {
  readonly line: number;
  readonly code: string;
  readonly output: string | undefined;
}

function examples(): Example[] {
  const lines = readFileSync(join(REPO, "docs", "node-sdk.md"), "utf8").split("\n");
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i] !== "```js") continue;
    const start = i + 1;
    let end = start;
    while (lines[end] !== "```") end += 1;
    let output: string | undefined;
    let j = end + 1;
    while (j < lines.length && lines[j]?.trim() === "") j += 1;
    if (lines[j] === "Output:") {
      j += 1;
      while (lines[j]?.trim() === "") j += 1;
      if (lines[j] === "```text") {
        let k = j + 1;
        while (lines[k] !== "```") k += 1;
        output = lines.slice(j + 1, k).join("\n") + "\n";
      }
    }
    found.push({ line: start, code: lines.slice(start, end).join("\n") + "\n", output });
    i = end;
  }
  return found;
}

before(async () => {
  server = await ProtocolServer.start();
  project = mkdtempSync(join(tmpdir(), "trace-node-docs-"));
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", project], {
    cwd: NODE_DIR,
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .at(-1);
  assert.ok(packed !== undefined && packed.endsWith(".tgz"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "docs-examples", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", join(project, packed)], { cwd: project });
});

after(async () => {
  await server.stop();
});

test("the packed package holds the built SDK and its types, nothing else", () => {
  const installed = join(project, "node_modules", "buildwithtrace");
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { exports: unknown };
  assert.deepEqual(manifest.exports, {
    ".": { types: "./dist/src/index.d.ts", import: "./dist/src/index.js" },
    "./package.json": "./package.json",
  });
  assert.deepEqual(readdirSync(join(installed, "dist")), ["src"]);
});

test("the package's types check under tsc --strict from a consumer project", () => {
  writeFileSync(
    join(project, "check.ts"),
    `import { Trace, TraceError, type ChatEvent, type ChatReply, type Resolution } from "buildwithtrace";
const trace = new Trace({ llmProvider: "openai" });
const reply: Promise<ChatReply> = trace.chat("x", { mode: "plan" });
const resolution: Promise<Resolution> = trace.resolve();
async function events(): Promise<string[]> {
  const out: string[] = [];
  for await (const event of trace.stream("x")) {
    const e: ChatEvent = event;
    if (e.type === "text") out.push(e.content);
    else if (e.type === "done") out.push(e.reply.billing);
  }
  return out;
}
void reply; void resolution; void events; void TraceError;
`,
  );
  execFileSync(
    process.execPath,
    [join(NODE_DIR, "node_modules", "typescript", "bin", "tsc"), "--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "--typeRoots", join(NODE_DIR, "node_modules", "@types"), "check.ts"],
    { cwd: project, encoding: "utf8" },
  );
});

test("every example of docs/node-sdk.md runs against the protocol server", async () => {
  const all = examples();
  assert.ok(all.length >= 5, "the page has its examples");
  for (const example of all) {
    await server.script({ turns: [turn([text("Fine. "), text("U1 drives VCC."), done()]), turn([text("ok"), done()])] });
    const file = join(project, `example-${example.line}.mjs`);
    writeFileSync(file, example.code);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !/^(TRACE_|ANTHROPIC_|OPENAI_|GEMINI_|GOOGLE_API)/.test(name)) env[name] = value;
    }
    const out = execFileSync(process.execPath, [file], {
      cwd: project,
      encoding: "utf8",
      env: { ...env, TRACE_BASE_URL: server.url, TRACE_API_TOKEN: TOKEN, TRACE_CONFIG_DIR: configDir(), TRACE_CREDENTIALS_STORE: "file" },
    });
    if (example.output !== undefined) assert.equal(out, example.output, `docs/node-sdk.md line ${example.line}`);
  }
});
