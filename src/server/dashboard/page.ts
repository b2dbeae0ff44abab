/**
 * The dashboard's HTML shell, served at `/`. It holds no data: the script asks for an API key,
 * then fills the page from the API. `{{css}}` and `{{js}}` become the versioned asset URLs.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>tollgate · usage and cost</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{css}}">
<script type="module" src="{{js}}"></script>
</head>
<body data-state="starting">
<header class="topbar">
  <div class="brand">
    <h1>tollgate</h1>
    <span class="muted">usage and cost</span>
  </div>
  <div class="controls" id="controls" hidden>
    <label for="days">Period</label>
    <select id="days" data-testid="days">
      <option value="1">Last day</option>
      <option value="7">Last 7 days</option>
      <option value="30">Last 30 days</option>
    </select>
    <label for="currency">Currency</label>
    <select id="currency" data-testid="currency">
      <option value="USD">USD</option>
    </select>
    <button type="button" id="refresh" class="secondary">Refresh</button>
    <span id="who" class="who" data-testid="role"></span>
    <button type="button" id="signout" class="secondary">Sign out</button>
  </div>
</header>
<main id="main">
  <section id="signin-view" class="signin panel" aria-labelledby="signin-title" hidden>
    <h2 id="signin-title">Sign in</h2>
    <form id="signin-form" novalidate>
      <label for="api-key">API key or token</label>
      <input id="api-key" name="key" type="password" autocomplete="off" spellcheck="false"
        required aria-describedby="signin-help signin-error">
      <p id="signin-help" class="hint">Kept in this browser tab only (sessionStorage) and sent
        to this server's API as a bearer token.</p>
      <p id="signin-error" class="form-error" role="alert" data-testid="signin-error"></p>
      <div><button type="submit">Open dashboard</button></div>
    </form>
  </section>

  <div id="dashboard-view" hidden>
    <p id="range" class="range" data-testid="range"></p>
    <p id="currency-note" class="hint" data-testid="currency-note" hidden></p>
    <p id="banner" class="banner" role="alert" hidden></p>

    <section aria-labelledby="totals-title">
      <h2 id="totals-title" class="visually-hidden">Totals</h2>
      <dl id="totals" class="cards"></dl>
    </section>

    <section class="panel" aria-labelledby="daily-title">
      <h2 id="daily-title">Cost per day <span class="muted">(UTC)</span></h2>
      <div id="daily" class="chart"></div>
    </section>

    <div class="grid3">
      <section class="panel" aria-labelledby="agents-title">
        <h2 id="agents-title">Cost by agent</h2>
        <div id="by-agent"></div>
      </section>
      <section class="panel" aria-labelledby="models-title">
        <h2 id="models-title">Cost by model</h2>
        <div id="by-model"></div>
      </section>
      <section class="panel" aria-labelledby="users-title">
        <h2 id="users-title">Top users</h2>
        <div id="top-users"></div>
      </section>
    </div>

    <section class="panel" aria-labelledby="budgets-title">
      <h2 id="budgets-title">Budgets</h2>
      <div id="budgets"></div>
    </section>

    <section class="panel" aria-labelledby="limits-title">
      <h2 id="limits-title">Rate limits</h2>
      <div id="rate-limits"></div>
    </section>

    <section class="panel" aria-labelledby="insights-title">
      <h2 id="insights-title">Suggestions</h2>
      <div id="insights"></div>
    </section>

    <section class="panel" aria-labelledby="calls-title">
      <h2 id="calls-title">Recent calls</h2>
      <div id="recent-calls" class="table-wrap"></div>
    </section>
  </div>
  <p id="status" class="toast" role="status" data-testid="status"></p>
</main>
<noscript><p>This dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
