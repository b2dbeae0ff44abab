import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  arxivPaperSearch,
  arxivQuery,
  PaperSearchError,
  searchArxiv,
} from '../../examples/research/arxiv.js';
import type { Paper } from '../../examples/research/corpus.js';
import { runWorkflow } from '../../examples/research/run.js';

// Feeds shaped like export.arxiv.org's answers (namespaces, OpenSearch counts, arXiv extension
// elements, titles and summaries wrapped over lines); summaries abridged.
const feed = (entries: string, total: number) => `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/u0TpF3XyBzdsSNkNmvqR4c2MHzI</id>
  <title>arXiv Query: search_query=all:attention AND all:retrieval&amp;id_list=&amp;start=0&amp;max_results=2</title>
  <updated>2025-11-12T00:00:00Z</updated>
  <link href="https://arxiv.org/api/query?search_query=all:attention+AND+all:retrieval&amp;start=0&amp;max_results=2&amp;id_list=" type="application/atom+xml"/>
  <opensearch:itemsPerPage>2</opensearch:itemsPerPage>
  <opensearch:totalResults>${total}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>${entries}
</feed>
`;

const ATTENTION = `
  <entry>
    <id>http://arxiv.org/abs/1706.03762v7</id>
    <title>Attention Is All
      You Need</title>
    <updated>2023-08-02T00:41:18Z</updated>
    <link href="https://arxiv.org/abs/1706.03762v7" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/1706.03762v7" rel="related" type="application/pdf" title="pdf"/>
    <summary>The dominant sequence transduction models are based on complex recurrent or
convolutional neural networks. We propose a new simple network architecture, the
Transformer, based solely on attention mechanisms &amp; dispensing with recurrence.
</summary>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <published>2017-06-12T17:57:34Z</published>
    <arxiv:comment>15 pages, 5 figures</arxiv:comment>
    <arxiv:primary_category term="cs.CL"/>
    <author>
      <name>Ashish Vaswani</name>
    </author>
    <author>
      <name>Noam Shazeer</name>
    </author>
    <author>
      <name>Niki Parmar</name>
      <arxiv:affiliation>Google Research</arxiv:affiliation>
    </author>
  </entry>`;

const RAG = `
  <entry>
    <id>http://arxiv.org/abs/2005.11401v4</id>
    <title>Retrieval-Augmented Generation for Knowledge-Intensive NLP
  Tasks</title>
    <updated>2021-04-12T15:42:18Z</updated>
    <link href="https://arxiv.org/abs/2005.11401v4" rel="alternate" type="text/html"/>
    <summary>  Large pre-trained language models store factual knowledge in their parameters.
We combine a pre-trained seq2seq model with a dense vector index of Wikipedia,
  accessed with a pre-trained neural retriever.</summary>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <published>2020-05-22T05:15:57Z</published>
    <arxiv:journal_ref>NeurIPS 2020</arxiv:journal_ref>
    <arxiv:primary_category term="cs.CL"/>
    <author>
      <name>Patrick Lewis</name>
    </author>
    <author>
      <name>Ethan Perez</name>
    </author>
  </entry>`;

const ONE_AUTHOR = `
  <entry>
    <id>http://arxiv.org/abs/hep-th/9711200v3</id>
    <title>The Large N Limit of Superconformal Field Theories and Supergravity</title>
    <summary>We show that the large N limit of certain conformal field theories
in various dimensions includes in its Hilbert space a sector describing
supergravity.</summary>
    <published>1997-11-27T20:43:33Z</published>
    <arxiv:primary_category term="hep-th"/>
    <author>
      <name>Juan M. Maldacena</name>
    </author>
  </entry>`;

const ERROR_FEED = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <link href="http://arxiv.org/api/query?search_query=&amp;id_list=1234.12345" rel="self" type="application/atom+xml"/>
  <title>ArXiv Query: search_query=&amp;id_list=1234.12345</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <updated>2007-10-12T00:00:00-04:00</updated>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2007-10-12T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
