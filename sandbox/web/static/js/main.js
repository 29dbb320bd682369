// The sandbox page: pick a demo person, chat with the bot as them, and watch the support forum as
// its operator. Everything goes through the emulator's control API; changes arrive over SSE.
import { get, post, request, toBase64, fileMessage } from './api.js';
import { setLanguage, setTimeZone, language, t, formatDate, formatPhone } from './i18n.js';
import { senderName, snippet } from './messages.js';
import { Store, GENERAL_TOPIC, threadOf } from './store.js';
import { MessageList } from './view.js';

const $ = (id) => document.getElementById(id);
const store = new Store();
const state = {
  config: null,
  bot: null,
  personId: null,
  lastSeq: 0,
  commands: [],
  keyboardOpen: true,
  deskOpen: false,
  topic: GENERAL_TOPIC,
  topicPicked: false,
  replyTo: null,
  deskUnread: new Map(),
  disconnected: false,
  operatorId: null,
  // At a phone's width one pane shows at a time, as in Telegram: the people ("list"), a chat,
  // or the desk (body[data-view]); the desk shows its topics or a thread (body[data-desk-view]).
  view: 'list',
  viewBeforeDesk: 'list',
};
const ACTION_SECONDS = 5;
// Telegram's limit for one message; longer texts go as several, as Telegram's apps send them.
const MAX_MESSAGE_CHARS = 4096;
const AVATAR_COLORS = ['#e17076', '#eda86c', '#a695e7', '#7bc862', '#6ec9cb', '#65aadd', '#ee7aae'];
const EVENT_TYPES = [
  'message_new', 'message_edited', 'message_deleted', 'keyboard', 'chat_action', 'commands',
  'topic_created', 'topic_edited', 'topic_closed', 'topic_reopened', 'topic_deleted',
];

const person = () => state.config.people.find((p) => p.user_id === state.personId);
const groupId = () => state.config.support_chat_id;
const operator = () => state.config.operators.find((o) => o.user_id === state.operatorId) ?? state.config.operators[0];
const isOperator = (userId) => state.config.operators.some((o) => o.user_id === userId);
const isPerson = (chatId) => state.config.people.some((p) => p.user_id === chatId);
const fullName = (p) => [p.last_name, p.first_name, p.middle_name].filter(Boolean).join(' ');

// --- small UI helpers ----------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function avatar(name, id, extra = '') {
  const a = el('div', `avatar ${extra}`.trim());
  a.style.background = AVATAR_COLORS[Math.abs(id) % AVATAR_COLORS.length];
  a.textContent = name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
  return a;
}

function toast(text, kind = 'info') {
  const node = el('div', `toast ${kind}`, text);
  $('toasts').append(node);
  setTimeout(() => node.classList.add('hide'), 3200);
  setTimeout(() => node.remove(), 3600);
}

function showAlert(title, text) {
  $('modal-title').textContent = title;
  $('modal-text').textContent = text;
  $('modal').hidden = false;
  $('modal-ok').focus();
}

function failed(error) {
  toast(t('sandbox.toast.error', { error: error.message || String(error) }), 'error');
}

function setView(view) {
  state.view = view;
  document.body.dataset.view = view;
}

function setDeskView(view) {
  document.body.dataset.deskView = view;
}

function autosize(textarea) {
  textarea.style.height = 'auto';
  textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
}

// --- people ---------------------------------------------------------------------------------------

function lastRecord(chatId) {
  const records = store.records(chatId);
  return records[records.length - 1];
}

