import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrencyError } from '../../src/errors.js';
import {
  currencyConverter,
  fetchEcbRates,
  loadRatesFile,
  parseEcbXml,
  parseRates,
  ratesFromEnv,
} from '../../src/show/currency/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-fx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** $1 in femto-dollars. */
const USD = 10n ** 15n;

describe('currencyConverter: exact, rounded once to the minor unit', () => {
  const rates = parseRates({
    date: '2026-11-20',
    rates: { EUR: '0.92', JPY: '151.37', GBP: '0.7891', BHD: '0.376' },
  });
  it.each([
    // $12.50 × 0.92 = €11.50 exactly
    ['EUR', 12_500_000_000_000_000n, '11.50', '€11.50'],
    // $0.005 × 0.92 = 0.0046 → €0.00; $0.00544 × 0.92 = 0.0050048 → €0.01 (half up, once)
    ['EUR', 5_000_000_000_000n, '0.00', '€0.00'],
    ['EUR', 5_440_000_000_000n, '0.01', '€0.01'],
    // a femto-dollar beyond half a cent rounds up; exactly below stays down
    ['EUR', 5_434_782_608_696n, '0.01', '€0.01'],
    ['EUR', 5_434_782_608_695n, '0.00', '€0.00'],
    // JPY has no minor unit: $1.234567 × 151.37 = 186.87...
    ['JPY', 1_234_567_000_000_000n, '187', '¥187'],
    // ¥0.5 is 3,303,164,431,525.4 fUSD at 151.37: one femto-dollar either side decides
    ['JPY', 3_303_164_431_526n, '1', '¥1'],
    ['JPY', 3_303_164_431_525n, '0', '¥0'],
    // BHD has three decimals
    ['BHD', USD, '0.376', 'BHD 0.376'],
    ['GBP', 1_000_000n * USD, '789100.00', '£789,100.00'],
    ['USD', 1_234_500_000_000_000n, '1.23', '$1.23'],
    ['EUR', -12_500_000_000_000_000n, '-11.50', '-€11.50'],
  ])('%s of %i fUSD = %s', (currency, femto, amount, formatted) => {
    const fx = currencyConverter({ currency, rates });
    expect(fx.amount(femto)).toBe(amount);
    expect(fx.format(femto).replace(/\u00a0/g, ' ')).toBe(formatted);
  });

  it('is exact where a double would not be: 10^7 dollars of femto-dollar precision', () => {
    const fx = currencyConverter({ currency: 'EUR', rates: parseRates({ EUR: '0.9' }) });
    // $10,000,000.000000000000005 × 0.9 = 9,000,000.0000000000000045 → 9000000.00
    expect(fx.amount(10_000_000n * USD + 5n)).toBe('9000000.00');
    // 0.9 × $0.00555555… rounds on the exact product, not on a double's neighbour
    expect(fx.amount(5_555_555_555_556n)).toBe('0.01');
  });

  it('names the rate and its date', () => {
    expect(currencyConverter({ currency: 'eur', rates }).note).toBe(
      'EUR at 0.92 per USD (rate of 2026-11-20, user); USD is the unit of account',
    );
  });

  it.each([
    ['an unknown code', 'XYZ', 'unknown_currency'],
    ['not a code', 'euro', 'unknown_currency'],
    ['an empty code', '', 'unknown_currency'],
    ['a code with no rate', 'CHF', 'missing_rate'],
  ])('%s is a CurrencyError, never a USD figure', (_name, currency, reason) => {
    try {
      currencyConverter({ currency, rates });
      expect.unreachable();
    } catch (error) {
      expect(CurrencyError.isInstance(error)).toBe(true);
      expect((error as CurrencyError).reason).toBe(reason);
    }
  });

  it.each([
    [{ EUR: 0.92 }, /decimal string/],
    [{ EUR: '-1' }, /positive decimal/],
    [{ EUR: '0' }, /positive decimal/],
    [{ EUR: '1e3' }, /positive decimal/],
    [{ XXQ: '1' }, /Unknown currency/],
    [{ date: '20/11/2026', rates: { EUR: '0.9' } }, /YYYY-MM-DD/],
    [[], /object/],
    [null, /object/],
  ])('bad rates %j are refused', (input, message) => {
    expect(() => parseRates(input)).toThrow(message);
    expect(() => parseRates(input)).toThrow(CurrencyError);
  });
});

