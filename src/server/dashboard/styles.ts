/** The dashboard's stylesheet, served at /dashboard/app.css (a string, so it ships in dist). */
export const STYLES_CSS = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1b1f24;
  --muted: #5b6470;
  --line: #dde1e6;
  --accent: #2f6fde;
  --accent-soft: #dbe6fb;
  --ok: #1f8a4c;
  --warn: #b76e00;
  --over: #c62f2f;
  --focus: #1d5fd1;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
    "Liberation Sans", sans-serif;
  font-size: 15px;
  line-height: 1.45;
}

@media (prefers-color-scheme: dark) {
  :root {
    --bg: #121417;
    --panel: #1b1e23;
    --text: #e6e8eb;
    --muted: #9aa3ad;
    --line: #2e333a;
    --accent: #6b9cf0;
    --accent-soft: #24324a;
    --ok: #4cc47f;
    --warn: #e3a43a;
    --over: #f06a6a;
    --focus: #8fb4f5;
  }
}

* {
  box-sizing: border-box;
}

[hidden] {
  display: none !important;
}

body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
}

h1,
h2,
h3 {
  margin: 0;
  line-height: 1.25;
}

h2 {
  font-size: 1.05rem;
  margin-bottom: 0.75rem;
}

h3 {
  font-size: 0.98rem;
}

.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}

.muted,
.hint {
  color: var(--muted);
}

.hint {
  font-size: 0.85rem;
}

:focus-visible {
  outline: 2px solid var(--focus);
  outline-offset: 2px;
}

button,
input,
select {
  font: inherit;
  color: inherit;
}

button {
  cursor: pointer;
  border: 1px solid var(--accent);
  background: var(--accent);
  color: #fff;
  border-radius: 6px;
  padding: 0.35rem 0.85rem;
}

button:disabled {
  opacity: 0.6;
  cursor: progress;
}

button.secondary {
  background: transparent;
  color: var(--accent);
}

button.danger {
  background: transparent;
  border-color: var(--over);
  color: var(--over);
}

button.danger[data-armed="true"] {
  background: var(--over);
  color: #fff;
}

input,
select {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 6px;
  padding: 0.3rem 0.5rem;
  min-width: 0;
}

input[aria-invalid="true"] {
  border-color: var(--over);
}

/* ── layout ── */

.topbar {
  display: flex;
  flex-wrap: wrap;
  gap: 0.75rem 1.5rem;
  align-items: center;
  justify-content: space-between;
  padding: 0.8rem 1.5rem;
  background: var(--panel);
  border-bottom: 1px solid var(--line);
}

.brand {
  display: flex;
  align-items: baseline;
  gap: 0.6rem;
}

.brand h1 {
  font-size: 1.25rem;
}

.controls {
  display: flex;
  flex-wrap: wrap;
  gap: 0.6rem;
  align-items: center;
}

.who {
  font-size: 0.85rem;
  padding: 0.15rem 0.6rem;
  border-radius: 999px;
  background: var(--accent-soft);
}

main {
  max-width: 1240px;
  margin: 0 auto;
  padding: 1.25rem 1.5rem 3rem;
}

.range {
  margin: 0 0 1rem;
  color: var(--muted);
}

.banner,
.section-error {
  color: var(--over);
}

.banner {
  border: 1px solid var(--over);
  border-radius: 8px;
  padding: 0.6rem 0.9rem;
  background: var(--panel);
}

.panel {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 10px;
  padding: 1rem 1.15rem;
  margin-bottom: 1.25rem;
  min-width: 0;
}

.grid3 {
  display: grid;
  grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
  gap: 1.25rem;
  margin-bottom: 1.25rem;
}

.grid3 .panel {
  margin-bottom: 0;
}

.empty {
  color: var(--muted);
  margin: 0.25rem 0;
}

.insights {
  margin: 0;
  padding-left: 1.1rem;
}
.insight {
  margin: 0.3rem 0;
}
.insight-kind {
  color: var(--muted);
  font-size: 0.85em;
  text-transform: uppercase;
}
.insight.warning .insight-kind {
  color: var(--warn);
}

/* ── sign in ── */

.signin {
  max-width: 440px;
  margin: 4rem auto;
}

.signin form {
  display: grid;
  gap: 0.5rem;
}

.signin p {
  margin: 0;
}

/* ── totals ── */

.cards {
  display: grid;
  grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
  gap: 0.9rem;
  margin: 0 0 1.25rem;
}

.card {
  background: var(--panel);
  border: 1px solid var(--line);
  border-radius: 10px;
  padding: 0.8rem 1rem;
}

.card dt {
  color: var(--muted);
  font-size: 0.85rem;
}

.card dd {
  margin: 0.2rem 0 0;
}

.card-value {
  display: block;
  font-size: 1.45rem;
  font-weight: 650;
  font-variant-numeric: tabular-nums;
}

.card-note {
  display: block;
  font-size: 0.8rem;
  color: var(--muted);
}

/* ── charts ── */

.chart svg {
  display: block;
  width: 100%;
  height: auto;
  max-height: 300px;
}

.chart .bar {
  fill: var(--accent);
}

.chart .bar:hover {
  opacity: 0.8;
}

.chart .grid line {
  stroke: var(--line);
  stroke-dasharray: 3 3;
}

.chart .axis {
  stroke: var(--muted);
}