function renderPeople() {
  const filter = $('people-search').value.trim().toLowerCase();
  const list = $('people');
  list.replaceChildren();
  for (const p of state.config.people) {
    const name = fullName(p);
    if (filter && !`${name} ${p.region}`.toLowerCase().includes(filter)) continue;
    const item = el('li', 'person');
    item.dataset.userId = p.user_id;
    item.setAttribute('role', 'option');
    item.setAttribute('aria-selected', String(p.user_id === state.personId));
    item.tabIndex = 0;
    const info = el('div', 'person-info');
    const last = lastRecord(p.user_id);
    info.append(el('div', 'person-name', name), el('div', 'person-line muted', last ? snippet(last.message) : p.region));
    item.append(avatar(`${p.first_name} ${p.last_name}`, p.user_id), info);
    const unread = store.chat(p.user_id).unread;
    if (unread) item.append(el('span', 'unread', String(unread)));
    item.addEventListener('click', () => {
      setView('chat');
      selectPerson(p.user_id).catch(failed);
    });
    item.addEventListener('keydown', (e) => { if (e.key === 'Enter') item.click(); });
    list.append(item);
  }
}

function cardRow(label, value) {
  const row = el('div', 'card-row');
  row.append(el('dt', null, label));
  const dd = el('dd');
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value;
  row.append(dd);
  return row;
}

function passportButton(p) {
  const passport = el('button', 'copyable', `${p.passport_series} ${p.passport_number}`);
  passport.type = 'button';
  passport.title = t('sandbox.card.insert');
  passport.addEventListener('click', () => {
    const input = $('chat-input');
    input.value = `${p.passport_series} ${p.passport_number}`;
    autosize(input);
    input.focus();
  });
  return passport;
}

// At a phone's width the card is on the list's screen: the chat repeats who you are and the
// passport to insert.
function renderRoleStrip(p) {
  const strip = $('role-strip');
  strip.replaceChildren();
  if (!p) return;
  const passport = el('span', 'role-passport');
  passport.append(el('span', 'muted', `${t('sandbox.card.passport')}:`), passportButton(p));
  strip.append(el('span', 'role-name', t('sandbox.chat.role_strip', { name: fullName(p) })), passport);
}

function renderCard() {
  const p = person();
  const card = $('person-card');
  card.replaceChildren();
  renderRoleStrip(p);
  if (!p) return;
  card.append(el('div', 'card-label', t('sandbox.card.title')));
  const head = el('div', 'card-person');
  const names = el('div');
  names.append(el('div', 'card-name', fullName(p)), el('div', 'muted', p.region));
  head.append(avatar(`${p.first_name} ${p.last_name}`, p.user_id, 'large'), names);
  const passport = passportButton(p);
  const list = el('dl');
  list.append(
    cardRow(t('sandbox.card.birth_date'), formatDate(p.birth_date)),
    cardRow(t('sandbox.card.passport'), passport),
    cardRow(t('sandbox.card.phone'), formatPhone(p.phone)),
  );
  card.append(head, list, el('p', 'card-hint muted', t('sandbox.card.hint')));
}

async function selectPerson(userId) {
  state.personId = userId;
  localStorage.setItem('oms-sandbox:person', String(userId));
  const p = person();
  // The bot picks its language from language_code: the person speaks the page's language.
  await post('/users', { user_id: p.user_id, first_name: p.first_name, last_name: p.last_name, language_code: language() });
  store.chat(userId).unread = 0;
  state.keyboardOpen = true;
  renderCard();
  renderPeople();
  await store.load(userId);
  await loadCommands();
}

// --- the citizen's chat with the bot -------------------------------------------------------------

const chatList = new MessageList($('chat-messages'), () => ({
  viewerId: state.personId,
  group: false,
  onPress: (message, button, node) => press(state.personId, message, button, node),
  onPay: (message, node) => pay(state.personId, message, node),
  onCommand: (command) => sendCitizen({ kind: 'text', text: command }),
  onJump: (id) => chatList.jump(id),
}), $('chat-jump'));

function emptyChat() {
  const box = el('div', 'empty');
  box.append(el('div', 'empty-title', state.bot.first_name), el('div', null, t('sandbox.chat.empty')));
  return box;
}