describe('rates from a file and TOLLGATE_FX_RATES', () => {
  it('reads both forms, each rate with its date', () => {
    const file = join(dir, 'rates.json');
    writeFileSync(file, JSON.stringify({ date: '2026-11-19', rates: { EUR: '0.93' } }));
    expect(loadRatesFile(file).EUR).toMatchObject({
      text: '0.93',
      date: '2026-11-19',
      source: file,
    });
    expect(ratesFromEnv({ TOLLGATE_FX_RATES: file })?.EUR?.date).toBe('2026-11-19');
    const inline = ratesFromEnv({
      TOLLGATE_FX_RATES: '{"GBP":{"rate":"0.79","date":"2026-11-18"}}',
    });
    expect(inline?.GBP).toMatchObject({ numerator: 79n, denominator: 100n, date: '2026-11-18' });
    expect(ratesFromEnv({})).toBeUndefined();
  });

  it('a missing or broken file is a CurrencyError naming it', () => {
    expect(() => loadRatesFile(join(dir, 'nope.json'))).toThrow(/nope\.json/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => loadRatesFile(broken)).toThrow(CurrencyError);
    expect(() => ratesFromEnv({ TOLLGATE_FX_RATES: '{not json' })).toThrow(CurrencyError);
  });
});

/** The ECB's daily file, in its published format (values as of a recorded day). */
const ECB_XML = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2026-11-20'>
			<Cube currency='USD' rate='1.0500'/>
			<Cube currency='JPY' rate='162.15'/>
			<Cube currency='GBP' rate='0.8400'/>
			<Cube currency='CNY' rate='7.6125'/>
		</Cube>
	</Cube>
</gesmes:Envelope>`;

describe('ECB reference rates over loopback', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/daily.xml') {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(ECB_XML);
      } else if (req.url === '/slow') {
        // never answers: the client's timeout must end the wait
      } else {
        res.writeHead(503);
        res.end('maintenance');
      }
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('derives exact per-USD cross rates through the euro, dated', async () => {
    const rates = await fetchEcbRates({ url: `${base}/daily.xml` });
    // EUR per USD = 1 / 1.05; GBP per USD = 0.84 / 1.05 = 0.8 exactly
    expect(rates.EUR).toMatchObject({ date: '2026-11-20', source: 'ecb', text: '0.952381' });
    const gbp = currencyConverter({ currency: 'GBP', rates });
    expect(gbp.amount(100n * USD)).toBe('80.00');
    const eur = currencyConverter({ currency: 'EUR', rates });
    expect(eur.amount(105n * USD)).toBe('100.00');
    // JPY per USD = 162.15 / 1.05 = 154.428571…; $10 → ¥1,544
    expect(currencyConverter({ currency: 'JPY', rates }).format(10n * USD)).toBe('¥1,544');
    expect(rates.USD).toBeUndefined();
  });

  it('falls back to the offline rates on an HTTP error or a timeout, else says why', async () => {
    const fallback = parseRates({ EUR: '0.9' }, 'rates.json');
    expect((await fetchEcbRates({ url: `${base}/down`, fallback })).EUR?.source).toBe('rates.json');
    expect((await fetchEcbRates({ url: `${base}/slow`, timeoutMs: 200, fallback })).EUR?.text).toBe(
      '0.9',
    );
    await expect(fetchEcbRates({ url: `${base}/down` })).rejects.toThrow(
      /HTTP 503; offline, use rates of your own .*TOLLGATE_FX_RATES/,
    );
    await expect(fetchEcbRates({ url: `${base}/slow`, timeoutMs: 200 })).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });

  it('a body that is not the ECB format is refused', () => {
    expect(() => parseEcbXml('<html>hello</html>')).toThrow(CurrencyError);
  });
});
