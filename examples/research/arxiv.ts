/**
 * An opt-in arXiv search for the researcher agent (`--papers arxiv`). The offline corpus stays
 * the default: the example, its tests and CI run with no network.
 *
 * The arXiv API answers in Atom XML. fast-xml-parser reads it: a well-kept, widely used parser
 * in plain JavaScript (no native code, no DOM), loaded only when arXiv is chosen, so the core and
 * the default run never import it.
 */
import { XMLParser } from 'fast-xml-parser';
import type { Paper } from './corpus.js';

export const ARXIV_API_URL = 'https://export.arxiv.org/api/query';

export interface ArxivSearchOptions {
  /** Papers at most (default 5). */
  limit?: number;
  /** The query endpoint (default `https://export.arxiv.org/api/query`). */
  baseUrl?: string;
  /** The fetch to call (default the global one). */
  fetch?: typeof fetch;
  /** Give up after this long, body included (default 10,000 ms). */
  timeoutMs?: number;
  /** Aborts the search; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The arXiv search failed: an HTTP error, a timeout, a network failure or a body not Atom. */
export class PaperSearchError extends Error {
  /** The HTTP status, when the server answered with an error. */
  readonly status?: number;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PaperSearchError';
    this.status = options.status;
  }
}

// Words only: arXiv's query syntax (quotes, parentheses, colons, AND/OR) never comes from a topic.
const STOP_WORDS = new Set(['the', 'and', 'for', 'with', 'of', 'an', 'in', 'on', 'to', 'is']);
const OPERATORS = new Set(['and', 'or', 'andnot']);

/** `all:rag AND all:systems`, from "RAG systems". Empty when the query has no words. */
export function arxivQuery(query: string): string {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word) && !OPERATORS.has(word));
  return [...new Set(words)].map((word) => `all:${word}`).join(' AND ');
}

const parser = new XMLParser({
  // Keep every value a string: ids such as 1706.03762 and titles such as "1984" are not numbers.
  parseTagValue: false,
  // arxiv:journal_ref → journal_ref, whatever prefix the feed declares.
  removeNSPrefix: true,
  // One entry or one author still gives an array.
  isArray: (_name, jPath) => jPath === 'feed.entry' || jPath === 'feed.entry.author',
});

interface AtomEntry {
  id?: unknown;
  title?: unknown;
  summary?: unknown;
  published?: unknown;
  author?: { name?: unknown }[];
  journal_ref?: unknown;
}

function text(value: unknown): string {
  if (typeof value === 'object' && value !== null && '#text' in value) value = value['#text'];
  return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '';
}

/** The paper an entry describes, or undefined when a field it needs is missing. */
function toPaper(entry: AtomEntry): Paper | undefined {
  const id = /\/abs\/(.+)$/.exec(text(entry.id))?.[1];
  const title = text(entry.title);
  const year = Number(/^(\d{4})-/.exec(text(entry.published))?.[1]);
  const names = (entry.author ?? []).map((author) => text(author.name)).filter(Boolean);
  if (!id || !title || !Number.isInteger(year) || names.length === 0) return undefined;
  return {
    id,
    title,
    authors: names.length > 1 ? `${names[0]} et al.` : (names[0] as string),
    year,
    venue: text(entry.journal_ref) || 'arXiv',
    abstract: text(entry.summary),
  };
}

function readFeed(body: string): AtomEntry[] | undefined {
  let document: { feed?: unknown } | undefined;
  try {
    document = parser.parse(body) as { feed?: unknown } | undefined;
  } catch {
    return undefined;
  }
  if (!document || !('feed' in document)) return undefined;
  const feed = document.feed;
  return typeof feed === 'object' && feed !== null
    ? ((feed as { entry?: AtomEntry[] }).entry ?? [])
    : [];
}

/** arXiv reports errors as a feed with one entry titled "Error", the message in its summary. */
function errorMessage(entries: AtomEntry[] | undefined): string | undefined {
  const error = entries?.find((e) => text(e.title) === 'Error' && !text(e.id).includes('/abs/'));
  return error ? text(error.summary) || 'unexplained error' : undefined;
}

