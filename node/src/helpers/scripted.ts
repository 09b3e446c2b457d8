/**
 * `ScriptedKeyHelper`: an in-memory key helper for tests, demos and programs that must
 * not start processes (the Python side's `adapters/helpers/scripted.py`). It answers per
 * command text: what the helper prints, a function of the run, or a `KeyHelperError` to
 * throw; an unknown command fails like a missing program. Every run is recorded.
 */
import { KeyHelperError } from "../errors.js";
import type { HelperCommand, HelperReason, KeyRef } from "../keys.js";
import { pyRepr } from "../text.js";
import type { KeyHelper } from "./subprocess.js";

/** What a scripted command prints, or does. */
export type ScriptedAnswer = string | KeyHelperError | ((ref: KeyRef, reason: HelperReason) => string);

/** One recorded run: the command, the key's label, why it ran. */
export interface ScriptedRun {
  readonly command: string;
  readonly key: string;
  readonly reason: HelperReason;
}

/** Plays scripted answers by command. */
export class ScriptedKeyHelper implements KeyHelper {
  readonly #answers = new Map<string, ScriptedAnswer>();
  readonly #runs: ScriptedRun[] = [];

  constructor(answers: Readonly<Record<string, ScriptedAnswer>> = {}) {
    for (const [command, answer] of Object.entries(answers)) this.#answers.set(command, answer);
  }

  /** Set (or replace) what `command` prints. */
  answer(command: string, answer: ScriptedAnswer): void {
    this.#answers.set(command, answer);
  }

  /** Every run so far, in order. */
  get runs(): readonly ScriptedRun[] {
    return [...this.#runs];
  }

  /** The scripted answer for `helper.command`. */
  async run(helper: HelperCommand, ref: KeyRef, reason: HelperReason): Promise<string> {
    this.#runs.push({ command: helper.command, key: ref.label, reason });
    const answer = this.#answers.get(helper.command);
    if (answer === undefined) {
      throw new KeyHelperError(
        ref.label,
        `the key helper program ${pyRepr(helper.program)} was not found`,
        `install it, or fix the command: ${ref.setCommand} --helper '...'`,
      );
    }
    if (answer instanceof KeyHelperError) throw answer;
    return typeof answer === "function" ? answer(ref, reason) : answer;
  }
}
