/**
 * Reading upstream answers on the side, for the OpenAI and Anthropic adapters: a byte-level
 * reader of server-sent events that finds the events in a stream cut at arbitrary byte
 * boundaries (mid-line, mid-`\r\n`, mid-UTF-8 character) and, when asked, drops whole events
 * from what passes on without touching the bytes of any other event; and the observer both
 * adapters build on (a unary JSON body, or a stream's events).
 */

import { isRecord } from '../../usage/counts.js';
import type { ObservedUsage, UsageObserver } from '../provider.js';

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/** A line longer than this (a garbage stream with no line breaks) is skipped, not buffered. */
export const MAX_SSE_LINE_BYTES = 32 * 1024 * 1024;

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * What the reader does with a finished event: `true` drops its bytes from the output (only in
 * filtering mode), anything else keeps them.
 */
export type SseEventHandler = (event: string, data: string) => boolean | undefined;

/**
 * The value of a field line (`name: value`, `name:value`, or a bare `name`), or undefined when
 * the line holds another field.
 */
function fieldValue(line: Uint8Array, name: string): string | undefined {
  const length = name.length;
  if (line.length < length) return undefined;
  for (let i = 0; i < length; i++) if (line[i] !== name.charCodeAt(i)) return undefined;
  if (line.length === length) return '';
  if (line[length] !== COLON) return undefined;
  const from = line[length + 1] === SPACE ? length + 2 : length + 1;
  return decoder.decode(line.subarray(from));
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Splits a byte stream into SSE events (`event:` and `data:` fields, per the WHATWG rules: any
 * of `\r\n`, `\n`, `\r` ends a line, a blank line ends an event, several `data:` lines join with
 * `\n`, `:` lines are comments). Events with no `data:` line are not reported.
 *
 * In filtering mode (`filter: true`) `push` returns the bytes to pass on: every complete event
 * the handler did not drop, byte for byte; the bytes of an unfinished event are held until its
 * blank line arrives. Otherwise `push` returns its input unchanged.
 */
export class SseLineReader {
  private readonly partial: Uint8Array[] = [];
  private partialBytes = 0;
  private overflow = false;
  private afterCr = false;
  private eventName = '';
  private data: string[] = [];
  /** Bytes of the unfinished event (filtering mode). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private out: Uint8Array[] = [];
  /**
   * Set when an event ended on a `\r` that was the last byte of a chunk: whether it was
   * dropped, so the `\n` of its `\r\n`, if it opens the next chunk, goes the same way.
   */
  private endedOnCr: boolean | undefined;

  constructor(
    private readonly onEvent: SseEventHandler,
    private readonly filter = false,
  ) {}

  /** Reads a chunk; returns what passes on (see the class comment). */
  push(chunk: Uint8Array): Uint8Array {
    let lineStart = 0;
    let eventStart = 0;
    const n = chunk.length;
    if (this.endedOnCr !== undefined && n > 0) {
      if (chunk[0] === LF) {
        if (!this.endedOnCr) this.out.push(chunk.subarray(0, 1));
        this.afterCr = false;
        lineStart = 1;
        eventStart = 1;
      }
      this.endedOnCr = undefined;
    }
    for (let i = lineStart; i < n; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      if (byte === LF && this.afterCr && i === lineStart && this.partialBytes === 0) {
        // The `\n` of a `\r\n` whose `\r` ended the line before (maybe in the last chunk).
        this.afterCr = false;
        lineStart = i + 1;
        continue;
      }
      this.afterCr = byte === CR;
      const ended = this.line(chunk, lineStart, i);
      lineStart = i + 1;
      if (ended === undefined || !this.filter) continue;
      // A blank line ended the event: its bytes run to here, with the `\n` of a `\r\n`.
      if (byte === CR && chunk[lineStart] === LF) {
        lineStart += 1;
        i += 1;
        this.afterCr = false;
      }
      if (!ended) {
        if (this.held.length > 0) this.out.push(...this.held);
        this.out.push(chunk.subarray(eventStart, lineStart));
      }
      if (byte === CR && lineStart === n) this.endedOnCr = ended;
      this.held = [];
      this.heldBytes = 0;
      eventStart = lineStart;
    }
    if (lineStart < n) this.keepPartial(chunk.subarray(lineStart));
    if (!this.filter) return chunk;
    if (eventStart < n) {
      // Copied: the caller may reuse its buffer once push returns.
      this.held.push(chunk.slice(eventStart));
      this.heldBytes += n - eventStart;
      if (this.heldBytes > MAX_SSE_LINE_BYTES) {
        // Too long to be an event worth dropping: pass it on as it comes.
        this.out.push(...this.held);
        this.held = [];
        this.heldBytes = 0;
      }
    }
    return this.drain();
  }

  /**
   * Ends the stream: a last event left without its blank line is reported (so usage that
   * arrived whole is not lost to a missing terminator). Returns the bytes still to pass on.
   */
  end(): Uint8Array {
    if (this.partialBytes > 0) this.line(EMPTY, 0, 0);
    const dropped = this.dispatch();
    if (this.filter && !dropped) this.out.push(...this.held);
    this.held = [];
    this.heldBytes = 0;
    return this.filter ? this.drain() : EMPTY;
  }

  private drain(): Uint8Array {
    if (this.out.length === 0) return EMPTY;
    let length = 0;
    for (const part of this.out) length += part.length;
    const bytes = concat(this.out, length);
    this.out = [];
    return bytes;
  }

  private keepPartial(bytes: Uint8Array): void {
    if (this.overflow) return;
    this.partialBytes += bytes.length;
    if (this.partialBytes > MAX_SSE_LINE_BYTES) {
      this.overflow = true;
      this.partial.length = 0;
      this.partialBytes = 0;
      return;
    }
    this.partial.push(bytes.slice());
  }

  /**
   * One line ends at `chunk[to]`. Returns undefined for a field line, and for a blank line
   * whether the finished event was dropped.
   */
  private line(chunk: Uint8Array, from: number, to: number): boolean | undefined {
    if (this.overflow) {
      this.overflow = false;
      return undefined;
    }
    let line = chunk.subarray(from, to);
    if (this.partialBytes > 0) {
      this.partial.push(line);
      line = concat(this.partial, this.partialBytes + line.length);
      this.partial.length = 0;
      this.partialBytes = 0;
    }
    if (line.length === 0) return this.dispatch();
    const data = fieldValue(line, 'data');
    if (data !== undefined) this.data.push(data);
    else {
      const name = fieldValue(line, 'event');
      if (name !== undefined) this.eventName = name;
    }
    return undefined;
  }

  /** Reports the event gathered so far; returns whether the handler dropped it. */
  private dispatch(): boolean {
    const name = this.eventName;
    const data = this.data;
    this.eventName = '';
    this.data = [];
    if (data.length === 0) return false;
    return this.onEvent(name, data.length === 1 ? (data[0] as string) : data.join('\n')) === true;
  }
}

/**
 * A whole JSON body received in pieces, parsed; `undefined` when it is not JSON (cut short,
 * garbage). The pieces are joined once, at the end.
 */
export function parseJsonBytes(chunks: readonly Uint8Array[]): unknown {
  if (chunks.length === 0) return undefined;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  try {
    return JSON.parse(decoder.decode(concat(chunks, length))) as unknown;
  } catch {
    return undefined;
  }
}

/** The `type` a JSON event names first, e.g. `{"type":"message_stop"}`. */
const LEADING_TYPE = /^\s*\{\s*"type"\s*:\s*"([^"]+)"/;