`;

const VASWANI: Paper = {
  id: '1706.03762v7',
  title: 'Attention Is All You Need',
  authors: 'Ashish Vaswani et al.',
  year: 2017,
  venue: 'arXiv',
  abstract:
    'The dominant sequence transduction models are based on complex recurrent or convolutional neural networks. We propose a new simple network architecture, the Transformer, based solely on attention mechanisms & dispensing with recurrence.',
};

const LEWIS: Paper = {
  id: '2005.11401v4',
  title: 'Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks',
  authors: 'Patrick Lewis et al.',
  year: 2020,
  venue: 'NeurIPS 2020',
  abstract:
    'Large pre-trained language models store factual knowledge in their parameters. We combine a pre-trained seq2seq model with a dense vector index of Wikipedia, accessed with a pre-trained neural retriever.',
};

// One loopback server; each test sets how it answers and reads what it was asked.
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const atom = (body: string, status = 200): Handler => {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/atom+xml; charset=utf-8' });
    res.end(body);
  };
};
let handler: Handler = atom(feed('', 0));
// A server that never answers: requests held open until the test ends.
const held: ServerResponse[] = [];
const neverAnswer: Handler = (_req, res) => {
  held.push(res);
};
const requests: { url: URL; accept: string | undefined; at: number }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({
      url: new URL(req.url ?? '/', 'http://127.0.0.1'),
      accept: req.headers.accept,
      at: Date.now(),
    });
    handler(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/query`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

beforeEach(() => {
  requests.length = 0;
  handler = atom(feed('', 0));
});

