// The sandbox clock ("+1 hour", "+1 day": the bot follows it, so reminders and quiet hours
// happen while one watches) and the mailbox pane (what the bot emailed to the sandbox's own
// SMTP server). Self-contained: it only needs the page's texts and time zone (i18n.js).
import { request } from './api.js';
import { t, formatMoment } from './i18n.js';

const POLL_MS = 1500;
const HOUR = 3600;
let offset = 0;
let seen = 0;
let mails = [];

const $ = (id) => document.getElementById(id);

function showClock() {
  const now = Date.now() / 1000 + offset;
  const ahead = Math.round(offset / HOUR);
  const label = formatMoment(now);
  $('clock-now').textContent = ahead ? `${label} · ${t('sandbox.clock.ahead', { hours: ahead })}` : label;
}

async function readClock() {
  const clock = await request('GET', '/sandbox/api/clock');
  offset = Number(clock.offset_seconds) || 0;
  showClock();
}

async function advance(seconds) {
  const clock = await request('POST', '/sandbox/api/clock', { advance_seconds: seconds });
  offset = Number(clock.offset_seconds) || 0;
  showClock();
}

function renderMail() {
  const list = $('mail-list');
  list.replaceChildren();
  $('mail-empty').hidden = mails.length > 0;
  for (const mail of [...mails].reverse()) {
    const item = document.createElement('li');
    item.className = 'mail';
    const head = document.createElement('div');
    head.className = 'mail-head';
    const subject = document.createElement('b');
    subject.textContent = mail.subject;
    const to = document.createElement('span');
    to.className = 'muted';
    to.textContent = `${t('sandbox.mail.to')} ${mail.to.join(', ')}`;
    head.append(subject, to);
    const body = document.createElement('pre');
    body.className = 'mail-text';
    body.textContent = mail.text;
    item.append(head, body);
    mail.attachments.forEach((part, index) => {
      const link = document.createElement('a');
      link.className = 'mail-attachment';
      link.href = `/sandbox/app/mailbox/${mail.seq}/${index}`;
      link.download = part.filename;
      link.textContent = `📎 ${part.filename}`;
      item.append(link);
    });
    list.append(item);
  }
  const open = !$('mailbox').hidden;
  if (open) seen = mails.length;
  const unread = mails.length - seen;
  $('mail-count').hidden = unread <= 0;
  $('mail-count').textContent = String(unread);
}

async function readMail() {
  const box = await request('GET', '/sandbox/app/mailbox');
  $('mailbox-toggle').hidden = !box.enabled;
  if (box.messages.length !== mails.length) {
    mails = box.messages;
    renderMail();
  }
}

function toggleMailbox(open) {
  $('mailbox').hidden = !open;
  $('mailbox-toggle').setAttribute('aria-pressed', String(open));
  renderMail();
}

async function poll() {
  try {
    await Promise.all([readClock(), readMail()]);
  } catch {
    // The page's own banner reports a lost connection; try again at the next poll.
  }
}

export function setupClockAndMail() {
  $('clock-hour').addEventListener('click', () => advance(HOUR));
  $('clock-day').addEventListener('click', () => advance(24 * HOUR));
  $('mailbox-toggle').addEventListener('click', () => toggleMailbox($('mailbox').hidden));
  $('mailbox-close').addEventListener('click', () => toggleMailbox(false));
  poll();
  setInterval(poll, POLL_MS);
  setInterval(showClock, 1000);
}

setupClockAndMail();