/**
 * An event's type: its `event:` field, else the leading `"type"` of its JSON data (for a server
 * that leaves the `event:` lines out), else empty.
 */
export function eventType(event: string, data: string): string {
  return event || LEADING_TYPE.exec(data)?.[1] || '';
}

/** True for a plain JSON object (the core's `isRecord`). */
export const isObject = isRecord;

/**
 * An observer of one answer: a stream's events go to `sse` (set by the subclass), a unary body
 * is gathered and handed to `body` once whole. Subclasses set `raw`, `modelVersion`, `done`.
 */
export abstract class AnswerObserver implements UsageObserver {
  protected raw: unknown = null;
  protected modelVersion: string | undefined;
  protected done = false;
  protected sse: SseLineReader | undefined;
  private readonly chunks: Uint8Array[] = [];

  push(chunk: Uint8Array): Uint8Array {
    if (this.sse) return this.sse.push(chunk);
    this.chunks.push(chunk);
    return chunk;
  }

  finish(): ObservedUsage {
    if (this.sse) this.sse.end();
    else {
      const body = parseJsonBytes(this.chunks);
      this.chunks.length = 0;
      if (isObject(body)) this.body(body);
    }
    const estimate = this.raw === null && !this.done ? this.estimateCut() : null;
    return {
      raw: estimate ?? this.raw,
      ...(this.modelVersion !== undefined && { modelVersion: this.modelVersion }),
      complete: this.done,
      ...(estimate !== null && { estimated: true }),
    };
  }

  /** A whole unary answer, parsed. */
  protected abstract body(body: Record<string, unknown>): void;

  /**
   * Usage in the provider's shape for an answer cut before any usage arrived, or null when
   * nothing can be said (the default).
   */
  protected estimateCut(): unknown {
    return null;
  }
}