function renderChat() {
  if (state.personId === null) return;
  chatList.render(store.records(state.personId), emptyChat());
  renderKeyboard();
  renderStartBar();
}

function renderStartBar() {
  const chat = store.chat(state.personId);
  const fresh = chat.loaded && chat.messages.size === 0;
  $('start-bar').hidden = !fresh;
  $('chat-composer').hidden = fresh;
}

function renderKeyboard() {
  const keyboard = store.chat(state.personId).keyboard;
  const box = $('chat-keyboard');
  const input = $('chat-input');
  $('keyboard-toggle').hidden = !keyboard;
  input.placeholder = keyboard?.input_field_placeholder || t('sandbox.composer.placeholder');
  box.replaceChildren();
  box.hidden = !keyboard || !state.keyboardOpen;
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    const line = el('div', 'row');
    for (const button of row) {
      const b = el('button', 'kb-btn', button.text);
      b.type = 'button';
      if (button.request_contact) b.classList.add('request-contact');
      b.addEventListener('click', () => tapKeyboard(button, keyboard).catch(failed));
      line.append(b);
    }
    box.append(line);
  }
}

async function tapKeyboard(button, keyboard) {
  if (keyboard.one_time_keyboard) {
    state.keyboardOpen = false;
    renderKeyboard();
  }
  if (button.request_contact) {
    // Telegram sends the account's own phone: here, the demo person's from the register.
    await sendCitizen({ kind: 'contact', phone: person().phone, own: true });
  } else if (button.request_location) {
    await sendCitizen({ kind: 'location', latitude: 55.7558, longitude: 37.6173 });
  } else {
    await sendCitizen({ kind: 'text', text: button.text });
  }
}

async function sendCitizen(body) {
  await post(`/chats/${state.personId}/messages`, body);
}

async function sendSampleScan() {
  const button = $('scan-button');
  button.disabled = true;
  try {
    const response = await fetch(`/sandbox/app/sample-scan.jpg?lang=${language()}`);
    const data = await toBase64(await response.blob());
    await sendCitizen({ kind: 'photo', data_b64: data });
  } finally {
    button.disabled = false;
  }
}

let actionTimer = null;
const ACTION_TEXTS = {
  typing: 'sandbox.action.typing',
  upload_document: 'sandbox.action.upload_document',
  upload_photo: 'sandbox.action.upload_photo',
};
function showAction(target, action) {
  target.textContent = t(ACTION_TEXTS[action] || 'sandbox.action.other');
  target.classList.add('active');
  clearTimeout(actionTimer);
  actionTimer = setTimeout(renderStatus, ACTION_SECONDS * 1000);
}

function renderStatus() {
  clearTimeout(actionTimer);
  $('bot-name').textContent = state.bot.first_name;
  $('chat-status').textContent = t('sandbox.chat.bot_status');
  $('chat-status').classList.remove('active');
  $('desk-subtitle').textContent = t('sandbox.desk.subtitle', { name: operator().first_name });
  $('desk-subtitle').classList.remove('active');
}

// --- buttons and payments ------------------------------------------------------------------------

function pressResult(result) {
  if (result.kind === 'url') {
    window.open(result.url, '_blank', 'noopener');
  } else if (result.kind === 'copy_text') {
    navigator.clipboard?.writeText(result.text).catch(() => {});
    toast(t('sandbox.toast.copied'));
  } else if (result.kind === 'payment') {
    paymentResult(result);
  } else if (!result.answered) {
    toast(t('sandbox.toast.no_answer'), 'error');
  } else {
    if (result.text && result.show_alert) showAlert(state.bot.first_name, result.text);
    else if (result.text) toast(result.text);
    if (result.url) window.open(result.url, '_blank', 'noopener');
  }
}

function paymentResult(result) {
  if (!result.answered) toast(t('sandbox.toast.no_answer'), 'error');
  else if (result.ok) toast(t('sandbox.toast.paid'));
  else toast(t('sandbox.toast.payment_declined', { reason: result.error_message || '' }), 'error');
}

