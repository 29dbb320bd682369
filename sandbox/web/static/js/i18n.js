// The page's own texts: the sandbox.* keys of the project's locale files, served as JSON.
import { request } from './api.js';

const cache = new Map();
let texts = {};
let current = 'en';

export async function setLanguage(lang) {
  if (!cache.has(lang)) cache.set(lang, await request('GET', `/sandbox/app/texts/${lang}`));
  texts = cache.get(lang);
  current = lang;
  document.documentElement.lang = lang;
  applyTexts(document);
  document.title = t('sandbox.page_title');
}

export const language = () => current;

export function t(key, params) {
  let text = texts[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

// Static chrome carries its keys in data attributes.
export function applyTexts(root) {
  root.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  root.querySelectorAll('[data-t-title]').forEach((el) => {
    el.title = t(el.dataset.tTitle);
    el.setAttribute('aria-label', el.title);
  });
  root.querySelectorAll('[data-t-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.tPlaceholder); });
}

export function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString(current, { hour: '2-digit', minute: '2-digit' });
}

export function formatDate(iso) {
  const [y, m, d] = iso.split('-');
  return `${d}.${m}.${y}`;
}

export function formatAmount(minorUnits, currency) {
  // Telegram amounts are in the smallest units; RUB, USD, EUR have two decimals.
  try {
    return new Intl.NumberFormat(current, { style: 'currency', currency }).format(minorUnits / 100);
  } catch {
    return `${(minorUnits / 100).toFixed(2)} ${currency}`;
  }
}

export function formatSize(bytes) {
  if (bytes == null) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
