/**
 * A tool call's arguments (adapters/tools/local/arguments.py): aliases, types and ranges,
 * with messages for the model. JSON `null` counts as absent; numbers may arrive as
 * integral floats or digit strings and booleans as "true"/"false"; other types are
 * refused; unknown extra arguments are ignored.
 */
import { show } from "./text.js";

/** A tool call failed; `message` is the text sent back to the model. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

const INTEGER = /^-?[0-9]{1,18}$/;
// Python's str.strip() whitespace, for digit and boolean strings.
const STRIP = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu;

/** Python's `type(value).__name__` for a JSON value. */
function typeName(value: unknown): string {
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (Array.isArray(value)) return "list";
  if (value === null) return "NoneType";
  return "dict";
}

/** Python's `str(value)` for a JSON value, closely enough for a message. */
function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null) return "None";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(pyReprValue).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${pyReprValue(k)}: ${pyReprValue(v)}`).join(", ")}}`;
}

function pyReprValue(value: unknown): string {
  return typeof value === "string" ? show(value) : pyStr(value);
}

function quoteName(name: string): string {
  return `'${name}'`;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Typed access to one call's `tool_args`. */
export class Arguments {
  readonly #tool: string;
  readonly #raw: Readonly<Record<string, unknown>>;

  constructor(tool: string, raw: Readonly<Record<string, unknown>>) {
    this.#tool = tool;
    this.#raw = raw;
  }

  #lookup(names: readonly string[]): [string, unknown] | undefined {
    const found: [string, unknown][] = [];
    for (const name of names) {
      if (!Object.hasOwn(this.#raw, name)) continue;
      const value = this.#raw[name];
      if (value !== null && value !== undefined) found.push([name, value]);
    }
    const first = found[0];
    if (first === undefined) return undefined;
    for (const [name, value] of found.slice(1)) {
      if (!deepEqual(value, first[1])) {
        throw new ToolError(
          `${this.#tool}: arguments ${quoteName(first[0])} and ${quoteName(name)} disagree; pass only one`,
        );
      }
    }
    return first;
  }

  /** A required string under any of `names` (aliases, first wins). */
  text(names: readonly string[], allowEmpty = false): string {
    const value = this.optionalText(names, allowEmpty);
    if (value === undefined) {
      throw new ToolError(`${this.#tool}: missing required argument ${names.map(quoteName).join(" or ")}`);
    }
    return value;
  }

  /** A string under any of `names`, or undefined when absent. */
  optionalText(names: readonly string[], allowEmpty = false): string | undefined {
    const found = this.#lookup(names);
    if (found === undefined) return undefined;
    const [name, value] = found;
    if (typeof value !== "string") {
      throw new ToolError(`${this.#tool}: argument ${quoteName(name)} must be a string, not ${typeName(value)}`);
    }
    if (value === "" && !allowEmpty) throw new ToolError(`${this.#tool}: argument ${quoteName(name)} must not be empty`);
    return value;
  }

  /** A whole number `>= minimum` under any of `names`, or undefined when absent. */
  optionalInt(names: readonly string[], minimum: number): number | undefined {
    const found = this.#lookup(names);
    if (found === undefined) return undefined;
    const [name, value] = found;
    const number = asInt(value);
    if (number === undefined) {
      throw new ToolError(`${this.#tool}: argument ${quoteName(name)} must be a whole number, got ${show(pyStr(value))}`);
    }
    if (number < minimum) {
      throw new ToolError(`${this.#tool}: argument ${quoteName(name)} must be at least ${minimum}, got ${number}`);
    }
    return number;
  }

  /** A boolean under any of `names`; false when absent. */
  flag(names: readonly string[]): boolean {
    const found = this.#lookup(names);
    if (found === undefined) return false;
    const [name, value] = found;
    if (typeof value === "boolean") return value;
    if (typeof value === "string") {
      const word = value.replace(STRIP, "").toLowerCase();
      if (word === "true" || word === "false") return word === "true";
    }
    throw new ToolError(`${this.#tool}: argument ${quoteName(name)} must be true or false, got ${show(pyStr(value))}`);
  }

  /** One of `allowed` under `name`; the first one when absent. */
  choice(name: string, allowed: readonly string[]): string {
    const value = this.optionalText([name]);
    if (value === undefined) return allowed[0] ?? "";
    if (!allowed.includes(value)) {
      throw new ToolError(
        `${this.#tool}: argument ${quoteName(name)} must be one of ${allowed.join(", ")}; got ${show(value)}`,
      );
    }
    return value;
  }
}

function asInt(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "string") {
    const stripped = value.replace(STRIP, "");
    if (INTEGER.test(stripped)) return Number(stripped);
  }
  return undefined;
}