async function busy(node, action) {
  if (node.classList.contains('pending')) return;
  node.classList.add('pending');
  try {
    await action();
  } catch (error) {
    failed(error);
  } finally {
    node.classList.remove('pending');
  }
}

function press(chatId, message, button, node, userId) {
  return busy(node, async () => {
    const body = { text: button.text, message_id: message.message_id, timeout: 15 };
    if (userId) body.user_id = userId;
    pressResult(await post(`/chats/${chatId}/press`, body));
  });
}

function pay(chatId, message, node, userId) {
  return busy(node, async () => {
    const body = { invoice_message_id: message.message_id, timeout: 15 };
    if (userId) body.user_id = userId;
    paymentResult(await post(`/chats/${chatId}/pay`, body));
  });
}

// --- commands menu -------------------------------------------------------------------------------

async function loadCommands() {
  const sets = await get('/commands');
  const lang = language();
  const find = (scope, code) => sets.find((s) => s.scope === scope && s.language_code === code);
  const chosen = [
    [`chat:${state.personId}`, lang], [`chat:${state.personId}`, ''],
    ['all_private_chats', lang], ['all_private_chats', ''], ['default', lang], ['default', ''],
  ].map(([scope, code]) => find(scope, code)).find(Boolean);
  state.commands = chosen ? chosen.commands : [];
  $('menu-button').hidden = !state.commands.length;
  const popup = $('commands-popup');
  popup.replaceChildren(el('div', 'popup-title', t('sandbox.commands.title')));
  for (const command of state.commands) {
    const item = el('button', 'command-item');
    item.type = 'button';
    item.append(el('b', null, `/${command.command}`), el('span', 'muted', command.description));
    item.addEventListener('click', () => {
      popup.hidden = true;
      sendCitizen({ kind: 'text', text: `/${command.command}` }).catch(failed);
    });
    popup.append(item);
  }
}

// --- the operator's support forum ----------------------------------------------------------------

const deskList = new MessageList($('desk-messages'), () => ({
  viewerId: operator().user_id,
  group: true,
  onPress: (message, button, node) => press(groupId(), message, button, node, operator().user_id),
  onPay: (message, node) => pay(groupId(), message, node, operator().user_id),
  onCommand: (command) => sendDesk({ kind: 'text', text: command }).catch(failed),
  onReply: (message) => setReply(message),
  onJump: (id) => deskList.jump(id),
}), $('desk-jump'));

function topicName(threadId) {
  if (threadId === GENERAL_TOPIC) return t('sandbox.desk.general');
  return store.chat(groupId()).topics.get(threadId)?.name ?? `#${threadId}`;
}

function colorOf(topic) {
  return topic ? `#${Number(topic.icon_color).toString(16).padStart(6, '0')}` : '#8e9aa6';
}

function renderTopics() {
  const chat = store.chat(groupId());
  const nav = $('desk-topics');
  nav.replaceChildren(el('div', 'topics-title', t('sandbox.desk.topics')));
  const lastIn = new Map();
  for (const record of store.records(groupId())) lastIn.set(threadOf(record.message), record);
  const ids = [...chat.topics.keys()].sort((a, b) => (lastIn.get(b)?.message.message_id ?? b) - (lastIn.get(a)?.message.message_id ?? a));
  for (const id of [GENERAL_TOPIC, ...ids]) {
    const topic = chat.topics.get(id);
    const item = el('button', 'topic');
    item.type = 'button';
    item.dataset.threadId = id;
    item.setAttribute('aria-current', String(id === state.topic));
    const dot = el('span', 'topic-icon', id === GENERAL_TOPIC ? '#' : topicName(id).slice(0, 1).toUpperCase());
    dot.style.background = colorOf(topic);
    const info = el('span', 'topic-info');
    const name = el('span', 'topic-name', `${topic?.is_closed ? '🔒 ' : ''}${topicName(id)}`);
    const last = lastIn.get(id);
    info.append(name, el('span', 'topic-line muted', last ? `${senderName(last.message.from)}: ${snippet(last.message)}` : ''));
    item.append(dot, info);
    const unread = state.deskUnread.get(id);
    if (unread) item.append(el('span', 'unread', String(unread)));
    item.addEventListener('click', () => {
      state.topicPicked = true;
      selectTopic(id);
      setDeskView('thread');
    });
    nav.append(item);
  }
  if (!chat.topics.size) nav.append(el('p', 'muted small', t('sandbox.desk.empty')));
  renderDeskBadge();
}

