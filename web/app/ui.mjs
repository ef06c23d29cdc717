// Small DOM helpers shared by the app's views: element building, the error banner and notices,
// number formatting.

export const $ = (sel, root = document) => root.querySelector(sel);

// el('div.card', { title: 'x', onclick }, child, 'text', ...): an element with classes from the
// selector, properties / attributes from props, and children.
export function el(sel, props = {}, ...children) {
  const [tag, ...classes] = sel.split('.');
  const e = document.createElement(tag || 'div');
  if (classes.length) e.className = classes.join(' ');
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && k !== 'list') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

export function fmtCount(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

// The error banner: red, names what failed; stays until dismissed or replaced.
export function showError(message) {
  const box = $('#error');
  $('#error-text').textContent = String(message).replace(/^(Error|hearth): /, '').replace(/^hearth: /, '');
  box.hidden = false;
}

export function clearError() {
  $('#error').hidden = true;
}

// A passing notice (grey), e.g. "Stopped the reply to load pycoder-6m".
export function notice(message) {
  const n = $('#notice');
  n.textContent = message;
  n.hidden = !message;
}

// Runs an async UI action; errors go to the banner instead of leaving the page half-updated.
export async function guarded(fn, describe = (e) => e.message ?? String(e)) {
  try {
    return await fn();
  } catch (e) {
    if (e?.name !== 'AbortError') showError(describe(e));
    return undefined;
  }
}
