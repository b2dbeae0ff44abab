/**
 * LangChain's run-time values for tollgate/langgraph, loaded once as the subpath is imported.
 * Dynamic imports (not static ones) so that a missing peer surfaces as one `MissingPeerError`
 * naming the `npm install` to run, not as Node's ERR_MODULE_NOT_FOUND from inside the package.
 * Types are imported statically elsewhere: they cost nothing at run time.
 */
import { ConfigurationError, isModuleNotFound, MissingPeerError } from '../errors.js';

const FEATURE = 'tollgate/langgraph';
/** The peers in the order an install command names them. */
const PEERS = ['@langchain/langgraph', '@langchain/core'] as const;

/** The package a module-not-found error names (`Cannot find package 'x' imported from …`). */
function missingPackage(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  return /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec(message)?.[1];
}

async function load() {
  const settled = await Promise.allSettled([
    import('@langchain/core/singletons'),
    import('@langchain/core/callbacks/base'),
    import('@langchain/core/language_models/chat_models'),
    import('@langchain/core/messages'),
    import('@langchain/langgraph'),
  ] as const);
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const notFound = failures.filter(isModuleNotFound);
  if (notFound.length > 0) {
    const named = new Set(notFound.map((error) => missingPackage(error) ?? PEERS[1]));
    const packages = [
      ...PEERS.filter((peer) => named.has(peer)),
      ...[...named].filter((name) => !(PEERS as readonly string[]).includes(name)),
    ];
    throw new MissingPeerError(FEATURE, packages, { cause: notFound[0] });
  }
  if (failures.length > 0) {
    throw new ConfigurationError(`${FEATURE} could not load LangChain: ${failures[0]}`, {
      cause: failures[0],
    });
  }
  const [singletons, callbacks, chatModels, messages, langgraph] = settled.map(
    (s) => (s as PromiseFulfilledResult<unknown>).value,
  ) as unknown as [
    typeof import('@langchain/core/singletons'),
    typeof import('@langchain/core/callbacks/base'),
    typeof import('@langchain/core/language_models/chat_models'),
    typeof import('@langchain/core/messages'),
    typeof import('@langchain/langgraph'),
  ];
  return { singletons, callbacks, chatModels, messages, langgraph };
}

const loaded = await load();

type LangGraph = typeof import('@langchain/langgraph');

export const AsyncLocalStorageProviderSingleton =
  loaded.singletons.AsyncLocalStorageProviderSingleton;
export const BaseCallbackHandler = loaded.callbacks.BaseCallbackHandler;
export const BaseChatModel = loaded.chatModels.BaseChatModel;
export const mergeUsageMetadata = loaded.messages.mergeUsageMetadata;
export const Annotation: LangGraph['Annotation'] = loaded.langgraph.Annotation;
export const Command: LangGraph['Command'] = loaded.langgraph.Command;
export const interrupt: LangGraph['interrupt'] = loaded.langgraph.interrupt;
export const isCommand: LangGraph['isCommand'] = loaded.langgraph.isCommand;
