// The Rampart console: sign-in, the application selector and the hash
// router. Each section lives in its own module with a `render(ctx)`.

import { api, ApiError, session, h, fill, initBanner, showError, clearBanner, newPageBanner } from './lib.js';
import * as overview from './overview.js';
import * as inventory from './inventory.js';
import * as attacks from './attacks.js';
import * as incidents from './incidents.js';
import * as rules from './rules.js';
import * as packs from './packs.js';
import * as settings from './settings.js';

const SECTIONS = {
  overview: overview.render,
  inventory: inventory.render,
  attacks: attacks.render,
  incidents: incidents.render,
  rules: rules.render,
  packs: packs.render,
  nodes: packs.renderNodes,
  settings: settings.render,
};

const APP_KEY = 'rampart.console.app';
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------
// Routing

/** The current route: `#/attacks/12?q=x` -> {section, id, params}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const section = SECTIONS[parts[0]] ? parts[0] : 'overview';
  return { section, id: parts[1], rest: parts.slice(2), params: new URLSearchParams(qs || '') };
}

let navToken = 0;
let cleanups = [];

function stopPage() {
  for (const f of cleanups) {
    try {
      f();
    } catch {
      // a cleanup never stops the next page
    }
  }
  cleanups = [];
}

/** Renders the page the hash names. */
async function renderRoute() {
  if (!session.user) return;
  stopPage();
  newPageBanner();
  const token = ++navToken;
  const r = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.nav === r.section);
  }
  const view = $('view');
  fill(view, h('p', { class: 'dim loading' }, 'Loading…'));
  const ctx = {
    view,
    id: r.id,
    rest: r.rest,
    params: r.params,
    /** Whether this page is still the one shown. */
    alive: () => token === navToken,
    /** Calls `fn` every `ms` while the page is shown and the tab visible. */
    every(ms, fn) {
      const tick = () => {
        if (token === navToken && document.visibilityState === 'visible') fn();
      };
      const t = setInterval(tick, ms);
      const onVisible = () => {
        if (document.visibilityState === 'visible') tick();
      };
      document.addEventListener('visibilitychange', onVisible);
      cleanups.push(() => {
        clearInterval(t);
        document.removeEventListener('visibilitychange', onVisible);
      });
    },
    onLeave(fn) {
      cleanups.push(fn);
    },
    /** Navigates within the console. */
    go(hash) {
      if (location.hash === hash) renderRoute();
      else location.hash = hash;
    },
    reload: () => renderRoute(),
  };
  try {
    await SECTIONS[r.section](ctx);
  } catch (e) {
    if (!ctx.alive()) return;
    if (e instanceof ApiError && e.status === 401) return;
    fill(view, h('p', { class: 'dim' }, 'This page could not be loaded.'));
    showError(e);
  }
  if (ctx.alive() && document.activeElement === document.body) view.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------
// Sign-in and the shell

function showLogin(message) {
  stopPage();
  session.user = null;
  session.csrf = null;
  $('shell').hidden = true;
  $('login').hidden = false;
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('login-password').value = '';
  $('login-name').focus();
}

async function loadApps() {
  session.apps = await api('GET', '/apps');
  const select = $('app-select');
  fill(select, session.apps.map((a) => h('option', { value: a.name }, a.name)));
  const saved = localStorage.getItem(APP_KEY);
  const names = session.apps.map((a) => a.name);
  session.app = names.includes(saved) ? saved : names[0] || null;
  if (session.app) select.value = session.app;
  select.disabled = names.length < 2;
}

async function enter(me) {
  session.user = me.user;
  session.csrf = me.csrf || null;
  $('user-name').textContent = me.user.name;
  fill($('user-role'), h('span', { class: `badge badge-${me.user.role === 'admin' ? 'info' : 'muted'}` }, me.user.role));
  document.body.classList.toggle('is-admin', session.isAdmin);
  $('login').hidden = true;
  $('shell').hidden = false;
  try {
    await loadApps();
  } catch (e) {
    showError(e, 'Loading the applications');
  }
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', '#/overview');
  }
  await renderRoute();
}

async function onLogin(ev) {
  ev.preventDefault();
  const button = $('login-submit');
  button.disabled = true;
  clearBanner();
  try {
    const res = await api('POST', '/login', {
      name: $('login-name').value.trim(),
      password: $('login-password').value,
    }, { quiet401: true });
    await enter(res);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showLogin('Wrong user name or password.');
    } else {
      showError(e, 'Signing in');
    }
  } finally {
    button.disabled = false;
  }
}

async function onLogout() {
  try {
    await api('POST', '/logout');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showError(e, 'Signing out');
  }
  showLogin();
}

async function boot() {
  initBanner($('banner'));
  session.onUnauthorized = () => showLogin('Your session ended. Please sign in again.');
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  $('app-select').addEventListener('change', (ev) => {
    session.app = ev.target.value;
    localStorage.setItem(APP_KEY, session.app);
    // Ids are per application: go back to the section's list.
    const r = parseHash();
    const target = `#/${r.section === 'nodes' ? 'nodes' : r.section}`;
    if (location.hash === target) renderRoute();
    else location.hash = target;
  });
  window.addEventListener('hashchange', renderRoute);
  try {
    const me = await api('GET', '/me', undefined, { quiet401: true });
    await enter(me);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showLogin();
    } else {
      showLogin();
      showError(e, 'Reaching the server');
    }
  }
}

boot();
