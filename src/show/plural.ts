/**
 * `1 call`, `2 calls`, `1,204 tokens`: a count with its noun, singular for exactly one.
 *
 * @example
 * plural(1, 'call'); // '1 call'
 */
export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
