// Message text with Telegram entities (bold, italic, code, links, ...) as DOM nodes.
// Offsets are UTF-16 code units, which is exactly how JavaScript strings index.

const SAFE_URL = /^(https?:|tg:|mailto:|tel:)/i;

function link(href, text) {
  const a = document.createElement('a');
  if (SAFE_URL.test(href)) {
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  a.title = href;
  return a;
}

function element(entity, text, handlers) {
  switch (entity.type) {
    case 'bold': return document.createElement('b');
    case 'italic': return document.createElement('i');
    case 'underline': return document.createElement('u');
    case 'strikethrough': return document.createElement('s');
    case 'code': return document.createElement('code');
    case 'pre': {
      const pre = document.createElement('pre');
      if (entity.language) pre.dataset.language = entity.language;
      return pre;
    }
    case 'spoiler': {
      const span = document.createElement('span');
      span.className = 'spoiler';
      span.addEventListener('click', () => span.classList.add('revealed'));
      return span;
    }
    case 'blockquote':
    case 'expandable_blockquote': {
      const quote = document.createElement('blockquote');
      if (entity.type === 'expandable_blockquote') {
        quote.classList.add('expandable');
        quote.addEventListener('click', () => quote.classList.toggle('expanded'));
      }
      return quote;
    }
    case 'text_link': return link(entity.url, text);
    case 'url': return link(/^[a-z]+:/i.test(text) ? text : `https://${text}`, text);
    case 'email': return link(`mailto:${text}`, text);
    case 'phone_number': return link(`tel:${text.replace(/[^\d+]/g, '')}`, text);
    case 'bot_command': {
      const a = document.createElement('a');
      a.href = '#';
      a.className = 'command';
      a.addEventListener('click', (event) => {
        event.preventDefault();
        if (handlers.onCommand) handlers.onCommand(text.split('@')[0]);
      });
      return a;
    }
    default: {
      const span = document.createElement('span');
      span.className = `entity-${entity.type}`;
      return span;
    }
  }
}

// Entities nest (the emulator parses HTML into properly nested ranges); an entity that crosses
// its parent's end is clipped rather than dropped.
function build(parent, text, entities, start, end, handlers) {
  let position = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    let j = i + 1;
    const children = [];
    while (j < entities.length && entities[j].offset < entity.offset + entity.length) {
      children.push(entities[j]);
      j += 1;
    }
    if (from < to) {
      if (from > position) parent.append(text.slice(position, from));
      const node = element(entity, text.slice(from, to), handlers);
      build(node, text, children, from, to, handlers);
      parent.append(node);
      position = to;
    }
    i = j;
  }
  if (position < end) parent.append(text.slice(position, end));
}

export function renderText(text, entities, handlers = {}) {
  const fragment = document.createDocumentFragment();
  const sorted = (entities || [])
    .filter((e) => e.length > 0)
    .slice()
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(fragment, text || '', sorted, 0, (text || '').length, handlers);
  return fragment;
}
