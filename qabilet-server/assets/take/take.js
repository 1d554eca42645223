// The child's screener page: one item per screen from /take/api/state; a choice is kept in
// localStorage with its idempotency key until the server has recorded it, so a reload or a
// dropped connection loses nothing and repeats nothing (the server records a key once).
(() => {
  'use strict';
  const root = document.getElementById('take');
  const PENDING = 'qabilet-take-pending';
  let state = null;
  let sending = false;
  let delay = 500;

  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  };

  const pending = () => { try { return JSON.parse(localStorage.getItem(PENDING)); } catch (_) { return null; } };
  const keep = (p) => localStorage.setItem(PENDING, JSON.stringify(p));
  const forget = () => localStorage.removeItem(PENDING);
  const introKey = (s) => `qabilet-take-intro:${state.session}:${s}`;
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));

  async function call(method, url, body) {
    const r = await fetch(url, {
      method, credentials: 'same-origin',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await r.json(); } catch (_) { /* not JSON */ }
    return { status: r.status, data };
  }

  function waiting(on) {
    let w = document.getElementById('waiting');
    if (on && !w) document.body.append(el('div', { id: 'waiting', class: 'waiting', role: 'status' }, '⏳'));
    if (!on && w) w.remove();
  }

  function retry(fn) {
    waiting(true);
    setTimeout(fn, delay);
    delay = Math.min(delay * 2, 8000);
  }

  async function load() {
    try {
      const r = await call('GET', '/take/api/state');
      if (r.status === 200) { delay = 500; waiting(false); state = r.data; afterState(); return; }
      if (r.status === 403) { location.href = '/take'; return; }
      retry(load);
    } catch (_) { retry(load); }
  }

  // A pending answer of this session is sent before anything else; one of another session
  // (a shared tablet, another child) is dropped.
  function afterState() {
    const p = pending();
    if (p && p.session !== state.session) forget();
    if (pending()) { flush(); return; }
    render();
  }

  async function flush() {
    const p = pending();
    if (!p || sending) return;
    sending = true;
    try {
      const r = await call('POST', '/take/api/answer', {
        request_id: p.request_id, subtest: p.subtest, item: p.item, choice: p.choice,
      });
      sending = false;
      if (r.status === 200) { forget(); delay = 500; waiting(false); state = r.data; render(); return; }
      if (r.status === 409 || r.status === 400) { forget(); load(); return; }
      if (r.status === 403) { location.href = '/take'; return; }
      retry(flush);
    } catch (_) { sending = false; retry(flush); }
  }

  function progress() {
    const pct = state.planned ? Math.min(100, Math.round(100 * state.answered / state.planned)) : 0;
    return el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
      'aria-valuenow': String(pct) }, el('div', { style: `width:${pct}%` }));
  }

  function optionsGrid(item, onChoose) {
    const grid = el('div', { class: 'options' });
    item.options.forEach((src, i) => {
      grid.append(el('button', { class: 'option', type: 'button', 'data-choice': String(i),
        'aria-label': String(i + 1), onclick: () => onChoose(i, grid) },
        el('span', { class: 'n' }, String(i + 1)), el('img', { src, alt: '' })));
    });
    return grid;
  }

  function screen(...children) {
    root.replaceChildren(progress(), ...children);
    const first = root.querySelector('button');
    if (first) first.focus();
  }

  function render() {
    waiting(false);
    if (state.status === 'done') { root.replaceChildren(el('div', { class: 'center', id: 'done' }, '⭐')); return; }
    if (state.status === 'paused') {
      root.replaceChildren(el('div', { class: 'center', id: 'paused' }, '⏸'));
      setTimeout(load, 5000);
      return;
    }
    const sub = state.subtest;
    if (localStorage.getItem(introKey(sub.id)) !== 'done') { example(sub); return; }
    item();
  }

  function example(sub) {
    screen(el('div', { class: 'example', id: 'example' },
      el('div', { class: 'badge' }, `${sub.index + 1} / ${sub.count}`),
      el('img', { src: sub.example, alt: '' }),
      el('button', { class: 'go', type: 'button', id: 'example-next', onclick: () => practice(sub, 0) }, '▶')));
  }

  function practice(sub, n) {
    if (n >= sub.practice.length) { localStorage.setItem(introKey(sub.id), 'done'); begin(sub); return; }
    const p = sub.practice[n];
    screen(el('div', { class: 'badge', id: 'practice' }, '✎'),
      el('div', { class: 'stimulus' }, el('img', { src: p.stimulus, alt: '' })),
      optionsGrid(p, (i, grid) => {
        const b = grid.querySelector(`[data-choice="${i}"]`);
        if (i === p.key) {
          b.classList.add('right');
          setTimeout(() => practice(sub, n + 1), 700);
        } else {
          b.classList.remove('wrong'); void b.offsetWidth; b.classList.add('wrong');
        }
      }));
  }

  // The subtest's clock starts on the server when the practice is over.
  async function begin(sub) {
    try {
      const r = await call('POST', '/take/api/start', { subtest: sub.id });
      if (r.status === 200) { state = r.data; render(); return; }
      if (r.status === 403) { location.href = '/take'; return; }
      load();
    } catch (_) { retry(() => begin(sub)); }
  }

  // A bar that shrinks with the subtest's time; when it runs out the page asks what is next.
  let clock = null;
  function timeBar() {
    if (clock) { clearInterval(clock); clock = null; }
    if (state.time_left_ms == null || !state.subtest) return el('div');
    const total = state.subtest.time_limit_seconds * 1000;
    const ends = Date.now() + state.time_left_ms;
    const inner = el('div');
    const bar = el('div', { class: 'time', id: 'time', 'aria-hidden': 'true' }, inner);
    const tick = () => {
      const left = Math.max(0, ends - Date.now());
      inner.style.width = `${Math.min(100, 100 * left / Math.max(total, left))}%`;
      if (left === 0) { clearInterval(clock); clock = null; if (!pending()) load(); }
    };
    tick();
    clock = setInterval(tick, 1000);
    return bar;
  }

  function item() {
    const it = state.item;
    const sub = state.subtest;
    screen(timeBar(), el('div', { class: 'stimulus', id: 'item', 'data-item': it.id },
      el('img', { src: it.stimulus, alt: '' })),
    optionsGrid(it, (i, grid) => {
      if (pending()) return;
      grid.querySelector(`[data-choice="${i}"]`).classList.add('chosen');
      keep({ session: state.session, request_id: uuid(), subtest: sub.id, item: it.id, choice: i });
      flush();
    }));
  }

  document.addEventListener('keydown', (e) => {
    if (e.key >= '1' && e.key <= '8') {
      const b = root.querySelector(`.option[data-choice="${Number(e.key) - 1}"]`);
      if (b) { b.focus(); b.click(); e.preventDefault(); }
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const all = Array.from(root.querySelectorAll('.option'));
      const at = all.indexOf(document.activeElement);
      if (all.length) {
        const next = all[(at + (e.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
        next.focus();
        e.preventDefault();
      }
    }
  });
  window.addEventListener('online', () => { if (pending()) flush(); });

  load();
})();
