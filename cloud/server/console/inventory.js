// API inventory: the endpoints the cloud learned from traffic, with their
// business function and parameters.

import {
  api, appPath, session, h, fill, badge, pageHead, time, num, pct,
} from './lib.js';

const CHANGE_TEXT = { new: 'new', changed: 'changed', gone: 'gone', same: '' };

export async function render(ctx) {
  if (!session.app) {
    fill(ctx.view, pageHead('API inventory'), h('p', { class: 'dim' }, 'No application yet.'));
    return;
  }
  const endpoints = await api('GET', appPath('/endpoints'));
  if (!ctx.alive()) return;

  const filter = h('input', {
    id: 'inventory-filter', type: 'search', placeholder: 'Filter: method, path, function, parameter…',
    value: ctx.params.get('q') || '', 'aria-label': 'Filter endpoints',
  });
  const count = h('span', { class: 'dim small', 'data-test': 'inventory-count' });
  const expanded = new Set();
  const tbody = h('tbody');
  const tbl = h('table', { class: 'grid inventory', 'data-test': 'inventory' },
    h('thead', null, h('tr', null,
      h('th', null, ''), h('th', null, 'Method'), h('th', null, 'Endpoint'), h('th', null, 'Business function'),
      h('th', null, 'Change'), h('th', null, 'First seen'), h('th', null, 'Last seen'), h('th', { class: 'num' }, 'Requests'))),
    tbody);

  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = endpoints.filter((e) => !q || matches(e, q));
    count.textContent = `${shown.length} of ${endpoints.length} endpoints`;
    tbody.replaceChildren();
    if (!shown.length) {
      tbody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 8 },
        endpoints.length ? 'No endpoint matches the filter.' : 'No endpoints learned yet: they appear after some traffic.')));
    }
    for (const e of shown) {
      const open = expanded.has(e.id);
      const toggle = h('button', {
        type: 'button', class: 'toggle', 'aria-expanded': String(open),
        title: 'Parameters', 'data-test': 'endpoint-toggle',
      }, open ? '▾' : '▸');
      const row = h('tr', { 'data-test': 'endpoint-row', 'data-template': e.template, class: 'clickable' },
        h('td', null, toggle),
        h('td', null, h('span', { class: `method method-${String(e.method).toLowerCase()}` }, e.method)),
        h('td', null, h('code', { 'data-test': 'endpoint-template' }, e.template), e.operation ? h('span', { class: 'dim small' }, ` ${e.operation}`) : null),
        h('td', { 'data-test': 'endpoint-function' }, e.function
          ? [h('span', { class: 'function' }, e.function), ' ', h('span', { class: 'dim small', title: 'confidence' }, pct(e.function_confidence))]
          : h('span', { class: 'dim' }, '—')),
        h('td', null, CHANGE_TEXT[e.change] ? badge(e.change, undefined, { 'data-test': 'endpoint-change' }) : null),
        h('td', null, time(e.first_seen_at)),
        h('td', null, time(e.last_seen_at)),
        h('td', { class: 'num' }, num(e.requests)));
      row.addEventListener('click', () => {
        if (expanded.has(e.id)) expanded.delete(e.id);
        else expanded.add(e.id);
        draw();
      });
      tbody.appendChild(row);
      if (open) tbody.appendChild(h('tr', { class: 'detail-row' }, h('td', { colspan: 8 }, params(e))));
    }
  };
  filter.addEventListener('input', draw);
  fill(ctx.view, pageHead(`API inventory · ${session.app}`, count, filter), tbl);
  draw();
}

function matches(e, q) {
  const hay = [e.method, e.template, e.operation, e.function, e.change,
    ...(e.parameters || []).map((p) => `${p.point} ${p.format || ''}`)].join(' ').toLowerCase();
  return q.split(/\s+/).every((w) => hay.includes(w));
}

function params(e) {
  const ps = e.parameters || [];
  if (!ps.length) return h('p', { class: 'dim small' }, 'No parameters seen.');
  return h('table', { class: 'grid params', 'data-test': 'endpoint-params' },
    h('thead', null, h('tr', null, h('th', null, 'Parameter'), h('th', null, 'Format'), h('th', null, 'Confidence'),
      h('th', null, 'Personal data'), h('th', { class: 'num' }, 'Requests'))),
    h('tbody', null, ps.map((p) => h('tr', { 'data-test': 'param-row' },
      h('td', null, h('code', null, p.point)),
      h('td', null, p.format ? h('span', { class: 'format' }, p.format) : h('span', { class: 'dim' }, 'not learned yet')),
      h('td', null, pct(p.format_confidence)),
      h('td', null, p.personal_data ? badge('personal data', 'bad', { 'data-test': 'personal-data' }) : h('span', { class: 'dim' }, 'no')),
      h('td', { class: 'num' }, num(p.requests))))));
}