function renderDeskBadge() {
  const total = [...state.deskUnread.values()].reduce((a, b) => a + b, 0);
  const badge = $('desk-unread');
  badge.hidden = !total;
  badge.textContent = String(total);
}

function selectTopic(threadId) {
  state.topic = threadId;
  state.deskUnread.delete(threadId);
  setReply(null);
  renderTopics();
  renderDeskThread();
}

function renderDeskThread() {
  $('desk-title').textContent = store.chat(groupId()).info?.title ?? '';
  $('desk-thread-title').textContent = topicName(state.topic);
  const empty = el('div', 'empty', t('sandbox.desk.no_messages'));
  // The topic's creation line is the thread's first message; only it there means nothing was said.
  deskList.render(store.records(groupId(), state.topic), empty);
}

function renderOperators() {
  const box = $('operator-switch');
  box.replaceChildren();
  for (const o of state.config.operators) {
    const b = el('button', null, o.first_name);
    b.type = 'button';
    b.dataset.operatorId = o.user_id;
    b.setAttribute('aria-pressed', String(o.user_id === operator().user_id));
    b.addEventListener('click', () => selectOperator(o.user_id));
    box.append(b);
  }
}

// The desk is played by either demo operator: their messages and button presses are theirs.
function selectOperator(userId) {
  state.operatorId = userId;
  localStorage.setItem('oms-sandbox:operator', String(userId));
  renderOperators();
  renderStatus();
  renderDeskThread();
}

function setReply(message) {
  state.replyTo = message;
  $('desk-reply').hidden = !message;
  if (message) {
    $('desk-reply-name').textContent = t('sandbox.desk.replying_to', { name: senderName(message.from) });
    $('desk-reply-snippet').textContent = snippet(message);
    $('desk-input').focus();
  }
}

async function sendDesk(body) {
  const full = { ...body, user_id: operator().user_id };
  if (state.topic !== GENERAL_TOPIC) full.thread_id = state.topic;
  if (state.replyTo) full.reply_to_message_id = state.replyTo.message_id;
  await post(`/chats/${groupId()}/messages`, full);
  setReply(null);
}

function setDeskOpen(open) {
  if (open && !state.deskOpen) state.viewBeforeDesk = state.view === 'desk' ? 'chat' : state.view;
  setView(open ? 'desk' : state.viewBeforeDesk);
  state.deskOpen = open;
  localStorage.setItem('oms-sandbox:desk', open ? '1' : '0');
  document.body.classList.toggle('desk-open', open);
  $('desk-pane').hidden = !open;
  $('desk-toggle').setAttribute('aria-pressed', String(open));
  if (open) {
    state.deskUnread.delete(state.topic);
    renderTopics();
    renderDeskThread();
  }
}

// --- live changes ------------------------------------------------------------------------------

store.on((change) => {
  if (change.chatId === state.personId) return citizenChange(change);
  if (change.chatId === groupId()) return deskChange(change);
  if (isPerson(change.chatId) && change.type === 'add') {
    if (change.record.from_bot) store.chat(change.chatId).unread += 1;
    renderPeople();
  }
  return undefined;
});