afterEach(() => {
  for (const res of held.splice(0)) res.destroy();
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error as PaperSearchError,
  );

describe('searchArxiv against a local arXiv', () => {
  it('maps each entry of the feed to a paper and asks for the query and the limit', async () => {
    handler = atom(feed(ATTENTION + RAG, 123_456));
    const papers = await searchArxiv('Attention for retrieval-augmented generation', {
      limit: 2,
      baseUrl,
    });
    expect(papers).toEqual([VASWANI, LEWIS]);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url.pathname).toBe('/api/query');
    expect(Object.fromEntries(request?.url.searchParams ?? [])).toEqual({
      search_query: 'all:attention AND all:retrieval AND all:augmented AND all:generation',
      start: '0',
      max_results: '2',
      sortBy: 'relevance',
    });
    expect(request?.accept).toBe('application/atom+xml');
  });

  it('reads a feed of one entry (an object, not a list, to a plain parser) with one author', async () => {
    handler = atom(feed(ONE_AUTHOR, 1));
    expect(await searchArxiv('large N limit', { baseUrl })).toEqual([
      {
        id: 'hep-th/9711200v3',
        title: 'The Large N Limit of Superconformal Field Theories and Supergravity',
        authors: 'Juan M. Maldacena',
        year: 1997,
        venue: 'arXiv',
        abstract:
          'We show that the large N limit of certain conformal field theories in various dimensions includes in its Hilbert space a sector describing supergravity.',
      },
    ]);
    expect(requests[0]?.url.searchParams.get('max_results')).toBe('5'); // the default limit
  });

  it('returns no papers for a feed with no entries', async () => {
    handler = atom(feed('', 0));
    expect(await searchArxiv('nothing matches this', { baseUrl })).toEqual([]);
  });

  it('skips entries without an abstract id, a title, a publication year or an author', async () => {
    const broken = [
      ATTENTION.replace(/<title>[\s\S]*?<\/title>/, '<title>  </title>'),
      ATTENTION.replace('2017-06-12T17:57:34Z', 'unknown'),
      ATTENTION.replace(/<published>.*<\/published>/, ''),
      ATTENTION.replace(/<author>[\s\S]*<\/author>/, ''),
      ATTENTION.replace('http://arxiv.org/abs/1706.03762v7', 'urn:nothing'),
    ];
    handler = atom(feed(broken.join('') + RAG, 6));
    expect(await searchArxiv('retrieval', { baseUrl })).toEqual([LEWIS]);
  });

  it('keeps no more papers than the limit, even when the server sends more', async () => {
    handler = atom(feed(ATTENTION + RAG, 2));
    expect(await searchArxiv('attention', { baseUrl, limit: 1 })).toEqual([VASWANI]);
  });

  it('asks nothing for a query with no words', async () => {
    expect(await searchArxiv(' ?! a ', { baseUrl })).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('refuses a limit arXiv would not take', async () => {
    for (const limit of [0, 2.5, 2001]) {
      await expect(searchArxiv('attention', { baseUrl, limit })).rejects.toThrow(
        `searchArxiv: limit must be a whole number from 1 to 2000, got ${limit}`,
      );
    }
    expect(requests).toHaveLength(0);
  });
});

describe('searchArxiv failures', () => {
  it('throws a PaperSearchError with the status on an HTTP error', async () => {
    handler = atom('Service Unavailable', 503);
    const error = await failure(searchArxiv('attention', { baseUrl }));
    expect(error).toBeInstanceOf(PaperSearchError);
    expect(error.name).toBe('PaperSearchError');
    expect(error.status).toBe(503);
    expect(error.message).toBe(`arXiv search failed: HTTP 503 from ${baseUrl}`);
  });

  it("reports arXiv's error feed, alone or with an HTTP error", async () => {
    handler = atom(ERROR_FEED);
    const error = await failure(searchArxiv('attention', { baseUrl }));
    expect(error).toBeInstanceOf(PaperSearchError);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(
      `arXiv search failed: incorrect id format for 1234.12345 (from ${baseUrl})`,
    );

    handler = atom(ERROR_FEED, 400);
    const http = await failure(searchArxiv('attention', { baseUrl }));
    expect(http.status).toBe(400);
    expect(http.message).toBe(
      `arXiv search failed: HTTP 400 from ${baseUrl} (incorrect id format for 1234.12345)`,
    );
  });

  it.each([
    ['plain text', 'Rate exceeded.'],
    ['an HTML page', '<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>'],
    ['JSON', '{"entries":[]}'],
    ['an empty body', ''],
  ])('throws a PaperSearchError on a body that is %s', async (_kind, body) => {
    handler = atom(body);
    const error = await failure(searchArxiv('attention', { baseUrl }));
    expect(error).toBeInstanceOf(PaperSearchError);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(`arXiv search failed: no Atom feed in the answer from ${baseUrl}`);
  });

  it('gives up on a server that never answers after timeoutMs', async () => {
    handler = neverAnswer;
    const error = await failure(searchArxiv('attention', { baseUrl, timeoutMs: 150 }));
    expect(error).toBeInstanceOf(PaperSearchError);
    expect(error.message).toBe(`arXiv search failed: no answer within 150 ms from ${baseUrl}`);
    expect((error.cause as Error).name).toBe('TimeoutError');
  });

  it("rejects with the caller's reason when the caller aborts", async () => {
    handler = neverAnswer;
    const controller = new AbortController();
    const search = searchArxiv('attention', { baseUrl, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 50);
    await expect(search).rejects.toThrow('user cancelled');
  });

  it('throws a PaperSearchError when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const url = `http://127.0.0.1:${port}/api/query`;
    const error = await failure(searchArxiv('attention', { baseUrl: url }));
    expect(error).toBeInstanceOf(PaperSearchError);
    expect(error.message).toBe(`arXiv search failed: network error (ECONNREFUSED) for ${url}`);
    expect(error.cause).toBeInstanceOf(TypeError); // fetch failed
  });

  it('calls the fetch it is given', async () => {
    const fetch = vi.fn(async () => new Response(feed(RAG, 1), { status: 200 }));
    const papers = await searchArxiv('retrieval', {
      baseUrl: 'http://arxiv.invalid/api/query',
      fetch,
    });
    expect(papers).toEqual([LEWIS]);
    expect(fetch).toHaveBeenCalledOnce();
  });
});

describe('arxivQuery', () => {
  it.each([
    ['RAG systems', 'all:rag AND all:systems'],
    [
      'Core concepts and history of RAG systems',
      'all:core AND all:concepts AND all:history AND all:rag AND all:systems',
    ],
    ['ti:"quantum" OR (spin) AND hall', 'all:ti AND all:quantum AND all:spin AND all:hall'],
    [
      'Efficiency and scaling trade-offs of Transformers',
      'all:efficiency AND all:scaling AND all:trade AND all:offs AND all:transformers',
    ],
    ['Über Aufmerksamkeit', 'all:über AND all:aufmerksamkeit'],
    ['? a !', ''],
  ])('%s → %s', (query, expected) => {
    expect(arxivQuery(query)).toBe(expected);
  });
});

describe('arxivPaperSearch', () => {
  it('sends one request at a time, intervalMs apart', async () => {
    let open = 0;
    let most = 0;
    handler = (_req, res) => {
      open += 1;
      most = Math.max(most, open);
      setTimeout(() => {
        open -= 1;
        atom(feed(RAG, 1))(_req, res);
      }, 20);
    };
    const search = arxivPaperSearch({ baseUrl, intervalMs: 100 });
    const started = performance.now();
    const results = await Promise.all([search('a1 bb', 2), search('a2 bb', 2), search('a3 bb', 2)]);
    const elapsed = performance.now() - started;
    expect(results).toEqual([[LEWIS], [LEWIS], [LEWIS]]);
    expect(most).toBe(1);
    expect(requests.map((r) => r.url.searchParams.get('search_query'))).toEqual([
      'all:a1 AND all:bb',
      'all:a2 AND all:bb',
      'all:a3 AND all:bb',
    ]);
    // Two waits of intervalMs at least, seen from the caller: a busy machine only lengthens this
    // (the gaps the server sees jitter with delivery), and without the waits it takes ~60 ms.
    expect(elapsed).toBeGreaterThanOrEqual(200);
  });

  it('fails the later calls at once after a failure, without asking again', async () => {
    handler = atom('down', 503);
    // A minute between requests: a later call that waited its turn would time the test out.
    const search = arxivPaperSearch({ baseUrl, intervalMs: 60_000 });
    const errors = await Promise.all([search('first', 2), search('second', 2)].map(failure));
    expect(errors.map((e) => e.status)).toEqual([503, 503]);
    expect(requests).toHaveLength(1);
  });
});

describe('research workflow with papers from arXiv', () => {
  const outputDir = () => mkdtempSync(join(tmpdir(), 'tollgate-arxiv-'));
  const feedLines = async <T>(fn: () => Promise<T>) => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      return { result: await fn(), lines };
    } finally {
      log.mockRestore();
    }
  };
  const run = () =>
    runWorkflow('Attention', {
      apiKey: '',
      outputDir: outputDir(),
      ledger: false,
      depth: 'quick',
      papers: 'arxiv',
      arxivBaseUrl: baseUrl,
      arxivIntervalMs: 0,
    });

  it('gives the researcher the papers of the feed', async () => {
    handler = atom(feed(ATTENTION + RAG, 2));
    const { result, lines } = await feedLines(run);
    expect(requests).toHaveLength(3); // one per subtask at quick depth
    expect(requests[0]?.url.searchParams.get('max_results')).toBe('2');
    expect(result.findings.filter((f) => f.includes('[Attention Is All You Need]'))).toHaveLength(
      3,
    );
    const researched = lines.filter((l) => l.startsWith('[agent_completed] researcher: '));
    expect(researched).toHaveLength(3);
    for (const line of researched) expect(line).toMatch(/: 2 findings from 2 papers \(\$/);
  });

  it('falls back to the offline corpus when arXiv answers 503, and the run completes', async () => {
    handler = atom('Service Unavailable', 503);
    const { result, lines } = await feedLines(run);
    const researched = lines.filter((l) => l.startsWith('[agent_completed] researcher: '));
    expect(researched).toHaveLength(3);
    for (const line of researched) {
      expect(line).toMatch(
        /: \d+ findings from \d+ papers \(paper search unavailable: offline corpus\) \(\$/,
      );
    }
    expect(result.findings.some((f) => f.includes('[Attention Is All You Need]'))).toBe(true);
    expect(result.report).toMatch(/^# Attention: research report/);
  });

  it('refuses an unknown paper source', async () => {
    await expect(
      runWorkflow('x', { papers: 'scholar' as 'arxiv', apiKey: '', ledger: false }),
    ).rejects.toThrow('runWorkflow: papers must be "offline" or "arxiv", got "scholar"');
  });
});

describe('research CLI --papers', () => {
  const root = resolve(import.meta.dirname, '../..');

  it('exits 2 with a one-line error on an unknown source, and documents the option', async () => {
    const cli = (args: string[]) =>
      promisify(execFile)(
        join(root, 'node_modules/.bin/tsx'),
        [
          '--tsconfig',
          join(root, 'tsconfig.json'),
          join(root, 'examples/research/cli.ts'),
          ...args,
        ],
        { cwd: tmpdir(), env: { ...process.env, GEMINI_API_KEY: '' }, timeout: 60_000 },
      ).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const bad = await cli(['--papers', 'scholar']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'error: --papers must be offline or arxiv, got "scholar" (see --help)',
    );
    const help = await cli(['--help']);
    expect(help.stdout).toContain('--papers <source>');
  });
});
