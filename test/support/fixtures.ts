import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/** ../shared/fixtures/gemini, read in place (never copied into the project). */
export const GEMINI_FIXTURES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../shared/fixtures/gemini',
);

export const hasGeminiFixtures = existsSync(join(GEMINI_FIXTURES, 'INDEX.md'));

if (!hasGeminiFixtures) {
  console.warn(
    `[tollgate tests] ${GEMINI_FIXTURES} is absent: tests over recorded Gemini responses are skipped.`,
  );
}

/** `describe` that skips (with the notice above) where ../shared is absent. */
export const describeWithFixtures = hasGeminiFixtures ? describe : describe.skip;

/** Lists fixture files (relative paths) under a folder of the Gemini fixtures. */
export function listFixtures(folder: string, pattern = /./): string[] {
  const dir = join(GEMINI_FIXTURES, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(folder, name));
}

export function readFixture(relativePath: string): string {
  return readFileSync(join(GEMINI_FIXTURES, relativePath), 'utf8');
}

/**
 * Parses a fixture into its response bodies: one for a JSON file, one per `data:` line for SSE.
 * Files that are neither (an error page, say) yield an empty list.
 */
export function fixtureBodies(relativePath: string): unknown[] {
  const text = readFixture(relativePath).trim();
  if (text.startsWith('data:') || /\ndata:/.test(text)) {
    return text
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5).trim()) as unknown);
  }
  try {
    return [JSON.parse(text) as unknown];
  } catch {
    return [];
  }
}
