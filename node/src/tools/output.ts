/**
 * Size-capped result text (adapters/tools/local/output.py): tools add lines, the model gets
 * at most `limit` characters (code points, as Python counts them); when anything was cut,
 * one note line `[output truncated: N more characters]` follows, so a result may exceed the
 * cap by that note.
 */
import { cpLength, cpSlice } from "./text.js";

/** The line that tells the model how much it did not see. */
export function truncationNote(more: number): string {
  return `[output truncated: ${more} more characters]`;
}

/** Collects lines until `limit` characters, then only counts what did not fit. */
export class CappedText {
  readonly #limit: number;
  readonly #parts: string[] = [];
  #used = 0;
  #overflow = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** True once something had to be cut; later lines are only counted. */
  get full(): boolean {
    return this.#overflow > 0;
  }

  /** True when no line was added yet. */
  get empty(): boolean {
    return this.#parts.length === 0 && this.#overflow === 0;
  }

  /** Append `line` (a newline separates lines), or count it once full. */
  add(line: string): void {
    const length = cpLength(line);
    let cost = length + (this.#parts.length > 0 || this.#overflow > 0 ? 1 : 0);
    if (this.#overflow > 0 || this.#used + cost > this.#limit) {
      const room = Math.max(this.#limit - this.#used, 0);
      if (this.#overflow === 0 && room > 1) {
        // Keep what fits of the first line that does not: one huge line still shows its start.
        this.#parts.push(cpSlice(line, 0, room - (cost - length)));
        this.#used += room;
        cost -= room;
      }
      this.#overflow += cost;
      return;
    }
    this.#parts.push(line);
    this.#used += cost;
  }

  /** Count `chars` more characters that were not added. */
  count(chars: number): void {
    this.#overflow += chars;
  }

  /** The kept lines, then the truncation note if needed, then `notes`. */
  text(...notes: string[]): string {
    const lines = [...this.#parts];
    if (this.#overflow > 0) lines.push(truncationNote(this.#overflow));
    lines.push(...notes);
    return lines.join("\n");
  }
}

/** `text` cut to `limit` characters, with the truncation note when it was cut. */
export function cap(text: string, limit: number): string {
  const length = cpLength(text);
  if (length <= limit) return text;
  return cpSlice(text, 0, limit) + "\n" + truncationNote(length - limit);
}