.chart text {
  fill: var(--muted);
  font-size: 11px;
  font-variant-numeric: tabular-nums;
}

.hbars {
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  gap: 0.65rem;
}

.hbar {
  display: grid;
  grid-template-columns: minmax(0, 1fr) auto auto auto;
  column-gap: 0.6rem;
  row-gap: 0.25rem;
  align-items: baseline;
  font-variant-numeric: tabular-nums;
}

.hbar-name {
  /* Long model and agent names wrap at any character: never clipped. */
  overflow-wrap: anywhere;
  min-width: 0;
  font-weight: 550;
}

.hbar-calls {
  color: var(--muted);
  font-size: 0.85rem;
}

.hbar-cost {
  font-weight: 600;
  text-align: right;
}

.hbar-share {
  color: var(--muted);
  min-width: 4.5em;
  text-align: right;
}

.hbar-track {
  grid-column: 1 / -1;
  display: block;
  height: 8px;
  border-radius: 4px;
  background: var(--accent-soft);
  overflow: hidden;
}

.hbar-fill {
  display: block;
  height: 100%;
  background: var(--accent);
  border-radius: 4px;
}

/* ── rules (budgets, rate limits) ── */

.rules {
  list-style: none;
  margin: 0;
  padding: 0;
  display: grid;
  gap: 0.9rem;
}

.rule {
  border: 1px solid var(--line);
  border-left: 4px solid var(--line);
  border-radius: 8px;
  padding: 0.75rem 0.9rem;
}

.rule.level-ok {
  border-left-color: var(--ok);
}

.rule.level-warn {
  border-left-color: var(--warn);
}

.rule.level-over {
  border-left-color: var(--over);
}

.rule-head {
  display: flex;
  flex-wrap: wrap;
  gap: 0.4rem 0.6rem;
  align-items: center;
}

.rule-head h3 {
  margin-right: 0.25rem;
  overflow-wrap: anywhere;
}

.tag {
  font-size: 0.78rem;
  padding: 0.05rem 0.5rem;
  border-radius: 999px;
  border: 1px solid var(--line);
  color: var(--muted);
  white-space: nowrap;
}

.tag.warn {
  border-color: var(--warn);
  color: var(--warn);
  margin-right: 0.4rem;
}

.rule-numbers {
  margin: 0.45rem 0 0.4rem;
  font-variant-numeric: tabular-nums;
}

.rule .hint {
  margin: 0.3rem 0 0;
}

.meter {
  position: relative;
  height: 12px;
  border-radius: 6px;
  background: var(--accent-soft);
}

.meter-fill {
  display: block;
  height: 100%;
  border-radius: 6px;
  background: var(--ok);
}

.level-warn .meter-fill {
  background: var(--warn);
}

.level-over .meter-fill {
  background: var(--over);
}

.meter .mark {
  position: absolute;
  top: -3px;
  bottom: -3px;
  width: 2px;
  margin-left: -1px;
  background: var(--text);
  opacity: 0.55;
}

.meter .mark.crossed {
  opacity: 0.9;
}

.rule-form {
  margin-top: 0.75rem;
  padding-top: 0.75rem;
  border-top: 1px dashed var(--line);
}

.rule-form:not(.new) {
  display: flex;
  flex-wrap: wrap;
  gap: 0.6rem 0.9rem;
  align-items: flex-start;
}

/* In line with the inputs: below their labels (0.82rem × 1.45 line height, plus the gap). */
.rule-form:not(.new) .form-actions {
  margin-top: calc(0.82rem * 1.45 + 0.15rem);
}

.rule-form.new {
  margin-top: 1rem;
  border: 1px dashed var(--line);
  border-radius: 8px;
  padding: 0.75rem 0.9rem;
}

.rule-form.new h3 {
  margin-bottom: 0.5rem;
}

.fields {
  display: flex;
  flex-wrap: wrap;
  gap: 0.6rem 0.9rem;
  align-items: flex-start;
}

.field {
  display: grid;
  gap: 0.15rem;
  width: 11rem;
}

.field label {
  font-size: 0.82rem;
  color: var(--muted);
}

.field-error,
.form-error {
  color: var(--over);
  font-size: 0.82rem;
}

.field-error:empty,
.form-error:empty {
  display: none;
}

.form-actions {
  display: flex;
  flex-wrap: wrap;
  gap: 0.5rem;
  align-items: center;
  margin-top: 0.6rem;
}

.form-actions .form-error {
  margin: 0;
}

.toast {
  position: fixed;
  right: 1rem;
  bottom: 1rem;
  margin: 0;
  padding: 0.5rem 0.9rem;
  border-radius: 8px;
  background: var(--text);
  color: var(--bg);
}

.toast:empty {
  display: none;
}

/* ── recent calls ── */

.table-wrap {
  overflow-x: auto;
}

table.calls {
  width: 100%;
  border-collapse: collapse;
  font-variant-numeric: tabular-nums;
}

.calls th,
.calls td {
  text-align: left;
  padding: 0.4rem 0.6rem;
  border-bottom: 1px solid var(--line);
  white-space: nowrap;
}

.calls th {
  font-size: 0.82rem;
  color: var(--muted);
  font-weight: 600;
}

.calls td.wrap {
  white-space: normal;
  overflow-wrap: anywhere;
  min-width: 12ch;
}

.calls .num {
  text-align: right;
}

.calls tbody tr:hover {
  background: var(--accent-soft);
}
`;
