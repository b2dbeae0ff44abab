/** `tollgate prices <model>`: what the catalog charges for a model, tiers included. */
import { findProvider } from '@pydantic/genai-prices';
import type { CompiledUnit } from '../../price/catalog.js';
import { femtoToDecimal } from '../../price/money.js';
import { Pricer } from '../../price/pricer.js';
import { type Command, CommandError, parse, text, UsageError, write } from '../args.js';

/** Catalog price keys, in the order and words people read them. */
const LABELS: Record<string, string> = {
  input_mtok: 'input',
  cache_read_mtok: 'cached input (read)',
  cache_write_mtok: 'cache write',
  input_audio_mtok: 'audio input',
  cache_audio_read_mtok: 'cached audio input',
  input_image_mtok: 'image input',
  cache_image_read_mtok: 'cached image input',
  input_video_mtok: 'video input',
  output_mtok: 'output',
  output_reasoning_mtok: 'reasoning output',
  output_audio_mtok: 'audio output',
  output_image_mtok: 'image output',
  output_video_mtok: 'video output',
  requests_kcount: 'requests',
};
const ORDER = Object.keys(LABELS);

/** One price line, exact: `$1.25 / Mtok`. */
function priceText(unit: CompiledUnit, femtoPerUnit: number): string {
  // Femto-dollars per unit × units per quote (10^6 tokens, 10^3 requests) is the quoted price.
  const amount = femtoToDecimal(BigInt(femtoPerUnit) * unit.unit.per);
  return `$${amount} / ${unit.unit.per === 1_000_000n ? 'Mtok' : 'K requests'}`;
}

export const prices: Command = {
  name: 'prices',
  summary: "show a model's prices and tiers from the catalog",
  help: `Usage: tollgate prices <model> [--provider P] [--json]

Shows the prices tollgate uses for a model ($ per million tokens: input, cached, output,
audio…), with long-context tiers, from the bundled catalog and your overrides.

Options:
  --provider P   the provider (google, vertex, openai, anthropic…) when the name is ambiguous
  --json         machine-readable output
  -h, --help     this help
`,
  async run(argv, io) {
    const args = parse(
      argv,
      { provider: { type: 'string' }, json: { type: 'boolean' } },
      { min: 1, max: 1, names: ['model'] },
    );
    if (args.help) {
      await write(io.stdout, this.help);
      return 0;
    }
    const model = args.positionals[0] as string;
    const provider = text(args, 'provider');
    // The pricer ignores a provider it does not know (right for a tracker, which must price the
    // call anyway); here it would show another provider's prices as if they were asked for.
    if (provider !== undefined && !findProvider({ providerId: provider })) {
      throw new UsageError(`--provider: unknown provider ${JSON.stringify(provider)}`);
    }
    const resolved = new Pricer().resolve(model, provider);
    if (!resolved) {
      throw new CommandError(
        `no price for ${JSON.stringify(model)}${provider ? ` (provider ${provider})` : ''} in the catalog or the overrides`,
      );
    }
    const now = io.now();
    const units = [...resolved.priceAt(now).units].sort(
      (a, b) => ORDER.indexOf(a.unit.priceKey) - ORDER.indexOf(b.unit.priceKey),
    );
    if (args.values.json === true) {
      const body = {
        model: resolved.modelId,
        provider: resolved.providerId,
        source: resolved.source,
        at: new Date(now).toISOString(),
        prices: units.map((unit) => ({
          unit: unit.unit.priceKey,
          usd: femtoToDecimal(BigInt(unit.base) * unit.unit.per),
          tiers: unit.tiers.map((tier) => ({
            abovePromptTokens: tier.start,
            usd: femtoToDecimal(BigInt(tier.price) * unit.unit.per),
          })),
        })),
      };
      await write(io.stdout, `${JSON.stringify(body, null, 2)}\n`);
      return 0;
    }
    const lines = [
      `${resolved.modelId} (${resolved.providerId}, ${resolved.source}), prices on ${new Date(now).toISOString().slice(0, 10)}`,
    ];
    for (const unit of units) {
      const label = LABELS[unit.unit.priceKey] ?? unit.unit.priceKey;
      const tiers = unit.tiers.map(
        (tier) =>
          `above ${tier.start.toLocaleString('en-US')} prompt tokens: ${priceText(unit, tier.price)}`,
      );
      lines.push(
        `  ${label.padEnd(20)} ${priceText(unit, unit.base).padEnd(20)} ${tiers.join('; ')}`.trimEnd(),
      );
    }
    await write(io.stdout, `${lines.join('\n')}\n`);
    return 0;
  },
};
