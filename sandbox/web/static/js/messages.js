// One message as Telegram shows it: a bubble (text with entities, photo, document, invoice, ...),
// its inline keyboard under it, or a centred service line.
import { fileUrl } from './api.js';
import { renderText } from './entities.js';
import { t, formatTime, formatMoment, formatAmount, formatSize, formatPhone } from './i18n.js';

export function senderName(user) {
  if (!user) return '';
  return [user.first_name, user.last_name].filter(Boolean).join(' ');
}

// A one-line preview, for reply quotes, the people list and the topic list.
export function snippet(message) {
  if (!message) return '';
  if (message.text) return message.text;
  if (message.caption) return message.caption;
  if (message.photo) return t('sandbox.message.photo');
  if (message.document) return message.document.file_name || t('sandbox.message.file');
  if (message.contact) return `${t('sandbox.message.contact')}: ${formatPhone(message.contact.phone_number)}`;
  if (message.location) return t('sandbox.message.location');
  if (message.sticker) return `${message.sticker.emoji || ''} ${t('sandbox.message.sticker')}`;
  if (message.voice) return t('sandbox.message.voice');
  if (message.invoice) return message.invoice.title;
  const service = serviceText(message);
  return service || t('sandbox.message.unsupported');
}

function serviceText(message) {
  if (message.forum_topic_created) return t('sandbox.service.topic_created', { name: message.forum_topic_created.name });
  if (message.forum_topic_edited) return t('sandbox.service.topic_edited', { name: message.forum_topic_edited.name || '' });
  if (message.forum_topic_closed) return t('sandbox.service.topic_closed');
  if (message.forum_topic_reopened) return t('sandbox.service.topic_reopened');
  if (message.new_chat_members) {
    return t('sandbox.service.joined', { names: message.new_chat_members.map(senderName).join(', ') });
  }
  if (message.left_chat_member) return t('sandbox.service.left', { name: senderName(message.left_chat_member) });
  if (message.pinned_message) return t('sandbox.service.pinned', { name: senderName(message.from) });
  if (message.successful_payment) {
    const p = message.successful_payment;
    return t('sandbox.service.paid', { amount: formatAmount(p.total_amount, p.currency) });
  }
  return null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function photoBlock(sizes) {
  const shown = sizes.find((s) => s.width >= 640) || sizes[sizes.length - 1];
  const largest = sizes[sizes.length - 1];
  const a = el('a', 'photo');
  a.href = fileUrl(largest.file_id);
  a.target = '_blank';
  a.rel = 'noopener';
  const img = el('img');
  img.src = fileUrl(shown.file_id);
  img.alt = t('sandbox.message.photo');
  img.loading = 'lazy';
  if (shown.width && shown.height) img.style.aspectRatio = `${shown.width} / ${shown.height}`;
  a.append(img);
  return a;
}

function documentBlock(doc) {
  const name = doc.file_name || t('sandbox.message.file');
  const url = fileUrl(doc.file_id);
  const box = el('div', 'doc');
  const icon = el('a', 'doc-icon doc-download');
  icon.href = url;
  icon.download = name;
  icon.title = t('sandbox.message.download');
  icon.setAttribute('aria-label', `${t('sandbox.message.download')}: ${name}`);
  icon.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M11 4h2v9.2l3.6-3.6 1.4 1.4-6 6-6-6 1.4-1.4 3.6 3.6V4zM5 18h14v2H5z"/></svg>';
  const info = el('div', 'doc-info');
  // The name opens the file in a new tab: a PDF shows in the browser's viewer.
  const open = el('a', 'doc-name', name);
  open.href = url;
  open.target = '_blank';
  open.rel = 'noopener';
  open.title = t('sandbox.message.open');
  const ext = name.includes('.') ? name.split('.').pop().toUpperCase() : '';
  info.append(open, el('span', 'doc-size', [formatSize(doc.file_size), ext].filter(Boolean).join(' · ')));
  box.append(icon, info);
  return box;
}

function invoiceBlock(message, ctx, hasPayButton) {
  const inv = message.invoice;
  const box = el('div', 'invoice');
  box.append(el('div', 'invoice-title', inv.title));
  if (inv.description) box.append(el('div', 'invoice-description', inv.description));
  box.append(el('div', 'invoice-amount', formatAmount(inv.total_amount, inv.currency)));
  box.append(el('div', 'invoice-note muted', t('sandbox.invoice.test_note')));
  if (!hasPayButton) {
    const pay = el('button', 'inline-btn pay', t('sandbox.invoice.pay', { amount: formatAmount(inv.total_amount, inv.currency) }));
    pay.type = 'button';
    pay.addEventListener('click', () => ctx.onPay(message, pay));
    box.append(pay);
  }
  return box;
}

function buttonKind(button) {
  for (const kind of ['url', 'callback_data', 'pay', 'copy_text', 'web_app', 'login_url', 'switch_inline_query']) {
    if (kind in button) return kind;
  }
  return 'other';
}

function inlineKeyboard(message, ctx) {
  const rows = message.reply_markup?.inline_keyboard;
  if (!rows || !rows.length) return null;
  const box = el('div', 'inline-keyboard');
  for (const row of rows) {
    const line = el('div', 'row');
    for (const button of row) {
      const b = el('button', `inline-btn kind-${buttonKind(button)}`);
      b.type = 'button';
      b.append(el('span', 'label', button.text));
      b.addEventListener('click', () => ctx.onPress(message, button, b));
      line.append(b);
    }
    box.append(line);
  }
  return box;
}

function quoteBlock(reply, ctx) {
  const quote = el('div', 'quote');
  quote.append(el('b', null, senderName(reply.from)), el('span', null, snippet(reply)));
  quote.addEventListener('click', () => ctx.onJump && ctx.onJump(reply.message_id));
  return quote;
}

export function renderMessage(record, ctx) {
  const message = record.message;
  const service = serviceText(message);
  if (service && !message.text && !message.caption) {
    const row = el('div', 'msg service');
    row.dataset.id = message.message_id;
    row.append(el('span', null, service));
    return row;
  }
  const outgoing = !record.from_bot && message.from && message.from.id === ctx.viewerId;
  const row = el('div', `msg ${outgoing ? 'out' : 'in'}`);
  row.dataset.id = message.message_id;
  const bubble = el('div', 'bubble');
  if (ctx.group && !outgoing) {
    const name = el('div', `sender${record.from_bot ? ' bot' : ''}`, senderName(message.from));
    bubble.append(name);
  }
  // In a forum each message formally replies to its topic's first message; Telegram hides that.
  const reply = message.reply_to_message;
  if (reply && !reply.forum_topic_created) bubble.append(quoteBlock(reply, ctx));

  if (message.photo) bubble.append(photoBlock(message.photo));
  if (message.sticker) {
    const img = el('img', 'sticker');
    img.src = fileUrl(message.sticker.file_id);
    img.alt = message.sticker.emoji || '';
    bubble.append(img);
    bubble.classList.add('bare');
  }
  if (message.document || message.video || message.audio || message.animation) {
    bubble.append(documentBlock(message.document || message.video || message.audio || message.animation));
  }
  if (message.voice) {
    const audio = el('audio');
    audio.controls = true;
    audio.src = fileUrl(message.voice.file_id);
    bubble.append(audio);
  }
  if (message.contact) {
    const c = message.contact;
    const box = el('div', 'contact-card');
    box.append(el('div', 'avatar small', (c.first_name || '?').slice(0, 1)));
    const info = el('div');
    info.append(el('b', null, [c.first_name, c.last_name].filter(Boolean).join(' ')), el('div', 'muted contact-phone', formatPhone(c.phone_number)));
    box.append(info);
    bubble.append(box);
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    bubble.append(el('div', 'location', `📍 ${t('sandbox.message.location')}: ${latitude.toFixed(4)}, ${longitude.toFixed(4)}`));
  }
  const keyboard = inlineKeyboard(message, ctx);
  if (message.invoice) {
    const hasPay = (message.reply_markup?.inline_keyboard || []).some((r) => r.some((b) => b.pay));
    bubble.append(invoiceBlock(message, ctx, hasPay));
  }
  const body = message.text ?? message.caption;
  if (body) {
    const text = el('div', 'text');
    text.append(renderText(body, message.entities || message.caption_entities, { onCommand: ctx.onCommand }));
    bubble.append(text);
  } else if (!bubble.childElementCount || (bubble.childElementCount === 1 && bubble.firstChild.classList.contains('sender'))) {
    bubble.append(el('div', 'text muted', snippet(message)));
  }
  const meta = el('div', 'meta');
  if (message.edit_date) meta.append(el('span', 'edited', t('sandbox.message.edited')));
  const time = el('time', null, formatTime(message.date));
  time.dateTime = new Date(message.date * 1000).toISOString();
  time.title = formatMoment(message.date);
  meta.append(time);
  bubble.append(meta);
  row.append(bubble);
  if (ctx.onReply) {
    const replyButton = el('button', 'reply-action');
    replyButton.type = 'button';
    replyButton.title = t('sandbox.message.reply');
    replyButton.setAttribute('aria-label', replyButton.title);
    replyButton.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z"/></svg>';
    replyButton.addEventListener('click', () => ctx.onReply(message));
    row.append(replyButton);
  }
  if (keyboard) row.append(keyboard);
  return row;
}
