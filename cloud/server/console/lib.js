// Shared parts of the Rampart console: the API client, DOM builders,
// formatting, the error banner and the SVG plots.
//
// Every server value reaches the DOM as a text node or an attribute value
// (never through innerHTML), so nothing the server sends is parsed as HTML.

// ---------------------------------------------------------------------------
// API client

/** An error answer of the API: `{"error": CODE, "message": TEXT}`. */
export class ApiError extends Error {
  constructor(status, body) {
    const code = (body && body.error) || `http_${status}`;
    const msg = (body && body.message) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.code = code;
    this.diagnostics = (body && Array.isArray(body.diagnostics)) ? body.diagnostics : [];
  }
}

export const session = {
  user: null,
  csrf: null,
  app: null,
  apps: [],
  /** Called when the API answers 401 (the session ended). */
  onUnauthorized: () => {},
  get isAdmin() {
    return Boolean(this.user && this.user.role === 'admin');
  },
};

/**
 * One API call. `path` is below /api/v1. JSON in and out; 204 gives null;
 * text answers (exports) give a string. Non-GET calls carry the CSRF token.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) {
    headers['X-CSRF-Token'] = session.csrf;
  }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (e) {
    throw new ApiError(0, { error: 'network', message: `cannot reach the server (${e.message})` });
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json') && !type.includes('ndjson')) {
    data = await res.json().catch(() => null);
  } else {
    data = await res.text();
  }
  if (!res.ok) {
    const err = new ApiError(res.status, typeof data === 'object' ? data : { message: String(data || '').slice(0, 300) });
    if (res.status === 401 && !opts.quiet401) session.onUnauthorized(err);
    throw err;
  }
  return data;
}

/** The path of the selected application: `/apps/NAME`. */
export function appPath(rest = '') {
  return `/apps/${encodeURIComponent(session.app || '')}${rest}`;
}

/** A query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ---------------------------------------------------------------------------
// DOM builders

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'disabled' || k === 'selected') {
      el[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

/** An HTML element: h('a', {href: '#/x', class: 'c'}, 'text', child...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A link inside the console: `href` is a hash route like `#/attacks/3`. */
export function link(route, text, attrs = {}) {
  return h('a', { href: route, ...attrs }, text);
}

/** `#/section/ID` with the id encoded. */
export function route(section, id) {
  return id === undefined ? `#/${section}` : `#/${section}/${encodeURIComponent(String(id))}`;
}

const BADGE_KINDS = {
  ok: 'good', blocking: 'bad', block: 'bad', blocked: 'bad', down: 'bad', critical: 'bad', high: 'bad',
  stale: 'warn', monitoring: 'warn', monitor: 'warn', medium: 'warn', changed: 'warn', open: 'bad',
  acknowledged: 'warn', resolved: 'good', false_positive: 'muted', disabled: 'muted', never: 'muted',
  gone: 'muted', new: 'info', same: 'muted', low: 'info', info: 'info', done: 'good', confirmed: 'bad',
  failed: 'bad', pending: 'info', running: 'info', admin: 'info', analyst: 'muted', custom: 'info',
  learned: 'muted', sent: 'good', delivered: 'good', allow: 'good', pass: 'good', published: 'good',
};

/** A small coloured label; the colour follows the word. */
export function badge(text, kind, attrs = {}) {
  const t = text === null || text === undefined ? '' : String(text);
  const k = kind || BADGE_KINDS[t.toLowerCase()] || 'muted';
  return h('span', { ...attrs, class: `badge badge-${k}` }, t.replace(/_/g, ' '));
}

/**
 * A table: columns are [{title, cell: row => node|string, class}], rows an
 * array; `rowAttrs(row)` adds attributes (data-test, a click handler) to a
 * row; `empty` is the text when there are no rows.
 */
export function table(columns, rows, opts = {}) {
  const head = h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class }, c.title))));
  const body = h('tbody');
  if (!rows.length) {
    body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, opts.empty || 'Nothing here yet.')));
  }
  for (const row of rows) {
    const tr = h('tr', opts.rowAttrs ? opts.rowAttrs(row) : null, columns.map((c) => h('td', { class: c.class }, c.cell(row))));
    body.appendChild(tr);
    if (opts.after) append(body, opts.after(row, tr));
  }
  return h('table', { class: ['grid', opts.class], 'data-test': opts.test }, head, body);
}

/** A definition list from [label, value] pairs (pairs with value undefined skipped). */
export function fields(pairs, attrs = {}) {
  const dl = h('dl', { class: 'fields', ...attrs });
  for (const [label, value, test] of pairs) {
    if (value === undefined) continue;
    dl.appendChild(h('dt', null, label));
    dl.appendChild(h('dd', { 'data-test': test }, value === null || value === '' ? h('span', { class: 'dim' }, '—') : value));
  }
  return dl;
}

/** A section with a heading. */
export function panel(title, ...children) {
  return h('section', { class: 'panel' }, title ? h('h2', null, title) : null, children);
}

/** A page heading with optional actions on the right. */
export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', null, title), h('div', { class: 'actions' }, actions));
}

// ---------------------------------------------------------------------------
// Formatting

const pad = (n) => String(n).padStart(2, '0');

