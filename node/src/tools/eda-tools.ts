/**
 * The EDA tools (adapters/tools/local/eda_tools.py): `get_erc_violations` and
 * `get_drc_violations` through `kicad-cli ... --format json`, the JSON report returned
 * as written (size-capped). The report goes to a private temp directory outside the
 * project. The file argument (`file_path`; `target_file` or `file`) is optional: without
 * it the root's schematic/board is used (the one named like the single `.kicad_pro`,
 * else the only one), chosen through the path policy. `kicad-cli` runs with the
 * allow-listed environment (child-env.ts: no key, no token) in its own process group,
 * which is killed when the run exceeds the timeout or the turn is cancelled.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join, posix as path } from "node:path";

import { pyRepr } from "../text.js";
import { type Arguments, ToolError } from "./arguments.js";
import { childEnvironment } from "./child-env.js";
import { cap } from "./output.js";
import * as pathPolicy from "./path-policy.js";
import type { Sandbox } from "./sandbox.js";
import { describeOsError } from "./os-errors.js";
import { byCodePoint } from "./text.js";
import { suffixOf } from "./write-policy.js";

export const NO_ENGINE = "no EDA engine installed: install KiCad 8+ (kicad-cli) to run ERC/DRC";
const STDERR_TAIL = 2000;

/** What the EDA tools need from the runner. */
export interface EdaContext {
  readonly sandbox: Sandbox;
  readonly kicadCli: string | null;
  readonly edaTimeoutSeconds: number;
  readonly maxReadBytes: number;
  readonly maxResultChars: number;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** `get_erc_violations` / `get_drc_violations`: one `kicad-cli` check, its JSON report. */
export async function edaCheck(ctx: EdaContext, tool: string, args: Arguments, signal: AbortSignal): Promise<string> {
  const [command, suffix, what]: [[string, string], string, string] =
    tool === "get_erc_violations" ? [["sch", "erc"], ".kicad_sch", "schematic"] : [["pcb", "drc"], ".kicad_pcb", "board"];
  if (ctx.kicadCli === null) throw new ToolError(NO_ENGINE);
  const raw = args.optionalText(["file_path", "target_file", "file"]);
  const p = raw !== undefined ? pathPolicy.resolve(ctx.sandbox, raw, "check") : defaultFile(ctx.sandbox, suffix, what);
  const shown = ctx.sandbox.display(p);
  if (pathPolicy.nameKey(suffixOf(path.basename(p))) !== suffix) {
    throw new ToolError(`${command[1].toUpperCase()} needs a ${suffix} ${what}; got ${pyRepr(shown)}`);
  }
  if (!isFile(p)) throw new ToolError(`${what} ${pyRepr(shown)} does not exist`);
  const name = command.join(" ");
  const temp = fs.mkdtempSync(join(tmpdir(), "trace-eda-"));
  try {
    const report = join(temp, "report.json");
    await run(ctx, [ctx.kicadCli, ...command, "--format", "json", "--output", report, p], name, signal);
    let data: Buffer;
    try {
      const fd = fs.openSync(report, "r");
      try {
        data = Buffer.alloc(ctx.maxReadBytes + 1);
        data = data.subarray(0, fs.readSync(fd, data, 0, data.length, 0));
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      throw new ToolError(`kicad-cli ${name} wrote no report`);
    }
    const text = new TextDecoder("utf-8").decode(data);
    if (data.length <= ctx.maxReadBytes) {
      try {
        JSON.parse(text);
      } catch {
        throw new ToolError(`kicad-cli ${name} wrote a report that is not JSON`);
      }
    }
    return cap(text, ctx.maxResultChars);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    if (process.platform === "win32") process.kill(pid, "SIGKILL");
    else process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function run(ctx: EdaContext, argv: string[], name: string, signal: AbortSignal): Promise<void> {
  const [file = "", ...rest] = argv;
  if (signal.aborted) throw new ToolError(`kicad-cli ${name} was cancelled`);
  const child = spawn(file, rest, {
    cwd: ctx.sandbox.root,
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnvironment(ctx.environment),
    detached: process.platform !== "win32", // its own process group, killed as a whole
  });
  let stderr = Buffer.alloc(0);
  child.stdout.resume();
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > 4 * STDERR_TAIL * 2) stderr = stderr.subarray(stderr.length - 4 * STDERR_TAIL);
  });
  const outcome = await new Promise<{ code: number | null; failure?: string }>((settle) => {
    const stop = (failure: string): void => {
      killGroup(child.pid);
      settle({ code: null, failure });
    };
    const timer = setTimeout(
      () => stop(`kicad-cli ${name} did not finish within ${ctx.edaTimeoutSeconds} s and was stopped`),
      ctx.edaTimeoutSeconds * 1000,
    );
    const onAbort = (): void => stop(`kicad-cli ${name} was cancelled`);
    signal.addEventListener("abort", onAbort, { once: true });
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    child.once("error", (error) => {
      done();
      settle({ code: null, failure: `cannot run the EDA engine ${pyRepr(file)}: ${describeOsError(error, null)}` });
    });
    child.once("close", (code) => {
      done();
      settle({ code });
    });
  });
  if (outcome.failure !== undefined) throw new ToolError(outcome.failure);
  if (outcome.code !== 0) {
    const text = new TextDecoder("utf-8").decode(stderr).trim();
    const detail = [...text].slice(-STDERR_TAIL).join("");
    throw new ToolError(`kicad-cli ${name} failed (exit status ${outcome.code})${detail ? `: ${detail}` : ""}`);
  }
}

function defaultFile(sandbox: Sandbox, suffix: string, what: string): string {
  const candidates = new Map<string, string>();
  const projects: string[] = [];
  const names = fs.readdirSync(sandbox.root).sort(byCodePoint);
  for (const name of names) {
    const found = path.join(sandbox.root, name);
    const resolved = pathPolicy.reach(sandbox, found);
    if (resolved === null) continue;
    const key = pathPolicy.nameKey(name);
    if (key.endsWith(".kicad_pro")) projects.push(name.slice(0, -".kicad_pro".length));
    else if (key.endsWith(suffix) && pathPolicy.nameKey(path.basename(resolved)).endsWith(suffix) && isFile(resolved)) {
      candidates.set(name, resolved);
    }
  }
  const project = projects.length === 1 ? candidates.get(`${projects[0]}${suffix}`) : undefined;
  if (project !== undefined) return project;
  if (candidates.size === 1) return [...candidates.values()][0] ?? "";
  if (candidates.size === 0) throw new ToolError(`no ${suffix} ${what} in the project directory; pass file_path`);
  throw new ToolError(`several ${what}s in the project directory (${[...candidates.keys()].join(", ")}); pass file_path`);
}
