/**
 * Paper search over the offline corpus (`papers.ts`) for the researcher agent.
 */
import { PAPERS } from './papers.js';

export { PAPERS };

export interface Paper {
  id: string;
  title: string;
  authors: string;
  year: number;
  venue: string;
  abstract: string;
  /** Abbreviations and aspects the text may not spell out (`rag`, `efficiency`, …). */
  keywords?: readonly string[];
}

const STOP_WORDS = new Set(
  'the and for with of a an in on to is are by from how what at or as its their into'.split(' '),
);
/** Words that say what kind of thing a topic is, not what it is about. */
const GENERIC = new Set(
  'system architecture model method approach technique application framework network learning deep modern study overview introduction'.split(
    ' ',
  ),
);

/** Lower-case words with a plural "s" dropped, so "architectures" finds "architecture". */
function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((term) => term.length > 1 && !STOP_WORDS.has(term))
    .map((term) =>
      term.length > 3 && term.endsWith('s') && !term.endsWith('ss') ? term.slice(0, -1) : term,
    );
}

/**
 * Papers about `topic` that best answer `query`, best first. A paper is about the topic when its
 * title, abstract or keywords name every specific word of the topic ("RAG systems": rag);
 * among those, the words of the query beyond the topic ("efficiency", "evaluation") rank them,
 * a match in the title or keywords counting double. Without a topic, every word of the query
 * is ranked the same way and at least one must match.
 *
 * @example
 * searchPapers('Transformer architectures efficiency and scaling', 3, 'Transformer architectures');
 */
export function searchPapers(query: string, limit = 5, topic = ''): Paper[] {
  const topicTerms = new Set(terms(topic));
  const specific = [...topicTerms].filter((term) => !GENERIC.has(term));
  const required = specific.length > 0 ? specific : [...topicTerms];
  const wanted = [...new Set(terms(query))].filter((term) => !topicTerms.has(term));
  if (required.length === 0 && wanted.length === 0) return [];
  return PAPERS.map((paper) => {
    const strong = new Set([...terms(paper.title), ...(paper.keywords ?? []).flatMap(terms)]);
    const weak = new Set(terms(paper.abstract));
    const has = (term: string) => strong.has(term) || weak.has(term);
    const weight = (term: string) => (strong.has(term) ? 2 : weak.has(term) ? 1 : 0);
    const onTopic = required.every(has);
    const score =
      wanted.reduce((sum, term) => sum + weight(term), 0) +
      required.reduce((sum, term) => sum + weight(term), 0) / 10;
    return { paper, onTopic, score };
  })
    .filter(({ onTopic, score }) => (required.length > 0 ? onTopic : score > 0))
    .sort((a, b) => b.score - a.score || b.paper.year - a.paper.year)
    .slice(0, limit)
    .map(({ paper }) => paper);
}
