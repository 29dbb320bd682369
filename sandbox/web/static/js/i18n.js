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

// Times show in the bot's TIMEZONE (from the page config), as the bot's own texts do, whatever
// zone the browser is in.
let zone;
export function setTimeZone(name) {
  zone = name || undefined;
}

export function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString(current, { hour: '2-digit', minute: '2-digit', timeZone: zone });
}

// The full moment with its zone, for a time's tooltip: "27.11.2026 14:05 (Europe/Moscow)".
export function formatMoment(unixSeconds) {
  const date = new Date(unixSeconds * 1000).toLocaleDateString(current, { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: zone });
  const shownZone = zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  return t('sandbox.message.time_title', { date, time: formatTime(unixSeconds), zone: shownZone });
}

// A Russian number as people write it: +7 999 123-45-67 (Telegram sends it as 79991234567).
export function formatPhone(phone) {
  const digits = String(phone).replace(/\D/g, '');
  const m = /^[78](\d{3})(\d{3})(\d{2})(\d{2})$/.exec(digits);
  return m ? `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}` : phone;
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
