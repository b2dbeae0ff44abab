/** fast-check arbitraries of raw usage objects, most of them wrong, shared by property tests. */
import fc from 'fast-check';

/** Values a count field may hold in the wild, most of them wrong. */
export const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.nat({ max: 5000 }),
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    0.5,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    null,
    undefined,
    true,
    false,
    '',
    ' 12 ',
    '1e3',
    '0x10',
    '-4',
  ),
  fc.nat().map(String),
  fc.string({ maxLength: 6 }),
  fc.bigInt(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.nat(), { maxLength: 2 }),
);

/** A `{modality, tokenCount}` list, with weird entries. */
export const modalityList = fc.oneof(
  fc.array(
    fc.oneof(
      fc.record(
        {
          modality: fc.oneof(
            fc.constantFrom('TEXT', 'IMAGE', 'AUDIO', 'VIDEO', 'DOCUMENT', 'MODALITY_UNSPECIFIED'),
            fc.string({ maxLength: 5 }),
            weird,
          ),
          tokenCount: weird,
        },
        { requiredKeys: [] },
      ),
      weird,
    ),
    { maxLength: 4 },
  ),
  weird,
);

export const gemini = fc.record(
  {
    promptTokenCount: weird,
    candidatesTokenCount: weird,
    totalTokenCount: weird,
    thoughtsTokenCount: weird,
    cachedContentTokenCount: weird,
    toolUsePromptTokenCount: weird,
    trafficType: fc.oneof(
      fc.constantFrom(
        'ON_DEMAND',
        'ON_DEMAND_FLEX',
        'ON_DEMAND_PRIORITY',
        'PROVISIONED_THROUGHPUT',
        'ON_DEMAND_OFFPEAK',
        'TrafficType.ON_DEMAND_FLEX',
      ),
      weird,
    ),
    serviceTier: fc.oneof(
      fc.constantFrom('standard', 'flex', 'priority', 'FLEX', 'SERVICE_TIER_PRIORITY', 'deferred'),
      weird,
    ),
    billablePromptUsage: fc.anything({ maxDepth: 1 }),
    promptTokensDetails: modalityList,
    candidatesTokensDetails: modalityList,
    cacheTokensDetails: modalityList,
    toolUsePromptTokensDetails: modalityList,
  },
  { requiredKeys: [] },
);
