/**
 * The dashboard's script, a vanilla ES module served at /dashboard/app.js. It is hand-written
 * JavaScript kept as a string, so it ships in dist with no bundler and no build step. Rules
 * inside: no backticks and no dollar-brace (this is a template literal), and every string from
 * the API reaches the page as text (textContent, Text nodes, attributes), never as HTML.
 */
export const CLIENT_JS = String.raw`// tollgate dashboard: one vanilla ES module, no dependencies, no build step.
// Every string from the API reaches the page as text (textContent, Text nodes, attribute
// values), never as HTML.
const KEY_STORAGE = 'tollgate.apiKey';
const DAYS_STORAGE = 'tollgate.days';
const CURRENCY_STORAGE = 'tollgate.currency';
const PERIODS = [1, 7, 30];
const SVG_NS = 'http://www.w3.org/2000/svg';
const DAY_MS = 86400000;
const BUDGET_SCOPES = ['global', 'user', 'tenant', 'agent', 'model', 'provider'];
const BUDGET_WINDOWS = ['request', 'hour', 'day', 'week', 'month'];
const BUDGET_MODES = ['soft', 'hard', 'adaptive'];
const LIMIT_SCOPES = ['global', 'user', 'agent', 'model'];

// currency: the code asked for (USD: none); fx: the currency block of the latest answer.
const state = {
  key: null,
  days: 7,
  role: null,
  tenantId: null,
  generation: 0,
  currency: 'USD',
  currencies: [],
  fx: null,
  currencyProblem: null,
};
let formCount = 0;

// ── formatting ─────────────────────────────────────────────────────────────

/** A number or decimal string as a plain decimal string (a JS number may print as 1e-7). */
function plainDecimal(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'NaN';
    const text = String(value);
    if (!/e/i.test(text)) return text;
    return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
  }
  return String(value);
}

/** Rounds a non-negative decimal string half up to "places" decimals, exactly (BigInt). */
function roundDecimal(text, places) {
  const [whole, fraction = ''] = text.split('.');
  const digits = (whole || '0') + (fraction + '0'.repeat(places + 1)).slice(0, places + 1);
  const rounded = ((BigInt(digits) + 5n) / 10n).toString().padStart(places + 1, '0');
  return rounded.slice(0, -places) + '.' + rounded.slice(-places);
}

/** Groups digits by thousands: 1234567 → 1,234,567. */
function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Dollars: 4 decimals below $1, 2 decimals from $1 up. */
function money(value) {
  let text = plainDecimal(value);
  const negative = text.startsWith('-');
  if (negative) text = text.slice(1);
  if (!/^\d+(\.\d+)?$/.test(text)) return '—';
  const size = Number(text);
  // As formatUsd: 4 decimals below $1, and two significant digits for an amount that 4 decimals
  // would show as $0.0000 ($0.00003 is not free).
  const places =
    size >= 1 ? 2 : size === 0 || size >= 0.00005 ? 4 : Math.min(15, Math.ceil(-Math.log10(size)) + 1);
  const rounded = roundDecimal(text, places);
  const [whole, fraction] = rounded.split('.');
  return (negative ? '-$' : '$') + group(whole) + '.' + fraction;
}

/**
 * An amount already converted by the server (exact, rounded once to the currency's minor unit):
 * formatted as given, never rounded again. Intl formats a decimal string exactly.
 */
function fxMoney(decimal) {
  if (decimal === null || decimal === undefined || !state.fx) return '—';
  const digits = state.fx.minorDigits;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: state.fx.code,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(String(decimal));
}

/**
 * The amount "stem" of an API object (cost, limit, spent, projectedHigh…): in the chosen
 * currency when the answer carries it ("costInCurrency"), else in dollars from the exact decimal.
 */
function amount(object, stem) {
  if (!object) return '—';
  const converted = object[stem + 'InCurrency'];
  if (state.fx && converted !== undefined) return fxMoney(converted);
  const exact = object[stem + 'UsdExact'];
  return money(exact !== undefined ? exact : object[stem + 'Usd']);
}

/** An amount's number for charts: in the chosen currency when shown in it. */
function amountNumber(object, stem) {
  if (!object) return 0;
  const converted = object[stem + 'InCurrency'];
  if (state.fx && converted !== undefined && converted !== null) return Number(converted);
  const exact = object[stem + 'UsdExact'];
  return Number(exact !== undefined ? exact : object[stem + 'Usd']) || 0;
}

/** An axis label: every label with the decimals of the largest, so $0.00 sits under $2.00. */
function axisMoney(value, top) {
  if (state.fx) {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: state.fx.code,
      maximumFractionDigits: top < 1 ? Math.max(state.fx.minorDigits, 2) : state.fx.minorDigits,
      minimumFractionDigits: top < 1 ? Math.max(state.fx.minorDigits, 2) : state.fx.minorDigits,
    }).format(value);
  }
  if (!(top > 0)) return money(value);
  if (top < 1) {
    // Enough decimals that $0.0001 and its half ($0.00005) read as two different amounts.
    const places = Math.min(15, Math.max(4, Math.ceil(-Math.log10(top)) + 1));
    const [whole, fraction] = roundDecimal(plainDecimal(value), places).split('.');
    return '$' + group(whole) + '.' + fraction;
  }
  const [whole, fraction] = roundDecimal(plainDecimal(value), 2).split('.');
  return '$' + group(whole) + '.' + fraction;
}

/** A whole number with thousands separators. */
function count(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) return '—';
  return (n < 0 ? '-' : '') + group(String(Math.trunc(Math.abs(n))));
}

/** A ratio (0.8965) as a percentage with 2 decimals (89.65%), rounded half up. */
function percent(ratio) {
  const n = Number(ratio);
  if (!Number.isFinite(n)) return '—';
  const hundredths = Math.floor((Math.round(n * 1e6) + 50) / 100);
  const sign = hundredths < 0 ? '-' : '';
  const abs = Math.abs(hundredths);
  return sign + Math.floor(abs / 100) + '.' + String(abs % 100).padStart(2, '0') + '%';
}

/** A threshold (0.95) as a short percentage (95%). */
function shortPercent(ratio) {
  return String(Math.round(Number(ratio) * 10000) / 100) + '%';
}

/** 2026-11-23T11:00:00.000Z → 2026-11-23 11:00:00 (UTC). */
function time(iso) {
  return typeof iso === 'string' && iso.length >= 19 ? iso.slice(0, 19).replace('T', ' ') : '—';
}

const plural = (n, word) => count(n) + ' ' + word + (Number(n) === 1 ? '' : 's');

// ── DOM ────────────────────────────────────────────────────────────────────

const $ = (id) => document.getElementById(id);

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') element.textContent = String(value);
    else if (name === 'style') {
      for (const [property, v] of Object.entries(value)) element.style.setProperty(property, v);
    } else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** An HTML element: h('p', { class: 'x', text: 'hello' }). */
const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
/** An SVG element. */
const svg = (tag, attrs, ...children) =>
  build(document.createElementNS(SVG_NS, tag), attrs, children);

function announce(message) {
  const status = $('status');
  status.textContent = '';
  // A fresh text node, so screen readers announce the same message twice in a row.
  setTimeout(() => {
    status.textContent = message;
  }, 10);
  setTimeout(() => {
    if (status.textContent === message) status.textContent = '';
  }, 6000);
}

// ── API ────────────────────────────────────────────────────────────────────

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API with the key; an error answer becomes an ApiError with the API's message. */
async function api(path, options = {}) {
  const headers = { authorization: 'Bearer ' + state.key, accept: 'application/json' };
  const init = { method: options.method || 'GET', headers, cache: 'no-store' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'the server did not answer');
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body && typeof body === 'object' ? body.error : undefined;
    throw new ApiError(
      response.status,
      error?.code || 'http_' + response.status,
      error?.message || 'HTTP ' + response.status,
    );
  }
  return body;
}

// ── session ────────────────────────────────────────────────────────────────

function showSignIn(message) {
  document.body.dataset.state = 'signin';
  $('controls').hidden = true;
  $('dashboard-view').hidden = true;
  $('signin-view').hidden = false;
  $('signin-error').textContent = message || '';
  const input = $('api-key');
  input.value = '';
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  input.focus();
}

async function enter(key, restoring) {
  if (!/^[\x21-\x7e]+$/.test(key)) {
    showSignIn('Enter an API key or token (printable characters, no spaces).');
    return;
  }
  state.key = key;
  document.body.dataset.state = 'signing-in';
  let session;
  try {
    session = await api('dashboard/session');
  } catch (error) {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    const prefix = error.status === 401 ? 'That key was not accepted: ' : 'Could not sign in: ';
    showSignIn((restoring ? 'Please sign in again. ' : '') + prefix + error.message);
    return;
  }
  state.role = session.role;
  state.tenantId = session.tenantId;
  chooseCurrencies(Array.isArray(session.currencies) ? session.currencies : []);
  sessionStorage.setItem(KEY_STORAGE, key);
  $('who').textContent =
    session.role + (session.tenantId === null ? '' : ' · tenant ' + session.tenantId);
  $('signin-view').hidden = true;
  $('controls').hidden = false;
  $('dashboard-view').hidden = false;
  await load();
}

/**
 * Fills the currency choice with the server's rates and picks the one asked for: ?currency= in
 * the page's address, else the last choice in this tab, else USD. A code without a rate here
 * is said so, and amounts stay in USD (never dollars labelled as another currency).
 */
function chooseCurrencies(currencies) {
  state.currencies = currencies;
  const select = $('currency');
  select.replaceChildren(
    h('option', { value: 'USD', text: 'USD' }),
    ...currencies.map((c) =>
      h('option', { value: c.code, text: c.code + (c.rateDate ? ' (' + c.rateDate + ')' : '') }),
    ),
  );
  const asked = new URLSearchParams(location.search).get('currency');
  const wanted = (asked || sessionStorage.getItem(CURRENCY_STORAGE) || 'USD').trim().toUpperCase();
  const known = wanted === 'USD' || currencies.some((c) => c.code === wanted);
  state.currency = known ? wanted : 'USD';
  state.fx = null;
  select.value = state.currency;
  state.currencyProblem = known
    ? null
    : 'No exchange rate for ' + wanted + ' on this server (set TOLLGATE_FX_RATES): amounts are in USD.';
}

function signOut(message) {
  state.generation += 1;
  state.key = null;
  state.role = null;
  state.tenantId = null;
  sessionStorage.removeItem(KEY_STORAGE);
  for (const id of ['totals', 'daily', 'by-agent', 'by-model', 'top-users', 'budgets']) {
    $(id).replaceChildren();
  }
  $('rate-limits').replaceChildren();
  $('recent-calls').replaceChildren();
  $('range').textContent = '';
  showSignIn(message);
}

// ── loading ────────────────────────────────────────────────────────────────

const unauthorized = (results) =>
  results.find((r) => r.status === 'rejected' && r.reason && r.reason.status === 401);

/** A GET of the API, with the chosen currency (the server adds "<x>InCurrency" beside each amount). */
function read(path) {
  if (state.currency === 'USD') return api(path);
  return api(path + (path.includes('?') ? '&' : '?') + 'currency=' + encodeURIComponent(state.currency));
}

/** The currency block of the first answer that has one (all carry the same rate). */
function currencyOf(results) {
  if (state.currency === 'USD') return null;
  for (const r of results) {
    const block = r.status === 'fulfilled' && r.value ? r.value.currency : null;
    if (block && block.code === state.currency) return block;
  }
  return null;
}

/**
 * Names the rate and its date while amounts are shown in another currency, or why a currency
 * asked for cannot be shown.
 */
function renderCurrencyNote() {
  const note = $('currency-note');
  const fx = state.fx;
  const problem = !fx && state.currencyProblem;
  note.hidden = !fx && !problem;
  note.classList.toggle('form-error', Boolean(problem));
  if (problem) note.setAttribute('role', 'alert');
  else note.removeAttribute('role');
  note.textContent = fx
    ? 'Amounts in ' + fx.code + ' at ' + fx.rate + ' per USD (' +
      (fx.rateDate ? 'rate of ' + fx.rateDate : 'undated rate') + ', ' + fx.rateSource +
      '), rounded to ' + plural(fx.minorDigits, 'decimal') + '; USD is the unit of account.'
    : problem || '';
}

async function load() {
  const generation = ++state.generation;
  const days = state.days;
  const q = '?days=' + days;
  document.body.dataset.state = 'loading';
  $('dashboard-view').setAttribute('aria-busy', 'true');
  const insightsAnswer = settled(read('api/insights' + q));
  const results = await Promise.allSettled([
    read('api/usage/summary' + q),
    read('api/usage/by-agent' + q),
    read('api/usage/by-model' + q),
    read('api/usage/records' + q + '&limit=20'),
    read('api/budgets'),
    api('api/rate-limits'),
  ]);
  if (generation !== state.generation) return;
  state.fx = currencyOf(results);
  renderCurrencyNote();
  const refused = unauthorized(results);
  if (refused) {
    signOut('Your key is no longer accepted: ' + refused.reason.message);
    return;
  }
  const [summary, agents, models, records, budgets, limits] = results;
  const banner = $('banner');
  const failed = [summary, agents, models, records].find((r) => r.status === 'rejected');
  banner.hidden = !failed;
  banner.textContent = failed ? 'Some usage could not be loaded: ' + failed.reason.message : '';
  section(
    summary,
    (value) => {
      renderTotals(value);
      renderDaily(value);
      renderGroups('top-users', value.topUsers, 'userId', 'user', 'Top users by cost');
      if (value.topUsers.length === 0 && value.callsWithoutUser > 0) {
        $('top-users').replaceChildren(
          h('p', {
            class: 'empty',
            'data-testid': 'no-user-ids',
            text:
              'No call in this period has a user id (' +
              plural(value.callsWithoutUser, 'call') +
              ' without one): pass userId when you track a call to see users here.',
          }),
        );
      }
    },
    ['totals', 'daily', 'top-users'],
  );
  section(
    agents,
    (value) => renderGroups('by-agent', value.agents, 'agent', 'agent', 'Cost by agent'),
    ['by-agent'],
  );
  section(
    models,
    (value) => renderGroups('by-model', value.models, 'model', 'model', 'Cost by model'),
    ['by-model'],
  );
  section(records, renderRecords, ['recent-calls']);
  const insights = await insightsAnswer;
  if (generation !== state.generation) return;
  section(insights, renderInsights, ['insights']);
  renderBudgets(budgets);
  renderLimits(limits);
  $('dashboard-view').removeAttribute('aria-busy');
  document.body.dataset.days = String(days);
  document.body.dataset.currency = state.fx ? state.fx.code : 'USD';
  document.body.dataset.state = 'ready';
}

/** A promise's outcome as Promise.allSettled reports it. */
const settled = (promise) =>
  promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason) => ({ status: 'rejected', reason }),
  );

/** Renders a fulfilled answer, or the error in each of the section's containers. */
function section(result, render, ids) {
  if (result.status === 'fulfilled') {
    render(result.value);
    return;
  }
  for (const id of ids) $(id).replaceChildren(problem(result.reason));
}

function problem(error) {
  const unavailable = error.status === 501;
  return h('p', {
    class: unavailable ? 'empty' : 'section-error',
    role: unavailable ? null : 'alert',
    'data-testid': 'section-problem',
    text: unavailable ? error.message.replace(/^./, (c) => c.toUpperCase()) + '.' : error.message,
  });
}

/** Budgets and rate limits again, after a change. */
async function reloadRules() {
  const generation = state.generation;
  const results = await Promise.allSettled([read('api/budgets'), api('api/rate-limits')]);
  if (generation !== state.generation) return;
  const refused = unauthorized(results);
  if (refused) {
    signOut('Your key is no longer accepted: ' + refused.reason.message);
    return;
  }
  renderBudgets(results[0]);
  renderLimits(results[1]);
}

// ── usage ──────────────────────────────────────────────────────────────────

function card(label, value, testid, raw, ...notes) {
  return h(
    'div',
    { class: 'card' },
    h('dt', { text: label }),
    h(
      'dd',
      {},
      h('span', { class: 'card-value', 'data-testid': testid, 'data-value': raw, text: value }),
      notes.length ? h('span', { class: 'card-note' }, notes) : null,
    ),
  );
}

/** "59 calls without a user id", or nothing when every call has one. */
function withoutUserNote(calls) {
  if (!(Number(calls) > 0)) return [];
  return [
    h('span', {
      'data-testid': 'calls-without-user',
      'data-value': calls,
      text: plural(calls, 'call') + ' without a user id',
    }),
  ];
}

function renderTotals(summary) {
  const t = summary.totals;
  const days = summary.days;
  $('range').textContent =
    'Last ' + plural(days, 'day') + ': ' + time(summary.from) + ' to ' + time(summary.to) + ' UTC';
  const number = (testid, value) =>
    h('span', { 'data-testid': testid, 'data-value': value, text: count(value) });
  $('totals').replaceChildren(
    card('Total cost', amount(t, 'cost'), 'total-cost', t.costUsdExact),
    card('Calls', count(t.calls), 'total-calls', t.calls),
    card(
      'Tokens',
      count(t.totalTokens),
      'total-tokens',
      t.totalTokens,
      number('total-input-tokens', t.inputTokens),
      ' in · ',
      number('total-output-tokens', t.outputTokens),
      ' out',
    ),
    card(
      'Average per call',
      amount(summary, 'averageCostPerCall'),
      'average-cost',
      summary.averageCostPerCallUsd,
    ),
    card(
      'Users',
      count(summary.users),
      'total-users',
      summary.users,
      ...withoutUserNote(summary.callsWithoutUser),
    ),
    card('Unpriced calls', count(t.unpricedCalls), 'unpriced-calls', t.unpricedCalls),
  );
}

/** The smallest 1, 2 or 5 × 10^k at or above "value". */
function niceCeiling(value) {
  if (!(value > 0)) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value * (1 - 1e-12)) return step * power;
  return 10 * power;
}

function renderDaily(summary) {
  const from = Date.parse(summary.from);
  const to = Date.parse(summary.to);
  const byDay = new Map(summary.daily.map((bucket) => [bucket.start.slice(0, 10), bucket]));
  const days = [];
  for (let t = Math.floor(from / DAY_MS) * DAY_MS; t < to; t += DAY_MS) {
    const date = new Date(t).toISOString().slice(0, 10);
    days.push({ date, bucket: byDay.get(date) || null });
  }
  const costs = days.map((d) => (d.bucket ? amountNumber(d.bucket, 'cost') : 0));
  const peak = Math.max(0, ...costs);
  const top = niceCeiling(peak);
  const W = 1000;
  const H = 260;
  const left = 64;
  const right = 12;
  const upper = 14;
  const bottom = 30;
  const plotW = W - left - right;
  const plotH = H - upper - bottom;
  const slot = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(48, slot * 0.72));
  const y = (cost) => upper + plotH - (top > 0 ? (cost / top) * plotH : 0);
  // No spend: one $0 line, not three labels on top of each other.
  const grid = (top > 0 ? [0, 0.5, 1] : [0]).map((f) =>
    svg(
      'g',
      { class: 'grid' },
      svg('line', { x1: left, x2: W - right, y1: y(top * f), y2: y(top * f) }),
      svg('text', {
        x: left - 8,
        y: y(top * f) + 4,
        'text-anchor': 'end',
        'data-testid': f === 1 ? 'daily-axis-max' : null,
        'data-value': f === 1 ? top : null,
        text: axisMoney(top * f, top),
      }),
    ),
  );
  const every = Math.ceil(days.length / 10);
  const bars = days.map((day, i) => {
    const cost = costs[i];
    const x = left + slot * i + (slot - barW) / 2;
    const top0 = y(cost);
    const bucket = day.bucket;
    const label =
      day.date +
      ': ' +
      (bucket ? amount(bucket, 'cost') : amount({ costUsdExact: '0', costInCurrency: '0' }, 'cost')) +
      ', ' +
      plural(bucket ? bucket.calls : 0, 'call');
    return svg(
      'g',
      {},
      svg(
        'rect',
        {
          class: 'bar',
          x: x.toFixed(2),
          y: top0.toFixed(2),
          width: barW.toFixed(2),
          height: Math.max(0, upper + plotH - top0).toFixed(2),
          rx: 2,
          'data-testid': 'daily-bar',
          'data-day': day.date,
          'data-value': bucket ? bucket.costUsdExact : '0',
          'data-calls': bucket ? bucket.calls : 0,
        },
        svg('title', { text: label }),
      ),
      i % every === 0 || i === days.length - 1
        ? svg('text', {
            class: 'tick',
            x: (left + slot * i + slot / 2).toFixed(2),
            y: H - 10,
            'text-anchor': 'middle',
            text: day.date.slice(5),
          })
        : null,
    );
  });
  const peakDay = days[costs.indexOf(peak)];
  const description =
    'Cost per day from ' +
    (days[0] ? days[0].date : '') +
    ' to ' +
    (days.length ? days[days.length - 1].date : '') +
    ': total ' +
    amount(summary.totals, 'cost') +
    (peak > 0 && peakDay
      ? '; highest ' + amount(peakDay.bucket, 'cost') + ' on ' + peakDay.date
      : '; no spend');
  $('daily').replaceChildren(
    svg(
      'svg',
      {
        viewBox: '0 0 ' + W + ' ' + H,
        role: 'img',
        'aria-label': description,
        'data-testid': 'daily-chart',
        preserveAspectRatio: 'xMidYMid meet',
      },
      grid,
      bars,
      svg('line', { class: 'axis', x1: left, x2: W - right, y1: upper + plotH, y2: upper + plotH }),
    ),
  );
}

/** Horizontal bars: name, calls, $ and share of the period's cost. */
function renderGroups(id, rows, nameKey, kind, title) {
  const container = $(id);
  if (!rows || rows.length === 0) {
    container.replaceChildren(h('p', { class: 'empty', text: 'No calls in this period.' }));
    return;
  }
  const items = rows.map((row) => {
    const key = row[nameKey];
    const name = key === '' || key === undefined || key === null ? '(none)' : String(key);
    const width = Math.max(0, Math.min(1, Number(row.share) || 0)) * 100;
    return h(
      'li',
      { class: 'hbar', 'data-testid': kind + '-row', 'data-key': key },
      h('span', { class: 'hbar-name', title: name, 'data-testid': kind + '-name', text: name }),
      h('span', {
        class: 'hbar-calls',
        'data-testid': kind + '-calls',
        'data-value': row.calls,
        text: plural(row.calls, 'call'),
      }),
      h('span', {
        class: 'hbar-cost',
        'data-testid': kind + '-cost',
        'data-value': row.costUsdExact,
        text: amount(row, 'cost'),
      }),
      h('span', {
        class: 'hbar-share',
        'data-testid': kind + '-share',
        'data-value': row.share,
        text: percent(row.share),
      }),
      h(
        'span',
        {
          class: 'hbar-track',
          role: 'img',
          'aria-label':
            name + ': ' + amount(row, 'cost') + ', ' + percent(row.share) + ' of cost',
        },
        h('span', { class: 'hbar-fill', style: { width: width.toFixed(2) + '%' } }),
      ),
    );
  });
  container.replaceChildren(h('ol', { class: 'hbars', 'aria-label': title }, items));
}

/** The /api/insights answer: warnings, then suggestions by saving, the first eight. */
function renderInsights(report) {
  const container = $('insights');
  const shown = report.insights.filter(
    (i) => i.severity === 'warning' || (i.savingUsd > 0 && !(i.kind === 'what_if' && !i.agent)),
  );
  if (shown.length === 0) {
    container.replaceChildren(h('p', { class: 'empty', text: 'No suggestions for this period.' }));
    return;
  }
  const items = shown.slice(0, 8).map((i) =>
    h(
      'li',
      { 'data-testid': 'insight-row', 'data-kind': i.kind, class: 'insight ' + i.severity },
      h('span', { class: 'insight-kind', text: i.kind.replace(/_/g, ' ') }),
      ' ',
      h('span', { 'data-testid': 'insight-text', text: i.text }),
      i.savingUsd > 0
        ? h('strong', {
            class: 'insight-saving',
            'data-testid': 'insight-saving',
            'data-value': i.savingUsdExact,
            text: ' save ~' + amount(i, 'saving'),
          })
        : false,
    ),
  );
  container.replaceChildren(h('ul', { class: 'insights', 'aria-label': 'Suggestions' }, items));
}

function renderRecords(page) {
  const records = page.records;
  const container = $('recent-calls');
  if (records.length === 0) {
    container.replaceChildren(h('p', { class: 'empty', text: 'No calls in this period.' }));
    return;
  }
  const text = (value) => (value === undefined || value === null || value === '' ? '—' : value);
  const rows = records.map((r) =>
    h(
      'tr',
      { 'data-testid': 'call-row', 'data-id': r.id },
      h('td', {}, h('time', { datetime: r.time, 'data-testid': 'call-time', text: time(r.time) })),
      h('td', { class: 'wrap', 'data-testid': 'call-user', text: text(r.userId) }),
      h('td', { class: 'wrap', 'data-testid': 'call-agent', text: text(r.agent) }),
      h('td', { class: 'wrap', 'data-testid': 'call-model', text: text(r.model) }),
      h('td', {
        class: 'num',
        title: count(r.inputTokens) + ' in · ' + count(r.outputTokens) + ' out',
        'data-testid': 'call-tokens',
        'data-value': r.totalTokens,
        text: count(r.totalTokens),
      }),
      h(
        'td',
        { class: 'num' },
        r.priced ? null : h('span', { class: 'tag warn', text: 'unpriced' }),
        h('span', {
          'data-testid': 'call-cost',
          'data-value': r.costUsdExact,
          text: amount(r, 'cost'),
        }),
      ),
    ),
  );
  container.replaceChildren(
    h(
      'table',
      { class: 'calls' },
      h('caption', {
        class: 'visually-hidden',
        text: 'The ' + plural(records.length, 'latest call') + ' in the period, newest first',
      }),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time (UTC)', 'User', 'Agent', 'Model', 'Tokens', 'Cost'].map((label, i) =>
            h('th', { scope: 'col', class: i >= 4 ? 'num' : null, text: label }),
          ),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

// ── forms ──────────────────────────────────────────────────────────────────

function select(options, value) {
  return h(
    'select',
    {},
    options.map((option) =>
      h('option', { value: option, selected: option === value, text: option }),
    ),
  );
}

/** A labelled control with its own error slot (the API's 400 message lands there). */
function field(prefix, name, label, control, hint) {
  const id = prefix + '-' + name.replace(/\W/g, '-');
  control.id = id;
  control.name = name;
  control.setAttribute('aria-describedby', id + '-error');
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id, text: label }),
    control,
    hint ? h('span', { class: 'hint', text: hint }) : null,
    h('span', {
      class: 'field-error',
      id: id + '-error',
      'data-testid': 'error-' + name,
      'aria-live': 'polite',
    }),
  );
}

const input = (type, value, attrs) =>
  h('input', { type, value: value === undefined || value === null ? '' : value, ...attrs });

/** The typed number, or the raw text (so the API names what is wrong with it). */
function numberOrRaw(text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : trimmed;
}

function listOrRaw(text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return undefined;
  return trimmed
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map(numberOrRaw);
}

const fieldValue = (form, name) => {
  const control = form.elements.namedItem(name);
  return control ? control.value : '';
};

/** A create form's id and scope; undefined (the error shown) when the id is empty. */
function idAndScope(form) {
  const id = fieldValue(form, 'id').trim();
  if (!id) {
    clearErrors(form);
    showError(form, new ApiError(400, 'invalid_request', 'id: must not be empty'));
    return undefined;
  }
  const scope = { kind: fieldValue(form, 'scope.kind') };
  const scopeId = fieldValue(form, 'scope.id').trim();
  if (scopeId) scope.id = scopeId;
  return { id, scope };
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll('.field-error, .form-error')) slot.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) {
    control.removeAttribute('aria-invalid');
  }
}

/** Puts an API error next to the field it names ("limitUsd: …", "alertAt.1: …"), or on the form. */
function showError(form, error) {
  const path = error.status === 400 ? error.message.split(':')[0].trim() : '';
  const parts = path ? path.split('.') : [];
  for (let n = parts.length; n > 0; n--) {
    const control = form.elements.namedItem(parts.slice(0, n).join('.'));
    if (control?.id) {
      $(control.id + '-error').textContent = error.message;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
      return;
    }
  }
  form.querySelector('.form-error').textContent = error.message;
}

/** Sends a change; on success reloads the rules and announces "done". */
async function send(form, method, path, body, done) {
  clearErrors(form);
  const buttons = [...form.querySelectorAll('button')];
  for (const button of buttons) button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await api(path, { method, body });
  } catch (error) {
    for (const button of buttons) button.disabled = false;
    form.removeAttribute('aria-busy');
    if (error.status === 401) signOut('Your key is no longer accepted: ' + error.message);
    else showError(form, error);
    return;
  }
  announce(done);
  await reloadRules();
}

function actions(form, saveLabel, path, removable) {
  const buttons = [h('button', { type: 'submit', 'data-testid': 'save', text: saveLabel })];
  if (removable) {
    const remove = h('button', {
      type: 'button',
      class: 'danger',
      'data-testid': 'delete',
      text: 'Delete',
    });
    let timer;
    remove.addEventListener('click', () => {
      if (remove.dataset.armed !== 'true') {
        remove.dataset.armed = 'true';
        remove.textContent = 'Confirm delete';
        timer = setTimeout(() => {
          remove.dataset.armed = 'false';
          remove.textContent = 'Delete';
        }, 6000);
        return;
      }
      clearTimeout(timer);
      send(form, 'DELETE', path, undefined, 'Deleted ' + removable);
    });
    buttons.push(remove);
  }
  return h(
    'div',
    { class: 'form-actions' },
    buttons,
    h('p', { class: 'form-error', role: 'alert', 'data-testid': 'form-error' }),
  );
}

// ── budgets ────────────────────────────────────────────────────────────────

function scopeText(scope) {
  if (!scope || scope.kind === 'global') return 'global';
  if (scope.id === undefined || scope.id === null) return 'each ' + scope.kind;
  return scope.kind + ' ' + scope.id;
}

function levelOf(utilization, alerts) {
  if (utilization >= 1) return 'over';
  return alerts.some((a) => utilization >= a) ? 'warn' : 'ok';
}

function meter(utilization, alerts, label) {
  const u = Number(utilization) || 0;
  const marks = alerts.map((a) =>
    h('span', {
      class: 'mark' + (u >= a ? ' crossed' : ''),
      title: 'alert at ' + shortPercent(a),
      'data-testid': 'budget-mark',
      'data-value': a,
      style: { left: Math.min(100, a * 100).toFixed(2) + '%' },
    }),
  );
  return h(
    'div',
    {
      class: 'meter',
      role: 'img',
      'aria-label':
        label +
        ': ' +
        percent(u) +
        ' used' +
        (alerts.length ? '; alerts at ' + alerts.map(shortPercent).join(', ') : ''),
    },
    h('span', { class: 'meter-fill', style: { width: (Math.min(1, u) * 100).toFixed(2) + '%' } }),
    marks,
  );
}

/** A list of rules (budgets or rate limits): the items, or why there are none, and a form. */
function renderRules(containerId, result, itemsOf, renderItem, emptyText, form) {
  const container = $(containerId);
  if (result.status === 'rejected') {
    container.replaceChildren(problem(result.reason));
    return;
  }
  const admin = state.role === 'admin';
  const items = itemsOf(result.value);
  container.replaceChildren(
    items.length
      ? h(
          'ul',
          { class: 'rules' },
          items.map((item) => renderItem(item, admin)),
        )
      : h('p', { class: 'empty', text: emptyText }),
    // replaceChildren writes null as the text "null": a viewer (no form) gets nothing here.
    ...(form ? [form()] : []),
  );
}

function renderBudgets(result) {
  renderRules(
    'budgets',
    result,
    (value) => value.budgets,
    budgetItem,
    'No budgets.',
    state.role === 'admin' ? newBudgetForm : null,
  );
  // The ledger's own month, for keys that see the whole ledger.
  const overall = result.status === 'fulfilled' ? result.value.ledgerForecast : null;
  if (overall) {
    const line = forecastLine(overall);
    line.setAttribute('data-testid', 'ledger-forecast');
    line.prepend('Whole ledger this month: spent ' + amount(overall, 'spent') + ' · ');
    $('budgets').append(line);
  }
}

function budgetItem(b, admin) {
  const alerts = Array.isArray(b.alertAt) ? b.alertAt.map(Number) : [];
  const status = b.status;
  const limit = h('span', {
    'data-testid': 'budget-limit',
    'data-value': b.limitUsd,
    text: amount(b, 'limit'),
  });
  let details;
  if (status) {
    details = [
      h(
        'p',
        { class: 'rule-numbers' },
        h('strong', {
          'data-testid': 'budget-utilization',
          'data-value': status.utilization,
          text: percent(status.utilization),
        }),
        ' used · ',
        h('span', {
          'data-testid': 'budget-spent',
          'data-value': status.spentUsdExact,
          text: amount(status, 'spent'),
        }),
        ' of ',
        limit,
        status.resetsAt
          ? h(
              'span',
              { class: 'muted' },
              ' · resets ',
              h('time', { datetime: status.resetsAt, text: time(status.resetsAt) + ' UTC' }),
            )
          : null,
      ),
      meter(status.utilization, alerts, 'Budget ' + b.id),
      alerts.length
        ? h('p', { class: 'hint', text: 'Alerts at ' + alerts.map(shortPercent).join(' · ') })
        : null,
    ];
  } else {
    details = h(
      'p',
      { class: 'rule-numbers' },
      'Limit ',
      limit,
      h('span', {
        class: 'muted',
        text:
          b.window === 'request'
            ? ' · checked on each call, no running spend'
            : ' · applies to each ' + b.scope.kind + ' separately, no single spend',
      }),
    );
  }
  const level = status ? levelOf(Number(status.utilization) || 0, alerts) : 'none';
  return h(
    'li',
    { class: 'rule level-' + level, 'data-testid': 'budget', 'data-id': b.id },
    h(
      'div',
      { class: 'rule-head' },
      h('h3', { text: b.id }),
      h('span', { class: 'tag', text: scopeText(b.scope) }),
      h('span', { class: 'tag', text: 'per ' + b.window }),
      h('span', { class: 'tag', text: b.mode }),
    ),
    details,
    b.forecast ? forecastLine(b.forecast, b.scope && b.scope.id === undefined && b.scope.kind !== 'global') : null,
    admin ? budgetForm(b) : null,
  );
}

/**
 * A rule's forecast: the projection to the window's end, its range, and the run-out date; for a
 * rule over every user (tenant…), whose projection is highest and how many pass the limit.
 */
function forecastLine(f, everyEntity) {
  return h(
    'p',
    { class: 'hint', 'data-testid': 'budget-forecast', 'data-over': f.overLimit ? 'true' : 'false' },
    everyEntity && f.entity
      ? h(
          'span',
          { 'data-testid': 'budget-forecast-entity' },
          'Highest of ' + f.entities + ': ' + f.entity +
            (f.entitiesOverLimit ? ' (' + f.entitiesOverLimit + ' projected past the limit)' : '') +
            ' · ',
        )
      : null,
    'Projected ',
    h('strong', { 'data-testid': 'budget-projected', text: amount(f, 'projected') }),
    ' (' + amount(f, 'projectedLow') + '–' + amount(f, 'projectedHigh') + ') by ',
    h('time', { datetime: f.windowEnd, text: time(f.windowEnd) + ' UTC' }),
    f.runOutAt
      ? h(
          'span',
          { 'data-testid': 'budget-runout' },
          ' · runs out ',
          h('time', { datetime: f.runOutAt, text: time(f.runOutAt) + ' UTC' }),
        )
      : null,
  );
}

function budgetForm(b) {
  const prefix = 'budget' + ++formCount;
  const form = h(
    'form',
    {
      class: 'rule-form',
      novalidate: true,
      'aria-label': 'Edit budget ' + b.id,
      'data-testid': 'budget-form',
    },
    h(
      'div',
      { class: 'fields' },
      field(
        prefix,
        'limitUsd',
        'Limit (USD)',
        input('number', plainDecimal(b.limitUsd), { step: 'any', min: '0' }),
      ),
      field(prefix, 'window', 'Window', select(BUDGET_WINDOWS, b.window)),
      field(prefix, 'mode', 'Mode', select(BUDGET_MODES, b.mode)),
      field(
        prefix,
        'alertAt',
        'Alert at',
        input('text', (b.alertAt || []).join(', '), { placeholder: '0.5, 0.8, 0.95' }),
      ),
    ),
  );
  form.append(actions(form, 'Save', 'api/budgets/' + encodeURIComponent(b.id), 'budget ' + b.id));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      scope: b.scope,
      window: fieldValue(form, 'window'),
      limitUsd: numberOrRaw(fieldValue(form, 'limitUsd')),
      mode: fieldValue(form, 'mode'),
    };
    const alertAt = listOrRaw(fieldValue(form, 'alertAt'));
    if (alertAt !== undefined) body.alertAt = alertAt;
    if (b.timeZone !== undefined) body.timeZone = b.timeZone;
    if (b.adaptive !== undefined) body.adaptive = b.adaptive;
    send(form, 'PUT', 'api/budgets/' + encodeURIComponent(b.id), body, 'Saved budget ' + b.id);
  });
  return form;
}

function newBudgetForm() {
  const prefix = 'budget' + ++formCount;
  const kinds = state.tenantId === null ? BUDGET_SCOPES : ['tenant'];
  const form = h(
    'form',
    { class: 'rule-form new', novalidate: true, 'data-testid': 'new-budget-form' },
    h('h3', { text: 'New budget' }),
    h(
      'div',
      { class: 'fields' },
      field(
        prefix,
        'id',
        'Id',
        input('text', '', { autocomplete: 'off', placeholder: 'team-month' }),
      ),
      field(prefix, 'scope.kind', 'Scope', select(kinds, kinds[0])),
      field(
        prefix,
        'scope.id',
        'Scope id',
        input('text', state.tenantId === null ? '' : state.tenantId, { autocomplete: 'off' }),
        'empty: every one',
      ),
      field(prefix, 'window', 'Window', select(BUDGET_WINDOWS, 'month')),
      field(prefix, 'limitUsd', 'Limit (USD)', input('number', '', { step: 'any', min: '0' })),
      field(prefix, 'mode', 'Mode', select(BUDGET_MODES, 'hard')),
      field(prefix, 'alertAt', 'Alert at', input('text', '', { placeholder: '0.5, 0.8, 0.95' })),
    ),
  );
  form.append(actions(form, 'Create budget', '', false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const named = idAndScope(form);
    if (!named) return;
    const { id, scope } = named;
    const body = {
      scope,
      window: fieldValue(form, 'window'),
      limitUsd: numberOrRaw(fieldValue(form, 'limitUsd')),
      mode: fieldValue(form, 'mode'),
    };
    const alertAt = listOrRaw(fieldValue(form, 'alertAt'));
    if (alertAt !== undefined) body.alertAt = alertAt;
    send(form, 'PUT', 'api/budgets/' + encodeURIComponent(id), body, 'Saved budget ' + id);
  });
  return form;
}

// ── rate limits ────────────────────────────────────────────────────────────

function renderLimits(result) {
  const serverWide = state.tenantId === null;
  renderRules(
    'rate-limits',
    result,
    (value) => value.rateLimits,
    limitItem,
    serverWide ? 'No rate limits.' : 'Rate limits are server-wide: a tenant key sees none.',
    state.role === 'admin' && serverWide ? newLimitForm : null,
  );
}

function perMinute(value, testid, unit) {
  if (value === undefined || value === null) return null;
  return h(
    'span',
    {},
    h('strong', { 'data-testid': testid, 'data-value': value, text: count(value) }),
    ' ' + unit + ' per minute',
  );
}

function limitItem(l, admin) {
  const parts = [
    perMinute(l.requestsPerMinute, 'limit-rpm', 'requests'),
    perMinute(l.tokensPerMinute, 'limit-tpm', 'tokens'),
  ].filter(Boolean);
  return h(
    'li',
    { class: 'rule', 'data-testid': 'rate-limit', 'data-id': l.id },
    h(
      'div',
      { class: 'rule-head' },
      h('h3', { text: l.id }),
      h('span', { class: 'tag', text: scopeText(l.scope) }),
    ),
    h(
      'p',
      { class: 'rule-numbers' },
      parts.flatMap((part, i) => (i ? [' · ', part] : [part])),
    ),
    admin ? limitForm(l) : null,
  );
}

function limitBody(form, scope) {
  const body = { scope };
  const rpm = numberOrRaw(fieldValue(form, 'requestsPerMinute'));
  const tpm = numberOrRaw(fieldValue(form, 'tokensPerMinute'));
  if (rpm !== null) body.requestsPerMinute = rpm;
  if (tpm !== null) body.tokensPerMinute = tpm;
  return body;
}

function limitFields(prefix, l) {
  return [
    field(
      prefix,
      'requestsPerMinute',
      'Requests per minute',
      input('number', l ? l.requestsPerMinute : '', { step: '1', min: '1' }),
    ),
    field(
      prefix,
      'tokensPerMinute',
      'Tokens per minute',
      input('number', l ? l.tokensPerMinute : '', { step: '1', min: '1' }),
    ),
  ];
}

function limitForm(l) {
  const prefix = 'limit' + ++formCount;
  const path = 'api/rate-limits/' + encodeURIComponent(l.id);
  const form = h(
    'form',
    {
      class: 'rule-form',
      novalidate: true,
      'aria-label': 'Edit rate limit ' + l.id,
      'data-testid': 'rate-limit-form',
    },
    h('div', { class: 'fields' }, limitFields(prefix, l)),
  );
  form.append(actions(form, 'Save', path, 'rate limit ' + l.id));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(form, 'PUT', path, limitBody(form, l.scope), 'Saved rate limit ' + l.id);
  });
  return form;
}

function newLimitForm() {
  const prefix = 'limit' + ++formCount;
  const form = h(
    'form',
    { class: 'rule-form new', novalidate: true, 'data-testid': 'new-rate-limit-form' },
    h('h3', { text: 'New rate limit' }),
    h(
      'div',
      { class: 'fields' },
      field(
        prefix,
        'id',
        'Id',
        input('text', '', { autocomplete: 'off', placeholder: 'per-user' }),
      ),
      field(prefix, 'scope.kind', 'Scope', select(LIMIT_SCOPES, 'user')),
      field(
        prefix,
        'scope.id',
        'Scope id',
        input('text', '', { autocomplete: 'off' }),
        'empty: every one',
      ),
      limitFields(prefix, null),
    ),
  );
  form.append(actions(form, 'Create rate limit', '', false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const named = idAndScope(form);
    if (!named) return;
    const { id, scope } = named;
    send(
      form,
      'PUT',
      'api/rate-limits/' + encodeURIComponent(id),
      limitBody(form, scope),
      'Saved rate limit ' + id,
    );
  });
  return form;
}

// ── start ──────────────────────────────────────────────────────────────────

function start() {
  const saved = Number(sessionStorage.getItem(DAYS_STORAGE));
  if (PERIODS.includes(saved)) state.days = saved;
  const days = $('days');
  days.value = String(state.days);
  days.addEventListener('change', () => {
    const value = Number(days.value);
    if (!PERIODS.includes(value)) return;
    state.days = value;
    sessionStorage.setItem(DAYS_STORAGE, String(value));
    load();
  });
  $('currency').addEventListener('change', () => {
    state.currency = $('currency').value;
    state.currencyProblem = null;
    sessionStorage.setItem(CURRENCY_STORAGE, state.currency);
    // The address says the currency shown, so a copied link shows the same.
    const url = new URL(location.href);
    if (state.currency === 'USD') url.searchParams.delete('currency');
    else url.searchParams.set('currency', state.currency);
    history.replaceState(null, '', url);
    load();
  });
  $('refresh').addEventListener('click', () => load());
  $('signout').addEventListener('click', () => signOut(''));
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    enter($('api-key').value.trim(), false);
  });
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) enter(key, true);
  else showSignIn('');
}

start();
`;
