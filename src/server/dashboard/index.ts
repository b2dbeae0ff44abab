/**
 * The dashboard: `GET /` (the page), `GET /dashboard/app.js` and `/dashboard/app.css` (its
 * assets, served from this package, no CDN) and `GET /dashboard/session` (who the key is: role
 * and tenant, so the page shows edit controls to admins only). The page and its assets need no
 * credentials: they hold no data. The page asks for an API key, keeps it in sessionStorage and
 * calls the API with it; the session route is authenticated like the API.
 */
import { createHash } from 'node:crypto';
import { json, notFound } from '../errors.js';
import type { RouteContext, RouteHandler } from '../types.js';
import { CLIENT_JS } from './client.js';
import { PAGE_HTML } from './page.js';
import { STYLES_CSS } from './styles.js';

interface Asset {
  body: string;
  type: string;
  /** A strong validator: the content's SHA-256. */
  etag: string;
  /** The `?v=` the page links with; a request carrying it may be cached for good. */
  version: string;
}

function asset(body: string, type: string): Asset {
  const digest = createHash('sha256').update(body).digest('hex');
  return { body, type, etag: `"${digest.slice(0, 32)}"`, version: digest.slice(0, 12) };
}

const SCRIPT = asset(CLIENT_JS, 'text/javascript; charset=utf-8');
const STYLES = asset(STYLES_CSS, 'text/css; charset=utf-8');

/** The assets under /dashboard/, by name. */
const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['app.js', SCRIPT],
  ['app.css', STYLES],
]);

// Relative URLs: the page keeps working when the handler is mounted under a path prefix.
const PAGE = asset(
  PAGE_HTML.replace('{{css}}', `dashboard/app.css?v=${STYLES.version}`).replace(
    '{{js}}',
    `dashboard/app.js?v=${SCRIPT.version}`,
  ),
  'text/html; charset=utf-8',
);

/** Same-origin only: no inline script or style, no third-party anything. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Answers with `asset`, or 304 when the client already holds this version. */
function send(ctx: RouteContext, file: Asset, cacheControl: string, extra: Record<string, string>) {
  const headers: Record<string, string> = {
    etag: file.etag,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    ...extra,
  };
  const held = ctx.request.headers.get('if-none-match');
  if (held?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(file.body, { headers: { 'content-type': file.type, ...headers } });
}

/** GET / : the page. Revalidated on every load, so a new version's asset links are picked up. */
export const dashboardPage: RouteHandler = async (ctx) =>
  send(ctx, PAGE, 'no-cache', {
    'content-security-policy': CSP,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });

/** GET /dashboard/:asset : the script and the stylesheet. */
export const dashboardAsset: RouteHandler = async (ctx) => {
  const name = ctx.params.asset ?? '';
  const file = ASSETS.get(name);
  if (!file) throw notFound(`no dashboard asset ${JSON.stringify(name)}`);
  const versioned = ctx.url.searchParams.get('v') === file.version;
  return send(ctx, file, versioned ? 'public, max-age=31536000, immutable' : 'no-cache', {});
};

/**
 * GET /dashboard/session (authenticated): the role and tenant of the caller's key, and the
 * currencies this server has rates for (the dashboard's currency choices), each with its date.
 */
export const dashboardSession: RouteHandler = async (ctx) => {
  const { role, tenantId, subject, via } = ctx.credential;
  const currencies = Object.entries(ctx.app.fxRates ?? {})
    .map(([code, rate]) => ({ code, rate: rate.text, rateDate: rate.date ?? null }))
    .sort((a, b) => a.code.localeCompare(b.code));
  return json({ role, tenantId: tenantId ?? null, subject, via, currencies }, 200, {
    'cache-control': 'no-store',
  });
};
