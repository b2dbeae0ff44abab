/**
 * Server-sent events read on the side of a pass-through stream: bytes in, each complete event's
 * `event` and `data` out. Whatever the bytes are (cut mid-line, garbage, no trailing blank line),
 * the reader never throws; an event that never completes is simply never reported.
 */

/** One event: its `event:` field (empty when absent) and its `data:` lines joined by `\n`. */
export type SseListener = (data: string, event: string) => void;

/**
 * Splits a byte stream into server-sent events (the WHATWG parsing rules: `\n`, `\r\n` or `\r`
 * line ends, `data:` lines joined, a blank line ends an event, `:` lines are comments).
 *
 * @example
 * const reader = new SseReader((data) => console.log(JSON.parse(data)));
 * reader.push(new TextEncoder().encode('data: {"a":1}\n\n'));
 */
export class SseReader {
  private readonly decoder = new TextDecoder();
  private pending = '';
  private data: string[] = [];
  private event = '';

  constructor(private readonly listener: SseListener) {}

  /** Reads a chunk; reports every event it completes. */
  push(chunk: Uint8Array): void {
    this.lines(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a last event without its blank line is reported too. */
  end(): void {
    this.lines(`${this.decoder.decode()}\n\n`);
  }

  private lines(text: string): void {
    let rest = this.pending + text;
    let start = 0;
    for (;;) {
      const lf = rest.indexOf('\n', start);
      const cr = rest.indexOf('\r', start);
      let end = lf;
      if (cr !== -1 && (lf === -1 || cr < lf)) end = cr;
      if (end === -1) break;
      // A `\r` at the very end may be the first half of `\r\n`: wait for the next chunk.
      if (end === cr && end === rest.length - 1 && lf === -1) break;
      this.line(rest.slice(start, end));
      start = end + (end === cr && rest.charCodeAt(end + 1) === 10 ? 2 : 1);
    }
    rest = rest.slice(start);
    this.pending = rest;
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        const data = this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n');
        this.data = [];
        this.listener(data, this.event);
      }
      this.event = '';
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
