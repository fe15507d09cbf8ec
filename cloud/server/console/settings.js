// Users (admins only) and one's own API tokens.

import {
  api, session, h, fill, badge, table, panel, pageHead, time, act, showNotice,
} from './lib.js';

const ROLES = ['analyst', 'admin'];

export async function render(ctx) {
  const usersBox = h('div', { 'data-test': 'users-box' });
  const tokensBox = h('div', { 'data-test': 'tokens-box' });
  fill(ctx.view,
    pageHead('Users and tokens'),
    panel('Users', usersBox),
    panel('Your API tokens', tokensBox));
  await Promise.all([users(ctx, usersBox), tokens(ctx, tokensBox)]);
}

const roleSelect = (id) => h('select', { id, 'aria-label': 'Role' }, ROLES.map((r) => h('option', { value: r }, r)));

async function users(ctx, box) {
  if (!session.isAdmin) {
    fill(box, h('p', { class: 'dim' }, 'Only admins manage users. You are signed in as ',
      h('strong', null, session.user.name), ' (', session.user.role, ').'));
    return;
  }
  const list = await api('GET', '/users');
  if (!ctx.alive()) return;
  const name = h('input', { id: 'user-new-name', placeholder: 'name', required: true, autocomplete: 'off' });
  const password = h('input', { id: 'user-new-password', type: 'password', placeholder: 'password', required: true, autocomplete: 'new-password' });
  const role = roleSelect('user-new-role');
  const add = h('button', { type: 'submit', class: 'primary', 'data-test': 'user-create' }, 'Add user');
  const form = h('form', { class: 'inline-form' }, name, password, role, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(add, async () => {
      const u = await api('POST', '/users', { name: name.value.trim(), password: password.value, role: role.value });
      showNotice(`User ${u.name} (${u.role}) created.`);
      await users(ctx, box);
    }, 'Adding the user');
  });
  fill(box,
    table([
      { title: 'Name', cell: (u) => h('strong', null, u.name) },
      { title: 'Role', cell: (u) => badge(u.role) },
      { title: 'Created', cell: (u) => time(u.created_at) },
      { title: '', cell: (u) => {
        if (u.id === session.user.id) return h('span', { class: 'dim small' }, 'you');
        const b = h('button', { type: 'button', class: 'danger small', 'data-test': 'user-delete' }, 'Delete');
        b.addEventListener('click', () => {
          // eslint-disable-next-line no-alert
          if (!window.confirm(`Delete user ${u.name}?`)) return;
          act(b, async () => {
            await api('DELETE', `/users/${encodeURIComponent(u.id)}`);
            showNotice(`User ${u.name} deleted.`);
            await users(ctx, box);
          }, 'Deleting the user');
        });
        return b;
      } },
    ], list, { test: 'users', rowAttrs: (u) => ({ 'data-test': 'user-row', 'data-name': u.name }) }),
    h('h3', null, 'Add a user'), form);
}

async function tokens(ctx, box, created) {
  const list = await api('GET', '/tokens');
  if (!ctx.alive()) return;
  const label = h('input', { id: 'token-label', placeholder: 'label, e.g. siem-export', required: true, autocomplete: 'off' });
  const role = roleSelect('token-role');
  if (!session.isAdmin) role.disabled = true;
  const add = h('button', { type: 'submit', class: 'primary', 'data-test': 'token-create' }, 'Create token');
  const form = h('form', { class: 'inline-form' }, label, role, add);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(add, async () => {
      const t = await api('POST', '/tokens', { label: label.value.trim(), role: role.value });
      await tokens(ctx, box, t);
    }, 'Creating the token');
  });
  const shown = created
    ? h('div', { class: 'token-once', 'data-test': 'new-token' },
      h('p', null, h('strong', null, `Token "${created.label || ''}" created.`), ' Copy it now: it is not shown again.'),
      h('pre', { class: 'code', 'data-test': 'new-token-value' }, created.token))
    : null;
  fill(box,
    shown,
    table([
      { title: 'Label', cell: (t) => t.label },
      { title: 'Role', cell: (t) => badge(t.role) },
      { title: 'Created', cell: (t) => time(t.created_at) },
      { title: 'Last used', cell: (t) => time(t.last_used_at) },
      { title: 'State', cell: (t) => (t.revoked_at ? [badge('revoked', 'muted'), ' ', time(t.revoked_at)] : badge('active', 'good')) },
      { title: '', cell: (t) => {
        if (t.revoked_at) return null;
        const b = h('button', { type: 'button', class: 'danger small', 'data-test': 'token-revoke' }, 'Revoke');
        b.addEventListener('click', () => act(b, async () => {
          await api('DELETE', `/tokens/${encodeURIComponent(t.id)}`);
          showNotice(`Token ${t.label} revoked.`);
          await tokens(ctx, box);
        }, 'Revoking the token'));
        return b;
      } },
    ], list, { test: 'tokens', empty: 'No API tokens.', rowAttrs: (t) => ({ 'data-test': 'token-row', 'data-label': t.label }) }),
    h('h3', null, 'New token'),
    h('p', { class: 'dim small' }, 'For automation: send it as Authorization: Bearer TOKEN. A token never has more rights than you.'),
    form);
}
