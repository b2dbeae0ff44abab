/**
 * A small offline paper corpus for the researcher agent, so the example runs with no network.
 * Abstracts are short summaries written for this example; titles, authors and years are the
 * published ones.
 */
export interface Paper {
  id: string;
  title: string;
  authors: string;
  year: number;
  venue: string;
  abstract: string;
}

export const PAPERS: readonly Paper[] = [
  {
    id: 'vaswani2017',
    title: 'Attention Is All You Need',
    authors: 'Vaswani et al.',
    year: 2017,
    venue: 'NeurIPS',
    abstract:
      'Introduces the Transformer, a sequence transduction architecture based solely on attention, dispensing with recurrence and convolutions; multi-head self-attention, positional encodings and encoder-decoder attention give state-of-the-art translation quality at lower training cost.',
  },
  {
    id: 'devlin2019',
    title: 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding',
    authors: 'Devlin et al.',
    year: 2019,
    venue: 'NAACL',
    abstract:
      'Pre-trains deep bidirectional Transformer encoders with masked language modeling and next sentence prediction, then fine-tunes them for question answering, inference and classification.',
  },
  {
    id: 'brown2020',
    title: 'Language Models are Few-Shot Learners',
    authors: 'Brown et al.',
    year: 2020,
    venue: 'NeurIPS',
    abstract:
      'Scales an autoregressive Transformer language model to 175B parameters (GPT-3) and shows strong few-shot, in-context learning across tasks without gradient updates.',
  },
  {
    id: 'lewis2020',
    title: 'Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks',
    authors: 'Lewis et al.',
    year: 2020,
    venue: 'NeurIPS',
    abstract:
      'Combines a parametric seq2seq generator with a non-parametric dense vector index of Wikipedia accessed by a neural retriever (RAG), improving open-domain question answering and factuality.',
  },
  {
    id: 'karpukhin2020',
    title: 'Dense Passage Retrieval for Open-Domain Question Answering',
    authors: 'Karpukhin et al.',
    year: 2020,
    venue: 'EMNLP',
    abstract:
      'Learns dense embeddings for questions and passages with a dual encoder, outperforming BM25 retrieval for open-domain question answering; a building block of retrieval-augmented systems.',
  },
  {
    id: 'borgeaud2022',
    title: 'Improving Language Models by Retrieving from Trillions of Tokens',
    authors: 'Borgeaud et al.',
    year: 2022,
    venue: 'ICML',
    abstract:
      'RETRO conditions a Transformer on chunks retrieved from a 2 trillion token database with chunked cross-attention, matching much larger models with 25x fewer parameters.',
  },
  {
    id: 'gao2023',
    title: 'Retrieval-Augmented Generation for Large Language Models: A Survey',
    authors: 'Gao et al.',
    year: 2023,
    venue: 'arXiv',
    abstract:
      'Surveys naive, advanced and modular RAG: retrieval, chunking, re-ranking, query rewriting, generation and evaluation of retrieval-augmented large language model systems.',
  },
  {
    id: 'dao2022',
    title: 'FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness',
    authors: 'Dao et al.',
    year: 2022,
    venue: 'NeurIPS',
    abstract:
      'An IO-aware exact attention algorithm that tiles attention computation to reduce GPU memory reads and writes, speeding up Transformer training and enabling longer context.',
  },
  {
    id: 'shazeer2017',
    title: 'Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer',
    authors: 'Shazeer et al.',
    year: 2017,
    venue: 'ICLR',
    abstract:
      'Introduces a sparsely-gated mixture-of-experts layer with thousands of feed-forward experts and a trainable gating network, increasing model capacity at roughly constant compute.',
  },
  {
    id: 'fedus2022',
    title:
      'Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient Sparsity',
    authors: 'Fedus et al.',
    year: 2022,
    venue: 'JMLR',
    abstract:
      'Simplifies mixture-of-experts routing to a single expert per token, training sparse Transformer models with up to a trillion parameters efficiently.',
  },
  {
    id: 'su2021',
    title: 'RoFormer: Enhanced Transformer with Rotary Position Embedding',
    authors: 'Su et al.',
    year: 2021,
    venue: 'arXiv',
    abstract:
      'Encodes absolute position with a rotation matrix so that self-attention depends on relative position (RoPE), now standard in large language model Transformer architectures.',
  },
  {
    id: 'yao2023',
    title: 'ReAct: Synergizing Reasoning and Acting in Language Models',
    authors: 'Yao et al.',
    year: 2023,
    venue: 'ICLR',
    abstract:
      'Interleaves reasoning traces and tool actions in language model agents, improving question answering and interactive decision making over reasoning or acting alone.',
  },
  {
    id: 'wu2023',
    title: 'AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation',
    authors: 'Wu et al.',
    year: 2023,
    venue: 'arXiv',
    abstract:
      'A framework for multi-agent conversation in which customizable LLM agents, tools and humans cooperate to solve tasks such as coding, math and decision making.',
  },
  {
    id: 'wei2022',
    title: 'Chain-of-Thought Prompting Elicits Reasoning in Large Language Models',
    authors: 'Wei et al.',
    year: 2022,
    venue: 'NeurIPS',
    abstract:
      'Shows that prompting large language models with intermediate reasoning steps improves arithmetic, commonsense and symbolic reasoning; the basis of thinking models.',
  },
  {
    id: 'hoffmann2022',
    title: 'Training Compute-Optimal Large Language Models',
    authors: 'Hoffmann et al.',
    year: 2022,
    venue: 'NeurIPS',
    abstract:
      'Finds that model size and training tokens should scale equally for compute-optimal training (Chinchilla), changing how large language models are budgeted.',
  },
  {
    id: 'kwon2023',
    title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention',
    authors: 'Kwon et al.',
    year: 2023,
    venue: 'SOSP',
    abstract:
      'vLLM manages the attention key-value cache in pages like virtual memory, raising serving throughput of Transformer language models by reducing fragmentation and enabling sharing.',
  },
];

const STOP_WORDS = new Set(['the', 'and', 'for', 'with', 'of', 'a', 'an', 'in', 'on', 'to', 'is']);

function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((term) => term.length > 1 && !STOP_WORDS.has(term));
}

/** Papers ranked by how many query terms their title and abstract contain (title counts double). */
export function searchPapers(query: string, limit = 5): Paper[] {
  const wanted = terms(query).map((term) => term.replace(/s$/, ''));
  if (wanted.length === 0) return [];
  return PAPERS.map((paper) => {
    const title = terms(paper.title).join(' ');
    const abstract = terms(paper.abstract).join(' ');
    const score = wanted.reduce(
      (sum, term) => sum + (title.includes(term) ? 2 : 0) + (abstract.includes(term) ? 1 : 0),
      0,
    );
    return { paper, score };
  })
    .filter(({ score }) => score > 0)
    .sort((a, b) => b.score - a.score || b.paper.year - a.paper.year)
    .slice(0, limit)
    .map(({ paper }) => paper);
}
