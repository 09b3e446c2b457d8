/**
 * The shared masking vectors (tests/shared/masking-cases.json, written by the Python
 * masker) through the Node masker: whole texts, streamed pieces and nested data.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { SecretMasker } from "../src/masking.js";
import { REPO } from "./support.js";

interface Table {
  readonly texts: { secrets: string[]; text: string; masked: string }[];
  readonly streams: { secrets: string[]; pieces: string[]; shown: string[]; flush: string }[];
  readonly data: { secrets: string[]; data: unknown; masked: unknown }[];
}

const TABLE = JSON.parse(readFileSync(join(REPO, "tests", "shared", "masking-cases.json"), "utf8")) as Table;

test("whole texts are masked as the Python masker masks them", () => {
  for (const row of TABLE.texts) assert.equal(new SecretMasker(row.secrets).mask(row.text), row.masked, row.text);
});

test("streamed pieces are shown, held and flushed as in Python", () => {
  for (const row of TABLE.streams) {
    const stream = new SecretMasker(row.secrets).stream();
    assert.deepEqual(
      row.pieces.map((piece) => stream.feed(piece)),
      row.shown,
      JSON.stringify(row.pieces),
    );
    assert.equal(stream.flush(), row.flush);
  }
});

test("nested data (keys too) is masked as in Python", () => {
  for (const row of TABLE.data) assert.deepEqual(new SecretMasker(row.secrets).maskData(row.data), row.masked);
});
