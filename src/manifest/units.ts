/**
 * Quantities as people write them in plugin.yaml and host policies:
 * sizes like `128Mi`, `1Gi`, `512K`, `65536`; durations like `500ms`, `10s`, `2m`.
 * The schema checks the text with these patterns; these functions turn it into numbers.
 */

export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T|B)?$/;
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

const SIZE_FACTORS: Record<string, number> = {
  B: 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

const DURATION_FACTORS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Bytes in a size such as `128Mi`; a bare number is bytes. Throws on bad text (the schema checks first). */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = SIZE_PATTERN.exec(text.trim());
  if (m === null) throw new RangeError(`not a size: ${JSON.stringify(text)} (expected e.g. 128Mi, 1Gi, 65536)`);
  return Math.floor(Number(m[1]) * SIZE_FACTORS[m[2] ?? 'B']!);
}

/** Milliseconds in a duration such as `500ms` or `10s`. Throws on bad text (the schema checks first). */
export function parseDuration(text: string): number {
  const m = DURATION_PATTERN.exec(text.trim());
  if (m === null) throw new RangeError(`not a duration: ${JSON.stringify(text)} (expected e.g. 500ms, 10s, 2m)`);
  return Math.round(Number(m[1]) * DURATION_FACTORS[m[2]!]!);
}

/** `134217728` → `128Mi`: the shortest exact binary form, for messages. */
export function formatSize(bytes: number): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const f = SIZE_FACTORS[unit]!;
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${unit}`;
  }
  return String(bytes);
}

export function formatDuration(ms: number): string {
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