function citizenChange(change) {
  if (change.type === 'reset') renderChat();
  else if (change.type === 'add') {
    chatList.add(change.record);
    if (change.record.from_bot) renderStatus();
    renderStartBar();
    renderPeople();
  } else if (change.type === 'update') chatList.update(change.record);
  else if (change.type === 'remove') chatList.remove(change.messageId);
  else if (change.type === 'keyboard') {
    if (store.chat(state.personId).keyboard) state.keyboardOpen = true;
    renderKeyboard();
  }
}

function deskChange(change) {
  if (change.type === 'reset') {
    renderTopics();
    renderDeskThread();
    return;
  }
  if (change.type === 'topics') {
    const topics = store.chat(groupId()).topics;
    // Until the operator picks a topic, follow the newest one (the conversation just opened).
    if (!state.topicPicked && topics.size) selectTopic(Math.max(...topics.keys()));
    else if (state.topic !== GENERAL_TOPIC && !topics.has(state.topic)) selectTopic(GENERAL_TOPIC);
    else renderTopics();
    return;
  }
  if (change.type === 'remove') {
    deskList.remove(change.messageId);
    renderTopics();
    return;
  }
  const thread = threadOf(change.record.message);
  if (thread === state.topic) {
    if (change.type === 'add') deskList.add(change.record);
    else deskList.update(change.record);
  }
  if (change.type === 'add' && (thread !== state.topic || !state.deskOpen) && !isOperator(change.record.message.from?.id)) {
    state.deskUnread.set(thread, (state.deskUnread.get(thread) || 0) + 1);
  }
  renderTopics();
}

function handleEvent(event) {
  state.lastSeq = Math.max(state.lastSeq, event.seq);
  const { type, chat_id: chatId, data } = event;
  if (type === 'message_new' || type === 'message_edited') store.upsert(chatId, data.message, data.from_bot);
  else if (type === 'message_deleted') store.remove(chatId, data.message_id);
  else if (type === 'keyboard') store.setKeyboard(chatId, data.keyboard);
  else if (type.startsWith('topic_')) store.setTopic(chatId, data.topic);
  else if (type === 'commands') loadCommands().catch(failed);
  else if (type === 'chat_action') {
    if (chatId === state.personId) showAction($('chat-status'), data.action);
    else if (chatId === groupId()) showAction($('desk-subtitle'), data.action);
  }
}

function connectEvents() {
  const source = new EventSource(`/sandbox/api/events?after=${state.lastSeq}`);
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (e) => handleEvent(JSON.parse(e.data)));
  }
  source.addEventListener('open', async () => {
    if (!state.disconnected) return;
    state.disconnected = false;
    $('offline-banner').hidden = true;
    // A restarted sandbox starts its event numbering again: start the page over too.
    const world = await get('/state');
    if (world.last_event_seq < state.lastSeq) window.location.reload();
  });
  source.addEventListener('error', () => {
    state.disconnected = true;
    $('offline-banner').hidden = false;
  });
}

// --- wiring ----------------------------------------------------------------------------------------

