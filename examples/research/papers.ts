/**
 * The offline paper corpus of the research example, so it runs with no network. Abstracts are
 * short summaries written for this example; titles, authors, years and venues are the published
 * ones. `keywords` hold the abbreviations (RAG, LLM, GNN) and the aspects a paper speaks to
 * (history, design, efficiency, evaluation, failure, …) that its text may not spell out.
 */
import type { Paper } from './corpus.js';

export const PAPERS: readonly Paper[] = [
  {
    id: 'vaswani2017',
    title: 'Attention Is All You Need',
    authors: 'Vaswani et al.',
    year: 2017,
    venue: 'NeurIPS',
    keywords: ['transformer', 'history', 'core', 'concept', 'design', 'attention'],
    abstract:
      'Introduces the Transformer, a sequence transduction architecture based solely on attention, dispensing with recurrence and convolutions; multi-head self-attention, positional encodings and encoder-decoder attention give state-of-the-art translation quality at lower training cost.',
  },
  {
    id: 'devlin2019',
    title: 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding',
    authors: 'Devlin et al.',
    year: 2019,
    venue: 'NAACL',
    keywords: ['transformer', 'llm', 'history', 'core', 'concept', 'pretraining'],
    abstract:
      'Pre-trains deep bidirectional Transformer encoders with masked language modeling and next sentence prediction, then fine-tunes them for question answering, inference and classification.',
  },
  {
    id: 'raffel2020',
    title: 'Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer',
    authors: 'Raffel et al.',
    year: 2020,
    venue: 'JMLR',
    keywords: ['transformer', 'llm', 'design', 'choice'],
    abstract:
      'T5 casts every language task as text-to-text and compares pre-training objectives, architectures, data sets and scale in one framework, isolating which design choices of Transformer models matter.',
  },
  {
    id: 'xiong2020',
    title: 'On Layer Normalization in the Transformer Architecture',
    authors: 'Xiong et al.',
    year: 2020,
    venue: 'ICML',
    keywords: ['transformer', 'design', 'choice', 'implementation', 'practical', 'training'],
    abstract:
      'Shows that placing layer normalization inside the residual blocks (Pre-LN) keeps gradients well behaved at initialization, so Transformers train without the learning-rate warm-up that Post-LN needs.',
  },
  {
    id: 'brown2020',
    title: 'Language Models are Few-Shot Learners',
    authors: 'Brown et al.',
    year: 2020,
    venue: 'NeurIPS',
    keywords: ['transformer', 'llm', 'scaling', 'history'],
    abstract:
      'Scales an autoregressive Transformer language model to 175B parameters (GPT-3) and shows strong few-shot, in-context learning across tasks without gradient updates.',
  },
  {
    id: 'kaplan2020',
    title: 'Scaling Laws for Neural Language Models',
    authors: 'Kaplan et al.',
    year: 2020,
    venue: 'arXiv',
    keywords: ['transformer', 'llm', 'scaling', 'efficiency', 'trade', 'off'],
    abstract:
      'Finds that Transformer language model loss follows power laws in parameters, data and compute, and that larger models are more sample-efficient, which sets how a fixed compute budget is best spent.',
  },
  {
    id: 'hoffmann2022',
    title: 'Training Compute-Optimal Large Language Models',
    authors: 'Hoffmann et al.',
    year: 2022,
    venue: 'NeurIPS',
    keywords: ['transformer', 'llm', 'scaling', 'efficiency', 'trade', 'off'],
    abstract:
      'Finds that model size and training tokens should scale equally for compute-optimal training (Chinchilla), changing how large language models are budgeted.',
  },
  {
    id: 'shazeer2017',
    title: 'Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer',
    authors: 'Shazeer et al.',
    year: 2017,
    venue: 'ICLR',
    keywords: ['moe', 'mixture', 'experts', 'design', 'scaling', 'efficiency'],
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
    keywords: ['transformer', 'moe', 'mixture', 'experts', 'scaling', 'efficiency', 'design'],
    abstract:
      'Simplifies mixture-of-experts routing to a single expert per token, training sparse Transformer models with up to a trillion parameters efficiently.',
  },
  {
    id: 'su2021',
    title: 'RoFormer: Enhanced Transformer with Rotary Position Embedding',
    authors: 'Su et al.',
    year: 2021,
    venue: 'arXiv',
    keywords: ['transformer', 'design', 'choice', 'position'],
    abstract:
      'Encodes absolute position with a rotation matrix so that self-attention depends on relative position (RoPE), now standard in large language model Transformer architectures.',
  },
  {
    id: 'press2022',
    title:
      'Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation',
    authors: 'Press et al.',
    year: 2022,
    venue: 'ICLR',
    keywords: ['transformer', 'design', 'choice', 'position', 'context', 'failure'],
    abstract:
      'ALiBi replaces position embeddings with a distance penalty on attention scores, letting a Transformer trained on short sequences run on longer ones, where sinusoidal and rotary embeddings fail.',
  },
  {
    id: 'ainslie2023',
    title: 'GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints',
    authors: 'Ainslie et al.',
    year: 2023,
    venue: 'EMNLP',
    keywords: [
      'transformer',
      'efficiency',
      'design',
      'choice',
      'implementation',
      'inference',
      'recent',
      'advance',
    ],
    abstract:
      'Grouped-query attention shares key and value heads among groups of query heads, keeping most of multi-head quality at close to multi-query decoding speed, and uptrains existing checkpoints to it.',
  },
  {
    id: 'beltagy2020',
    title: 'Longformer: The Long-Document Transformer',
    authors: 'Beltagy et al.',
    year: 2020,
    venue: 'arXiv',
    keywords: ['transformer', 'efficiency', 'context', 'attention', 'design'],
    abstract:
      'Combines sliding-window local attention with task-specific global attention so that Transformer cost grows linearly with sequence length, for documents of thousands of tokens.',
  },
  {
    id: 'katharopoulos2020',
    title: 'Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention',
    authors: 'Katharopoulos et al.',
    year: 2020,
    venue: 'ICML',
    keywords: ['transformer', 'efficiency', 'attention', 'trade', 'off'],
    abstract:
      'Expresses self-attention as a linear dot product of kernel feature maps, reducing Transformer complexity from quadratic to linear in sequence length and revealing their relation to recurrent networks.',
  },
  {
    id: 'tay2021',
    title: 'Long Range Arena: A Benchmark for Efficient Transformers',
    authors: 'Tay et al.',
    year: 2021,
    venue: 'ICLR',
    keywords: ['transformer', 'evaluation', 'benchmark', 'efficiency'],
    abstract:
      'A suite of long-context tasks from 1K to 16K tokens that compares efficient Transformer variants on accuracy, speed and memory under one protocol.',
  },
  {
    id: 'tay2022',
    title: 'Efficient Transformers: A Survey',
    authors: 'Tay et al.',
    year: 2022,
    venue: 'ACM Computing Surveys',
    keywords: ['transformer', 'efficiency', 'survey', 'trade', 'off', 'open', 'problem'],
    abstract:
      'Surveys efficient Transformer models (sparse, low-rank, kernel, recurrence and memory based attention) and the trade-offs between their speed, memory and quality.',
  },
  {
    id: 'dao2022',
    title: 'FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness',
    authors: 'Dao et al.',
    year: 2022,
    venue: 'NeurIPS',
    keywords: ['transformer', 'efficiency', 'implementation', 'practical', 'attention'],
    abstract:
      'An IO-aware exact attention algorithm that tiles attention computation to reduce GPU memory reads and writes, speeding up Transformer training and enabling longer context.',
  },
  {
    id: 'kwon2023',
    title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention',
    authors: 'Kwon et al.',
    year: 2023,
    venue: 'SOSP',
    keywords: [
      'transformer',
      'llm',
      'efficiency',
      'implementation',
      'practical',
      'serving',
      'inference',
    ],
    abstract:
      'vLLM manages the attention key-value cache in pages like virtual memory, raising serving throughput of Transformer language models by reducing fragmentation and enabling sharing.',
  },
  {
    id: 'leviathan2023',
    title: 'Fast Inference from Transformers via Speculative Decoding',
    authors: 'Leviathan et al.',
    year: 2023,
    venue: 'ICML',
    keywords: [
      'transformer',
      'llm',
      'efficiency',
      'inference',
      'implementation',
      'recent',
      'advance',
    ],
    abstract:
      'A small draft model proposes several tokens that the large Transformer verifies in one pass, speeding up decoding two to three times with exactly the same output distribution.',
  },
  {
    id: 'dettmers2022',
    title: 'LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale',
    authors: 'Dettmers et al.',
    year: 2022,
    venue: 'NeurIPS',
    keywords: ['transformer', 'llm', 'efficiency', 'quantization', 'implementation', 'failure'],
    abstract:
      'Quantizes Transformer feed-forward and attention projections to 8 bits, keeping the rare outlier features in 16 bits, which halves inference memory without losing quality at 175B parameters.',
  },
  {
    id: 'frantar2023',
    title: 'GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers',
    authors: 'Frantar et al.',
    year: 2023,
    venue: 'ICLR',
    keywords: ['transformer', 'llm', 'efficiency', 'quantization', 'implementation', 'practical'],
    abstract:
      'One-shot weight quantization to 3 or 4 bits using approximate second-order information, compressing large Transformer language models to run on a single GPU.',
  },
  {
    id: 'hu2022',
    title: 'LoRA: Low-Rank Adaptation of Large Language Models',
    authors: 'Hu et al.',
    year: 2022,
    venue: 'ICLR',
    keywords: ['transformer', 'llm', 'efficiency', 'finetuning', 'implementation', 'practical'],
    abstract:
      'Freezes pre-trained Transformer weights and trains low-rank update matrices in each layer, cutting trainable parameters by 10,000 times with no added inference latency.',
  },
  {
    id: 'touvron2023',
    title: 'LLaMA: Open and Efficient Foundation Language Models',
    authors: 'Touvron et al.',
    year: 2023,
    venue: 'arXiv',
    keywords: ['transformer', 'llm', 'design', 'choice', 'efficiency', 'recent', 'advance'],
    abstract:
      'Trains Transformer language models from 7B to 65B parameters on public data only, with pre-normalization, SwiGLU and rotary embeddings; the 13B model outperforms GPT-3 on most benchmarks.',
  },
  {
    id: 'gu2023',
    title: 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces',
    authors: 'Gu and Dao',
    year: 2023,
    venue: 'arXiv',
    keywords: [
      'transformer',
      'alternative',
      'efficiency',
      'scaling',
      'recent',
      'advance',
      'open',
      'problem',
    ],
    abstract:
      'Selective state space models with input-dependent parameters match Transformers of twice their size on language modeling while scaling linearly in sequence length.',
  },
  {
    id: 'olsson2022',
    title: 'In-context Learning and Induction Heads',
    authors: 'Olsson et al.',
    year: 2022,
    venue: 'Transformer Circuits Thread',
    keywords: ['transformer', 'llm', 'interpretability', 'core', 'concept', 'open', 'problem'],
    abstract:
      'Argues that induction heads, attention circuits that copy a token after an earlier occurrence of its predecessor, form during a phase change in training and drive most in-context learning in Transformers.',
  },
  {
    id: 'liu2024lost',
    title: 'Lost in the Middle: How Language Models Use Long Contexts',
    authors: 'Liu et al.',
    year: 2024,
    venue: 'TACL',
    keywords: ['transformer', 'llm', 'context', 'failure', 'evaluation', 'rag', 'retrieval'],
    abstract:
      'Shows that language models use information at the start and end of a long context far better than in the middle, even for long-context models, which matters for retrieval-augmented inputs.',
  },
  {
    id: 'dosovitskiy2021',
    title: 'An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale',
    authors: 'Dosovitskiy et al.',
    year: 2021,
    venue: 'ICLR',
    keywords: ['transformer', 'vit', 'vision', 'image', 'design', 'scaling'],
    abstract:
      'The Vision Transformer (ViT) applies a standard Transformer to sequences of image patches and, pre-trained on large data sets, matches convolutional networks on image classification.',
  },
  {
    id: 'liu2021swin',
    title: 'Swin Transformer: Hierarchical Vision Transformer using Shifted Windows',
    authors: 'Liu et al.',
    year: 2021,
    venue: 'ICCV',
    keywords: ['transformer', 'vit', 'vision', 'image', 'design', 'efficiency'],
    abstract:
      'Computes self-attention within shifted local windows, giving a hierarchical Vision Transformer with linear cost in image size for classification, detection and segmentation.',
  },
  {
    id: 'peebles2023',
    title: 'Scalable Diffusion Models with Transformers',
    authors: 'Peebles and Xie',
    year: 2023,
    venue: 'ICCV',
    keywords: ['transformer', 'diffusion', 'image', 'scaling', 'design', 'recent', 'advance'],
    abstract:
      'Diffusion Transformers (DiT) replace the U-Net backbone of latent diffusion models with a Transformer over latent patches; image quality improves steadily with Transformer compute.',
  },
  {
    id: 'hendrycks2021',
    title: 'Measuring Massive Multitask Language Understanding',
    authors: 'Hendrycks et al.',
    year: 2021,
    venue: 'ICLR',
    keywords: ['llm', 'evaluation', 'benchmark', 'transformer'],
    abstract:
      'MMLU tests language models on 57 subjects from elementary mathematics to law, showing that even the largest Transformer models of the time were far from expert accuracy.',
  },
  {
    id: 'wang2019glue',
    title: 'GLUE: A Multi-Task Benchmark and Analysis Platform for Natural Language Understanding',
    authors: 'Wang et al.',
    year: 2019,
    venue: 'ICLR',
    keywords: ['evaluation', 'benchmark', 'llm', 'history'],
    abstract:
      'A collection of nine sentence and sentence-pair understanding tasks with a diagnostic set, the standard yardstick of pre-trained encoders such as BERT.',
  },
  {
    id: 'chen2021codex',
    title: 'Evaluating Large Language Models Trained on Code',
    authors: 'Chen et al.',
    year: 2021,
    venue: 'arXiv',
    keywords: ['llm', 'code', 'generation', 'evaluation', 'benchmark', 'transformer'],
    abstract:
      'Introduces Codex, a GPT Transformer fine-tuned on public code, and HumanEval, which measures functional correctness of generated programs with unit tests (pass@k).',
  },
  {
    id: 'lewis2020',
    title: 'Retrieval-Augmented Generation for Knowledge-Intensive NLP Tasks',
    authors: 'Lewis et al.',
    year: 2020,
    venue: 'NeurIPS',
    keywords: ['rag', 'retrieval', 'augmented', 'history', 'core', 'concept', 'design'],
    abstract:
      'Combines a parametric seq2seq generator with a non-parametric dense vector index of Wikipedia accessed by a neural retriever (RAG), improving open-domain question answering and factuality.',
  },
  {
    id: 'guu2020',
    title: 'REALM: Retrieval-Augmented Language Model Pre-Training',
    authors: 'Guu et al.',
    year: 2020,
    venue: 'ICML',
    keywords: ['rag', 'retrieval', 'augmented', 'history', 'core', 'concept', 'pretraining'],
    abstract:
      'Trains a knowledge retriever jointly with a masked language model, back-propagating through retrieval over millions of documents, for open-domain question answering.',
  },
  {
    id: 'karpukhin2020',
    title: 'Dense Passage Retrieval for Open-Domain Question Answering',
    authors: 'Karpukhin et al.',
    year: 2020,
    venue: 'EMNLP',
    keywords: ['rag', 'retrieval', 'design', 'choice', 'core', 'concept'],
    abstract:
      'Learns dense embeddings for questions and passages with a dual encoder, outperforming BM25 retrieval for open-domain question answering; a building block of retrieval-augmented systems.',
  },
  {
    id: 'izacard2021',
    title: 'Leveraging Passage Retrieval with Generative Models for Open Domain Question Answering',
    authors: 'Izacard and Grave',
    year: 2021,
    venue: 'EACL',
    keywords: ['rag', 'retrieval', 'augmented', 'design', 'choice', 'scaling'],
    abstract:
      'Fusion-in-Decoder encodes each retrieved passage separately and lets the decoder attend over all of them, so answer quality keeps improving as more passages are retrieved.',
  },
  {
    id: 'khattab2020',
    title:
      'ColBERT: Efficient and Effective Passage Search via Contextualized Late Interaction over BERT',
    authors: 'Khattab and Zaharia',
    year: 2020,
    venue: 'SIGIR',
    keywords: ['rag', 'retrieval', 'efficiency', 'trade', 'off', 'design'],
    abstract:
      "Encodes queries and documents separately into token embeddings and scores them by late interaction, keeping most of a cross-encoder's quality at a fraction of its cost.",
  },
  {
    id: 'borgeaud2022',
    title: 'Improving Language Models by Retrieving from Trillions of Tokens',
    authors: 'Borgeaud et al.',
    year: 2022,
    venue: 'ICML',
    keywords: ['rag', 'retrieval', 'augmented', 'scaling', 'efficiency', 'transformer'],
    abstract:
      'RETRO conditions a Transformer on chunks retrieved from a 2 trillion token database with chunked cross-attention, matching much larger models with 25x fewer parameters.',
  },
  {
    id: 'ram2023',
    title: 'In-Context Retrieval-Augmented Language Models',
    authors: 'Ram et al.',
    year: 2023,
    venue: 'TACL',
    keywords: ['rag', 'retrieval', 'augmented', 'implementation', 'practical'],
    abstract:
      'Prepends retrieved documents to the input of an unchanged language model, with no training, and shows that this simple retrieval-augmented generation gives large gains across model sizes.',
  },
  {
    id: 'asai2024',
    title: 'Self-RAG: Learning to Retrieve, Generate, and Critique through Self-Reflection',
    authors: 'Asai et al.',
    year: 2024,
    venue: 'ICLR',
    keywords: ['rag', 'retrieval', 'augmented', 'recent', 'advance', 'failure', 'mitigation'],
    abstract:
      'Trains a language model to decide when to retrieve and to critique its own generations with reflection tokens, improving factuality and citation accuracy over standard RAG.',
  },
  {
    id: 'shi2023',
    title: 'Large Language Models Can Be Easily Distracted by Irrelevant Context',
    authors: 'Shi et al.',
    year: 2023,
    venue: 'ICML',
    keywords: ['llm', 'rag', 'retrieval', 'failure', 'mitigation', 'evaluation'],
    abstract:
      'Adds irrelevant sentences to arithmetic word problems and finds accuracy drops sharply; instructions to ignore irrelevant information and self-consistency partly mitigate the failure.',
  },
  {
    id: 'thakur2021',
    title:
      'BEIR: A Heterogeneous Benchmark for Zero-shot Evaluation of Information Retrieval Models',
    authors: 'Thakur et al.',
    year: 2021,
    venue: 'NeurIPS Datasets and Benchmarks',
    keywords: ['rag', 'retrieval', 'evaluation', 'benchmark'],
    abstract:
      'Eighteen retrieval data sets across domains for zero-shot evaluation, showing that BM25 remains a strong baseline and that dense retrievers often fail to generalize.',
  },
  {
    id: 'es2024',
    title: 'RAGAS: Automated Evaluation of Retrieval Augmented Generation',
    authors: 'Es et al.',
    year: 2024,
    venue: 'EACL',
    keywords: ['rag', 'retrieval', 'augmented', 'evaluation', 'benchmark', 'practical'],
    abstract:
      'Reference-free metrics for RAG pipelines: faithfulness of the answer to the retrieved context, answer relevance and context relevance, computed with a language model.',
  },
  {
    id: 'gao2023',
    title: 'Retrieval-Augmented Generation for Large Language Models: A Survey',
    authors: 'Gao et al.',
    year: 2023,
    venue: 'arXiv',
    keywords: [
      'rag',
      'retrieval',
      'augmented',
      'llm',
      'survey',
      'open',
      'problem',
      'recent',
      'advance',
      'evaluation',
    ],
    abstract:
      'Surveys naive, advanced and modular RAG: retrieval, chunking, re-ranking, query rewriting, generation and evaluation of retrieval-augmented large language model systems.',
  },
  {
    id: 'wei2022',
    title: 'Chain-of-Thought Prompting Elicits Reasoning in Large Language Models',
    authors: 'Wei et al.',
    year: 2022,
    venue: 'NeurIPS',
    keywords: ['llm', 'reasoning', 'agent', 'core', 'concept', 'history'],
    abstract:
      'Shows that prompting large language models with intermediate reasoning steps improves arithmetic, commonsense and symbolic reasoning; the basis of thinking models.',
  },
  {
    id: 'yao2023tot',
    title: 'Tree of Thoughts: Deliberate Problem Solving with Large Language Models',
    authors: 'Yao et al.',
    year: 2023,
    venue: 'NeurIPS',
    keywords: ['llm', 'reasoning', 'agent', 'design', 'search'],
    abstract:
      'Lets a language model explore a tree of intermediate thoughts with look-ahead and backtracking, solving planning and puzzle tasks that left-to-right chain-of-thought fails.',
  },
  {
    id: 'yao2023',
    title: 'ReAct: Synergizing Reasoning and Acting in Language Models',
    authors: 'Yao et al.',
    year: 2023,
    venue: 'ICLR',
    keywords: ['llm', 'agent', 'tool', 'core', 'concept', 'design'],
    abstract:
      'Interleaves reasoning traces and tool actions in language model agents, improving question answering and interactive decision making over reasoning or acting alone.',
  },
  {
    id: 'schick2023',
    title: 'Toolformer: Language Models Can Teach Themselves to Use Tools',
    authors: 'Schick et al.',
    year: 2023,
    venue: 'NeurIPS',
    keywords: ['llm', 'agent', 'tool', 'design', 'implementation'],
    abstract:
      'A language model learns in a self-supervised way when to call APIs such as a calculator, search engine or calendar, and how to use their results.',
  },
  {
    id: 'shinn2023',
    title: 'Reflexion: Language Agents with Verbal Reinforcement Learning',
    authors: 'Shinn et al.',
    year: 2023,
    venue: 'NeurIPS',
    keywords: ['llm', 'agent', 'failure', 'mitigation', 'reflection'],
    abstract:
      'Agents reflect on feedback from failed attempts in natural language and keep the reflections in memory, improving coding, reasoning and decision making without weight updates.',
  },
  {
    id: 'park2023',
    title: 'Generative Agents: Interactive Simulacra of Human Behavior',
    authors: 'Park et al.',
    year: 2023,
    venue: 'UIST',
    keywords: ['llm', 'agent', 'multi', 'memory', 'design'],
    abstract:
      'Agents that observe, store memories in natural language, reflect and plan populate a small town and produce believable individual and social behaviour.',
  },
  {
    id: 'wu2023',
    title: 'AutoGen: Enabling Next-Gen LLM Applications via Multi-Agent Conversation',
    authors: 'Wu et al.',
    year: 2023,
    venue: 'arXiv',
    keywords: ['llm', 'agent', 'multi', 'framework', 'implementation', 'practical'],
    abstract:
      'A framework for multi-agent conversation in which customizable LLM agents, tools and humans cooperate to solve tasks such as coding, math and decision making.',
  },
  {
    id: 'hong2024',
    title: 'MetaGPT: Meta Programming for a Multi-Agent Collaborative Framework',
    authors: 'Hong et al.',
    year: 2024,
    venue: 'ICLR',
    keywords: ['llm', 'agent', 'multi', 'framework', 'design', 'implementation'],
    abstract:
      'Encodes standard operating procedures into a team of role-playing LLM agents (product manager, architect, engineer) that exchange structured documents to build software.',
  },
  {
    id: 'du2024',
    title: 'Improving Factuality and Reasoning in Language Models through Multiagent Debate',
    authors: 'Du et al.',
    year: 2024,
    venue: 'ICML',
    keywords: ['llm', 'agent', 'multi', 'reasoning', 'failure', 'mitigation'],
    abstract:
      'Several language model instances propose answers and debate over rounds, which improves mathematical reasoning and reduces hallucinated facts.',
  },
  {
    id: 'wang2023voyager',
    title: 'Voyager: An Open-Ended Embodied Agent with Large Language Models',
    authors: 'Wang et al.',
    year: 2023,
    venue: 'arXiv',
    keywords: ['llm', 'agent', 'recent', 'advance', 'tool'],
    abstract:
      'A lifelong learning agent in Minecraft that writes, verifies and stores code skills in a growing library, with an automatic curriculum driven by GPT-4.',
  },
  {
    id: 'liu2024agentbench',
    title: 'AgentBench: Evaluating LLMs as Agents',
    authors: 'Liu et al.',
    year: 2024,
    venue: 'ICLR',
    keywords: ['llm', 'agent', 'evaluation', 'benchmark'],
    abstract:
      'Eight interactive environments, from operating systems to web shopping, that measure language models as agents and show a wide gap between commercial and open models.',
  },
  {
    id: 'jimenez2024',
    title: 'SWE-bench: Can Language Models Resolve Real-World GitHub Issues?',
    authors: 'Jimenez et al.',
    year: 2024,
    venue: 'ICLR',
    keywords: ['llm', 'agent', 'code', 'evaluation', 'benchmark'],
    abstract:
      "2,294 real GitHub issues from Python repositories, each checked by the repository's tests; the best models of the time resolved only a few percent.",
  },
  {
    id: 'cemri2025',
    title: 'Why Do Multi-Agent LLM Systems Fail?',
    authors: 'Cemri et al.',
    year: 2025,
    venue: 'arXiv',
    keywords: ['llm', 'agent', 'multi', 'failure', 'mitigation', 'evaluation', 'open', 'problem'],
    abstract:
      'Classifies the failures of multi-agent LLM systems into specification, inter-agent misalignment and verification problems, from annotated traces of several frameworks.',
  },
  {
    id: 'ouyang2022',
    title: 'Training Language Models to Follow Instructions with Human Feedback',
    authors: 'Ouyang et al.',
    year: 2022,
    venue: 'NeurIPS',
    keywords: ['llm', 'alignment', 'rlhf', 'reinforcement', 'feedback', 'core', 'concept'],
    abstract:
      "InstructGPT fine-tunes GPT-3 with supervised demonstrations and reinforcement learning from human feedback; labelers prefer the 1.3B model's outputs to those of the 175B base model.",
  },
  {
    id: 'rafailov2023',
    title: 'Direct Preference Optimization: Your Language Model is Secretly a Reward Model',
    authors: 'Rafailov et al.',
    year: 2023,
    venue: 'NeurIPS',
    keywords: ['llm', 'alignment', 'rlhf', 'preference', 'efficiency', 'recent', 'advance'],
    abstract:
      'Optimizes a language model directly on preference pairs with a classification loss, matching RLHF with PPO without training a reward model or sampling during training.',
  },
  {
    id: 'bai2022',
    title: 'Constitutional AI: Harmlessness from AI Feedback',
    authors: 'Bai et al.',
    year: 2022,
    venue: 'arXiv',
    keywords: ['llm', 'alignment', 'feedback', 'design'],
    abstract:
      'Trains a harmless assistant from a list of principles: the model critiques and revises its own outputs, then reinforcement learning uses AI rather than human preference labels.',
  },
  {
    id: 'ji2023',
    title: 'Survey of Hallucination in Natural Language Generation',
    authors: 'Ji et al.',
    year: 2023,
    venue: 'ACM Computing Surveys',
    keywords: ['llm', 'hallucination', 'failure', 'mitigation', 'evaluation', 'survey'],
    abstract:
      'Surveys hallucination in summarization, dialogue, question answering and translation: its causes, the metrics that measure it and the methods that mitigate it.',
  },
  {
    id: 'ho2020',
    title: 'Denoising Diffusion Probabilistic Models',
    authors: 'Ho et al.',
    year: 2020,
    venue: 'NeurIPS',
    keywords: ['diffusion', 'image', 'generative', 'core', 'concept', 'history'],
    abstract:
      'Trains a network to reverse a gradual Gaussian noising process, giving high-quality image synthesis from a weighted variational bound linked to denoising score matching.',
  },
  {
    id: 'song2021sde',
    title: 'Score-Based Generative Modeling through Stochastic Differential Equations',
    authors: 'Song et al.',
    year: 2021,
    venue: 'ICLR',
    keywords: ['diffusion', 'generative', 'core', 'concept', 'design'],
    abstract:
      'Unifies score-based models and diffusion probabilistic models as stochastic differential equations, with probability-flow ODE sampling and exact likelihoods.',
  },
  {
    id: 'song2021ddim',
    title: 'Denoising Diffusion Implicit Models',
    authors: 'Song et al.',
    year: 2021,
    venue: 'ICLR',
    keywords: ['diffusion', 'efficiency', 'sampling', 'implementation'],
    abstract:
      'Non-Markovian sampling for trained diffusion models that produces images 10 to 50 times faster with the same training objective.',
  },
  {
    id: 'rombach2022',
    title: 'High-Resolution Image Synthesis with Latent Diffusion Models',
    authors: 'Rombach et al.',
    year: 2022,
    venue: 'CVPR',
    keywords: ['diffusion', 'image', 'efficiency', 'design', 'practical'],
    abstract:
      'Runs diffusion in the latent space of a pre-trained autoencoder with cross-attention conditioning, cutting compute for high-resolution text-to-image synthesis (Stable Diffusion).',
  },
  {
    id: 'ho2021cfg',
    title: 'Classifier-Free Diffusion Guidance',
    authors: 'Ho and Salimans',
    year: 2021,
    venue: 'NeurIPS Workshop',
    keywords: ['diffusion', 'design', 'trade', 'off', 'implementation'],
    abstract:
      'Trains one diffusion model with and without conditioning and mixes their score estimates, trading sample diversity for fidelity without a separate classifier.',
  },
  {
    id: 'mnih2015',
    title: 'Human-level control through deep reinforcement learning',
    authors: 'Mnih et al.',
    year: 2015,
    venue: 'Nature',
    keywords: ['reinforcement', 'rl', 'history', 'core', 'concept'],
    abstract:
      'The deep Q-network learns to play 49 Atari games from pixels and score with experience replay and a target network, reaching human-level play on many of them.',
  },
  {
    id: 'silver2016',
    title: 'Mastering the game of Go with deep neural networks and tree search',
    authors: 'Silver et al.',
    year: 2016,
    venue: 'Nature',
    keywords: ['reinforcement', 'rl', 'search', 'history'],
    abstract:
      'AlphaGo combines policy and value networks trained by supervised and reinforcement learning with Monte Carlo tree search and defeats a professional Go player.',
  },
  {
    id: 'schulman2017',
    title: 'Proximal Policy Optimization Algorithms',
    authors: 'Schulman et al.',
    year: 2017,
    venue: 'arXiv',
    keywords: ['reinforcement', 'rl', 'design', 'implementation', 'practical'],
    abstract:
      'A clipped surrogate objective allows several epochs of minibatch policy-gradient updates per batch, simple to implement and stable across continuous and Atari tasks.',
  },
  {
    id: 'haarnoja2018',
    title:
      'Soft Actor-Critic: Off-Policy Maximum Entropy Deep Reinforcement Learning with a Stochastic Actor',
    authors: 'Haarnoja et al.',
    year: 2018,
    venue: 'ICML',
    keywords: ['reinforcement', 'rl', 'efficiency', 'design'],
    abstract:
      'An off-policy actor-critic that maximizes reward and entropy, sample-efficient and stable on continuous control benchmarks.',
  },
  {
    id: 'levine2020',
    title: 'Offline Reinforcement Learning: Tutorial, Review, and Perspectives on Open Problems',
    authors: 'Levine et al.',
    year: 2020,
    venue: 'arXiv',
    keywords: ['reinforcement', 'rl', 'survey', 'open', 'problem', 'failure'],
    abstract:
      'Reviews reinforcement learning from fixed data sets, why distributional shift makes it hard, and the open problems of offline policy evaluation and improvement.',
  },
  {
    id: 'kipf2017',
    title: 'Semi-Supervised Classification with Graph Convolutional Networks',
    authors: 'Kipf and Welling',
    year: 2017,
    venue: 'ICLR',
    keywords: ['gnn', 'graph', 'neural', 'core', 'concept', 'history'],
    abstract:
      'A first-order approximation of spectral graph convolutions gives a simple layer-wise propagation rule for graph neural networks, for semi-supervised node classification.',
  },
  {
    id: 'hamilton2017',
    title: 'Inductive Representation Learning on Large Graphs',
    authors: 'Hamilton et al.',
    year: 2017,
    venue: 'NeurIPS',
    keywords: ['gnn', 'graph', 'neural', 'scaling', 'design'],
    abstract:
      "GraphSAGE learns functions that sample and aggregate features of a node's neighbourhood, generating embeddings for nodes unseen in training on large graphs.",
  },
  {
    id: 'velickovic2018',
    title: 'Graph Attention Networks',
    authors: 'Veličković et al.',
    year: 2018,
    venue: 'ICLR',
    keywords: ['gnn', 'graph', 'neural', 'attention', 'design'],
    abstract:
      "Graph neural networks whose layers attend over each node's neighbours with masked self-attention, assigning different weights to different neighbours.",
  },
  {
    id: 'xu2019',
    title: 'How Powerful are Graph Neural Networks?',
    authors: 'Xu et al.',
    year: 2019,
    venue: 'ICLR',
    keywords: ['gnn', 'graph', 'neural', 'core', 'concept', 'open', 'problem'],
    abstract:
      'Relates message-passing graph neural networks to the Weisfeiler-Lehman test and proposes the Graph Isomorphism Network, as expressive as that test.',
  },
  {
    id: 'hu2020ogb',
    title: 'Open Graph Benchmark: Datasets for Machine Learning on Graphs',
    authors: 'Hu et al.',
    year: 2020,
    venue: 'NeurIPS',
    keywords: ['gnn', 'graph', 'neural', 'evaluation', 'benchmark'],
    abstract:
      'Large, realistic graph data sets with standard splits and evaluators for node, link and graph property prediction.',
  },
  {
    id: 'he2016',
    title: 'Deep Residual Learning for Image Recognition',
    authors: 'He et al.',
    year: 2016,
    venue: 'CVPR',
    keywords: ['vision', 'image', 'cnn', 'history', 'core', 'concept', 'design'],
    abstract:
      'Residual connections let networks of over 100 layers train well, winning ImageNet 2015 classification; the skip connection is now in nearly every deep architecture.',
  },
  {
    id: 'radford2021',
    title: 'Learning Transferable Visual Models From Natural Language Supervision',
    authors: 'Radford et al.',
    year: 2021,
    venue: 'ICML',
    keywords: ['vision', 'image', 'contrastive', 'multimodal', 'transformer'],
    abstract:
      'CLIP trains image and text encoders contrastively on 400 million image-text pairs and transfers zero-shot to dozens of vision benchmarks.',
  },
  {
    id: 'chen2020simclr',
    title: 'A Simple Framework for Contrastive Learning of Visual Representations',
    authors: 'Chen et al.',
    year: 2020,
    venue: 'ICML',
    keywords: ['vision', 'image', 'contrastive', 'self', 'supervised', 'design'],
    abstract:
      'SimCLR learns visual representations by contrasting augmented views of the same image, showing that strong augmentations, a projection head and large batches matter.',
  },
];
