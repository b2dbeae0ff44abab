/**
 * The byte-level SSE reader of the OpenAI and Anthropic adapters: the same events, and in
 * filtering mode the same bytes, whatever the chunk boundaries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SSE_LINE_BYTES,
  parseJsonBytes,
  SseLineReader,
} from '../../src/proxy/providers/side-reader.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Events read from `bytes` fed in the given pieces; with a filter, also the bytes passed on. */
function read(
  pieces: Uint8Array[],
  drop?: (data: string) => boolean,
): { events: [string, string][]; out: Uint8Array } {
  const events: [string, string][] = [];
  const reader = new SseLineReader((event, data) => {
    events.push([event, data]);
    return drop?.(data);
  }, drop !== undefined);
  const out: Uint8Array[] = [];
  for (const piece of pieces) out.push(reader.push(piece));
  out.push(reader.end());
  return { events, out: Buffer.concat(out) };
}

function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    pieces.push(bytes.slice(from, point));
    from = point;
  }
  pieces.push(bytes.slice(from));
  return pieces;
}

const STREAM = [
  'data: {"a":"héllo 🌍"}\n\n',
  ': a comment\r\n',
  'event: message_delta\r\ndata: {"usage":{"n":1}}\r\n\r\n',
  'data: first line\rdata: second line\r\r',
  'data:no-space\n\n',
  'id: 7\nretry: 10\n\n',
  'data: [DONE]\n\n',
].join('');
const EXPECTED: [string, string][] = [
  ['', '{"a":"héllo 🌍"}'],
  ['message_delta', '{"usage":{"n":1}}'],
  ['', 'first line\nsecond line'],
  ['', 'no-space'],
  ['', '[DONE]'],
];

describe('SseLineReader', () => {
  it('reads LF, CRLF and CR line ends, comments, multi-line data and bare fields', () => {
    expect(read([encode(STREAM)]).events).toEqual(EXPECTED);
  });

  it('reads the same events when the stream is cut at any single byte', () => {
    const bytes = encode(STREAM);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(read(cutAt(bytes, [cut])).events).toEqual(EXPECTED);
    }
  });

  it('reads the same events byte by byte and at random boundaries', () => {
    const bytes = encode(STREAM);
    expect(read(cutAt(bytes, [...bytes.keys()])).events).toEqual(EXPECTED);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 })), (cuts) => {
        expect(read(cutAt(bytes, cuts)).events).toEqual(EXPECTED);
      }),
    );
  });

  it('drops exactly the chosen events and passes every other byte unchanged', () => {
    const bytes = encode(STREAM);
    const dropUsage = (data: string) => data.includes('usage');
    // The comment line has no blank line after it: it belongs to the dropped event.
    const expected = encode(
      STREAM.replace(': a comment\r\nevent: message_delta\r\ndata: {"usage":{"n":1}}\r\n\r\n', ''),
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(decode(read(cutAt(bytes, [cut]), dropUsage).out)).toBe(decode(expected));
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 })), (cuts) => {
        expect(read(cutAt(bytes, cuts), dropUsage).out).toEqual(Buffer.from(expected));
      }),
    );
    // Keeping everything gives the stream back, byte for byte.
    expect(read(cutAt(bytes, [...bytes.keys()]), () => false).out).toEqual(Buffer.from(bytes));
  });

  it('holds an unfinished event, then reports it at the end', () => {
    const events: string[] = [];
    const reader = new SseLineReader((_event, data) => {
      events.push(data);
      return false;
    }, true);
    expect(reader.push(encode('data: {"done":1}\n\ndata: {"partial"'))).toEqual(
      encode('data: {"done":1}\n\n'),
    );
    expect(reader.push(encode(':true}'))).toHaveLength(0);
    expect(decode(reader.end())).toBe('data: {"partial":true}');
    expect(events).toEqual(['{"done":1}', '{"partial":true}']);
  });

  it('never throws on garbage, and reports nothing that is not an event', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, filter) => {
        const reader = new SseLineReader(() => true, filter);
        reader.push(bytes);
        reader.end();
      }),
    );
    expect(read([encode('\u0000\u0001garbage without lines')]).events).toEqual([]);
  });

  it('skips a line longer than the limit instead of buffering it, and reads on', () => {
    const events: string[] = [];
    const reader = new SseLineReader((_event, data) => void events.push(data));
    const block = new Uint8Array(1024 * 1024).fill(97);
    for (let sent = 0; sent <= MAX_SSE_LINE_BYTES; sent += block.length) reader.push(block);
    reader.push(encode('\n\ndata: {"after":true}\n\n'));
    expect(events).toEqual(['{"after":true}']);
  });
});

describe('parseJsonBytes', () => {
  it('parses a body received in pieces, split inside a UTF-8 character', () => {
    const bytes = encode('{"text":"café 🌍","usage":{"n":2}}');
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parseJsonBytes(cutAt(bytes, [cut]))).toEqual({ text: 'café 🌍', usage: { n: 2 } });
    }
  });

  it('gives undefined for a body cut short, garbage or nothing', () => {
    expect(parseJsonBytes([encode('{"usage":{"n"')])).toBeUndefined();
    expect(parseJsonBytes([new Uint8Array([0xff, 0xfe])])).toBeUndefined();
    expect(parseJsonBytes([])).toBeUndefined();
  });
});