function markLanguage() {
  document.querySelectorAll('[data-lang]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === language())));
}

async function switchLanguage(lang) {
  await setLanguage(lang);
  localStorage.setItem('oms-sandbox:lang', lang);
  markLanguage();
  const p = person();
  await post('/users', { user_id: p.user_id, first_name: p.first_name, last_name: p.last_name, language_code: lang });
  for (const o of state.config.operators) {
    await post('/users', { user_id: o.user_id, first_name: o.first_name, language_code: lang });
  }
  await loadCommands();
  renderStatus();
  renderPeople();
  renderCard();
  renderChat();
  renderTopics();
  renderDeskThread();
}

// Parts of at most MAX_MESSAGE_CHARS characters (not UTF-16 units), cut at a line break or a
// space when there is one in the second half of the part.
function messageParts(text) {
  const chars = Array.from(text);
  const parts = [];
  while (chars.length > MAX_MESSAGE_CHARS) {
    const head = chars.slice(0, MAX_MESSAGE_CHARS);
    let cut = Math.max(head.lastIndexOf('\n'), head.lastIndexOf(' '));
    if (cut < MAX_MESSAGE_CHARS / 2) cut = MAX_MESSAGE_CHARS;
    parts.push(chars.splice(0, cut).join('').trim());
  }
  parts.push(chars.join('').trim());
  return parts.filter(Boolean);
}

function composer(form, input, send) {
  const submit = async () => {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    autosize(input);
    const parts = messageParts(text);
    for (const [index, part] of parts.entries()) {
      try {
        await send(part);
      } catch (error) {
        input.value = parts.slice(index).join('\n');
        failed(error);
        return;
      }
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('input', () => autosize(input));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
}

function uploads(input, send) {
  input.addEventListener('change', async () => {
    const files = [...input.files];
    input.value = '';
    for (const file of files) {
      try {
        await send(await fileMessage(file));
      } catch (error) {
        failed(error);
      }
    }
  });
}

function wire() {
  composer($('chat-composer'), $('chat-input'), (text) => sendCitizen({ kind: 'text', text }));
  composer($('desk-composer'), $('desk-input'), (text) => sendDesk({ kind: 'text', text }));
  uploads($('chat-file'), sendCitizen);
  uploads($('desk-file'), sendDesk);
  $('start-button').addEventListener('click', () => sendCitizen({ kind: 'text', text: '/start' }).catch(failed));
  $('scan-button').addEventListener('click', () => sendSampleScan().catch(failed));
  $('keyboard-toggle').addEventListener('click', () => {
    state.keyboardOpen = !state.keyboardOpen;
    renderKeyboard();
  });
  $('menu-button').addEventListener('click', (e) => {
    e.stopPropagation();
    $('commands-popup').hidden = !$('commands-popup').hidden;
  });
  document.addEventListener('click', (e) => {
    if (!$('commands-popup').contains(e.target)) $('commands-popup').hidden = true;
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    $('commands-popup').hidden = true;
    $('modal').hidden = true;
  });
  $('people-search').addEventListener('input', renderPeople);
  $('desk-toggle').addEventListener('click', () => setDeskOpen(!state.deskOpen));
  $('desk-close').addEventListener('click', () => setDeskOpen(false));
  $('desk-reply-cancel').addEventListener('click', () => setReply(null));
  $('chat-back').addEventListener('click', () => setView('list'));
  $('desk-back').addEventListener('click', () => setDeskView('topics'));
  $('modal-ok').addEventListener('click', () => { $('modal').hidden = true; });
  document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => switchLanguage(b.dataset.lang).catch(failed)));
}

async function boot() {
  state.config = await request('GET', '/sandbox/app/config');
  setTimeZone(state.config.timezone);
  const savedOperator = Number(localStorage.getItem('oms-sandbox:operator'));
  state.operatorId = isOperator(savedOperator) ? savedOperator : state.config.operators[0].user_id;
  setView('list');
  setDeskView('topics');
  const saved = localStorage.getItem('oms-sandbox:lang');
  await setLanguage(state.config.locales.includes(saved) ? saved : state.config.default_locale);
  markLanguage();
  const world = await get('/state');
  state.bot = world.bot;
  state.lastSeq = world.last_event_seq;
  wire();
  renderOperators();
  renderStatus();
  const savedPerson = Number(localStorage.getItem('oms-sandbox:person'));
  const first = state.config.people.some((p) => p.user_id === savedPerson) ? savedPerson : state.config.people[0].user_id;
  await store.load(groupId());
  await selectPerson(first);
  setDeskOpen(localStorage.getItem('oms-sandbox:desk') === '1');
  connectEvents();
  document.body.classList.add('ready');
}

boot().catch((error) => {
  document.body.classList.add('ready');
  failed(error);
});