/**
 * Searches arXiv for papers on a query, most relevant first. All of the query's words must
 * match (in any field); words of one letter and common stop words are dropped.
 *
 * @throws PaperSearchError on an HTTP error, a timeout, a network failure or an unreadable body.
 * @example
 * const papers = await searchArxiv('retrieval augmented generation', { limit: 3 });
 * // [{ id: '2005.11401v4', title: 'Retrieval-Augmented Generation for …', authors: 'Patrick Lewis et al.', year: 2020, venue: 'arXiv', abstract: '…' }, …]
 */
export async function searchArxiv(
  query: string,
  options: ArxivSearchOptions = {},
): Promise<Paper[]> {
  const limit = options.limit ?? 5;
  if (!Number.isInteger(limit) || limit < 1 || limit > 2000) {
    throw new RangeError(`searchArxiv: limit must be a whole number from 1 to 2000, got ${limit}`);
  }
  const searchQuery = arxivQuery(query);
  if (!searchQuery) return [];
  const url = new URL(options.baseUrl ?? ARXIV_API_URL);
  const endpoint = `${url.origin}${url.pathname}`;
  url.search = new URLSearchParams({
    search_query: searchQuery,
    start: '0',
    max_results: String(limit),
    sortBy: 'relevance',
  }).toString();

  const timeoutMs = options.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let body: string;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      headers: { accept: 'application/atom+xml' },
      signal,
    });
    const status = response.status;
    body = await response.text();
    if (!response.ok) {
      const detail = errorMessage(readFeed(body));
      throw new PaperSearchError(
        `arXiv search failed: HTTP ${status} from ${endpoint}${detail ? ` (${detail})` : ''}`,
        { status },
      );
    }
  } catch (error) {
    if (error instanceof PaperSearchError) throw error;
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      throw new PaperSearchError(
        `arXiv search failed: no answer within ${timeoutMs} ms from ${endpoint}`,
        { cause: error },
      );
    }
    // fetch rejects with "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is its cause.
    const reason = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = reason?.code ?? reason?.message ?? (error as Error).message;
    throw new PaperSearchError(`arXiv search failed: network error (${detail}) for ${endpoint}`, {
      cause: error,
    });
  }
  const entries = readFeed(body);
  if (!entries) {
    throw new PaperSearchError(`arXiv search failed: no Atom feed in the answer from ${endpoint}`);
  }
  const error = errorMessage(entries);
  if (error) throw new PaperSearchError(`arXiv search failed: ${error} (from ${endpoint})`);
  return entries
    .map(toPaper)
    .filter((paper): paper is Paper => paper !== undefined)
    .slice(0, limit);
}

/**
 * A search for `GraphSettings.searchPapers` that keeps to arXiv's API terms of use: one request
 * at a time, starting at least `intervalMs` (default 3 s) after the previous one. After a failure
 * the later calls reject at once with the same error, so a run whose arXiv is down falls back to
 * the offline corpus without waiting on each subtask.
 *
 * @example
 * const graph = buildResearchGraph({ modelFor, outputDir, searchPapers: arxivPaperSearch() });
 */
export function arxivPaperSearch(
  options: Omit<ArxivSearchOptions, 'limit'> & { intervalMs?: number } = {},
): (query: string, limit: number) => Promise<Paper[]> {
  const { intervalMs = 3000, ...searchOptions } = options;
  let queue: Promise<unknown> = Promise.resolve();
  let lastStart = Number.NEGATIVE_INFINITY;
  let failure: unknown;
  let failed = false;
  return (query, limit) => {
    const run = queue.then(async () => {
      if (failed) throw failure;
      const wait = lastStart + intervalMs - Date.now();
      if (wait > 0) await new Promise((done) => setTimeout(done, wait));
      lastStart = Date.now();
      try {
        return await searchArxiv(query, { ...searchOptions, limit });
      } catch (error) {
        failed = true;
        failure = error;
        throw error;
      }
    });
    queue = run.catch(() => {});
    return run;
  };
}