/** A server time as local `YYYY-MM-DD HH:MM:SS`; '—' when absent. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `12 s ago`, `3 min ago`, ... */
export function ago(iso) {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return String(iso);
  const secs = Math.round((Date.now() - t) / 1000);
  if (secs < 0) return 'just now';
  if (secs < 60) return `${secs} s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
  return `${Math.floor(secs / 86400)} d ago`;
}

/** A time element with the local time, the relative time as its title. */
export function time(iso) {
  return h('time', { datetime: iso || '', title: iso ? ago(iso) : '' }, fmtTime(iso));
}

export function num(n) {
  if (n === null || n === undefined) return '—';
  return Number(n).toLocaleString('en-US');
}

export function pct(x) {
  if (x === null || x === undefined) return '—';
  return `${Math.round(Number(x) * 100)}%`;
}

/** JSON pretty-printed for a <pre>. */
export function pretty(v) {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

// ---------------------------------------------------------------------------
// Banner (errors and notices)

let bannerEl = null;

export function initBanner(el) {
  bannerEl = el;
}

/** Shows an error (an ApiError or any Error or text) in the banner. */
export function showError(err, context) {
  if (!bannerEl) return;
  let text;
  if (err instanceof ApiError) {
    text = `${err.message} (${err.code}${err.status ? `, HTTP ${err.status}` : ''})`;
  } else {
    text = err && err.message ? err.message : String(err);
  }
  showBanner(context ? `${context}: ${text}` : text, 'error');
}

export function showNotice(text) {
  showBanner(text, 'notice');
}

function showBanner(text, kind) {
  fill(bannerEl,
    h('span', { class: 'banner-text', 'data-test': kind === 'error' ? 'error-text' : 'notice-text' }, text),
    h('button', { type: 'button', class: 'banner-close', title: 'Dismiss', onclick: clearBanner }, '×'));
  bannerEl.className = `banner banner-${kind}`;
  bannerEl.hidden = false;
}

let flashText = null;

/** A notice shown on the next page (an action that navigates). */
export function flash(text) {
  flashText = text;
}

/** Clears the banner, then shows a pending flash notice, if any. */
export function newPageBanner() {
  clearBanner();
  if (flashText) showNotice(flashText);
  flashText = null;
}

export function clearBanner() {
  if (!bannerEl) return;
  bannerEl.hidden = true;
  bannerEl.replaceChildren();
}

/**
 * Runs an action from a button: disables it meanwhile, shows errors in the
 * banner. Returns the action's result or undefined on failure.
 */
export async function act(button, fn, context) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    showError(e, context);
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
  }
}

/** Calls `fn` after `ms` without further calls. */
export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

// ---------------------------------------------------------------------------
// Plots

const W = 400;
const H = 150;
const M = { left: 40, right: 8, top: 10, bottom: 22 };

/** A tidy upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

function hhmm(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * An area plot of one series: `points` are [{t, v}] oldest first. `kind`
 * picks the colour (CSS class plot-KIND).
 */
export function plot(points, { title, kind, test }) {
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const max = niceMax(Math.max(0, ...points.map((p) => p.v)));
  const n = points.length;
  const x = (i) => M.left + (n <= 1 ? iw / 2 : (i * iw) / (n - 1));
  const y = (v) => M.top + ih - (v / max) * ih;
  const root = s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: `plot plot-${kind}`, role: 'img',
    'aria-label': title, 'data-test': test, preserveAspectRatio: 'xMidYMid meet',
  });
  root.appendChild(s('title', null, title));
  // Gridlines at 0, the middle (when a whole number) and the top.
  const levels = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  for (const v of levels) {
    const gy = y(v);
    root.appendChild(s('line', { x1: M.left, x2: W - M.right, y1: gy, y2: gy, class: 'grid-line' }));
    root.appendChild(s('text', { x: M.left - 6, y: gy + 4, class: 'axis', 'text-anchor': 'end' }, num(v)));
  }
  if (n) {
    const line = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    const area = `${line} L${x(n - 1).toFixed(1)},${y(0)} L${x(0).toFixed(1)},${y(0)} Z`;
    root.appendChild(s('path', { d: area, class: 'area' }));
    root.appendChild(s('path', { d: line, class: 'line' }));
    const ticks = n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : [...Array(n).keys()];
    for (const i of ticks) {
      const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
      root.appendChild(s('text', { x: x(i), y: H - 6, class: 'axis', 'text-anchor': anchor }, hhmm(points[i].t)));
    }
    // Hover targets: one transparent column per bucket, with its value.
    const colW = n > 1 ? iw / (n - 1) : iw;
    points.forEach((p, i) => {
      root.appendChild(s('rect', {
        x: Math.max(M.left, x(i) - colW / 2), y: M.top, width: colW, height: ih, class: 'hover',
      }, s('title', null, `${fmtTime(p.t)}: ${num(p.v)}`)));
    });
  } else {
    root.appendChild(s('text', { x: W / 2, y: H / 2, class: 'axis', 'text-anchor': 'middle' }, 'no data'));
  }
  return root;
}

/** A horizontal bar list: [{label, value}] with bars relative to the largest. */
export function bars(items, { test, empty } = {}) {
  if (!items.length) return h('p', { class: 'dim' }, empty || 'None.');
  const max = Math.max(1, ...items.map((i) => i.value));
  return h('ul', { class: 'bars', 'data-test': test }, items.map((i) => {
    const bar = s('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none', class: 'bar' },
      s('rect', { x: 0, y: 0, width: Math.max(1, (100 * i.value) / max), height: 8 }));
    return h('li', null, h('span', { class: 'bar-label', title: i.label }, i.label), bar, h('span', { class: 'bar-value' }, num(i.value)));
  }));
}
