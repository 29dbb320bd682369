// What the page knows of the emulated chats, kept current from the event stream.
import { get } from './api.js';

export const GENERAL_TOPIC = 1;

export function threadOf(message) {
  return message.is_topic_message ? message.message_thread_id : GENERAL_TOPIC;
}

export class Store {
  constructor() {
    this.chats = new Map();
    this.listeners = new Set();
  }

  chat(id) {
    if (!this.chats.has(id)) {
      this.chats.set(id, { id, messages: new Map(), topics: new Map(), keyboard: null, loaded: false, unread: 0 });
    }
    return this.chats.get(id);
  }

  on(listener) {
    this.listeners.add(listener);
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  async load(id) {
    const [summary, list] = await Promise.all([get(`/chats/${id}`), get(`/chats/${id}/messages`)]);
    const chat = this.chat(id);
    chat.info = summary.chat;
    chat.keyboard = summary.reply_keyboard;
    for (const record of list) {
      chat.messages.set(record.message.message_id, { message: record.message, from_bot: record.from_bot });
    }
    for (const topic of summary.topics) chat.topics.set(topic.message_thread_id, topic);
    chat.loaded = true;
    this.emit({ type: 'reset', chatId: id });
    return chat;
  }

  upsert(chatId, message, fromBot) {
    const chat = this.chat(chatId);
    const existed = chat.messages.has(message.message_id);
    const record = { message, from_bot: fromBot };
    chat.messages.set(message.message_id, record);
    this.emit({ type: existed ? 'update' : 'add', chatId, record });
  }

  remove(chatId, messageId) {
    const chat = this.chat(chatId);
    if (chat.messages.delete(messageId)) this.emit({ type: 'remove', chatId, messageId });
  }

  setKeyboard(chatId, keyboard) {
    this.chat(chatId).keyboard = keyboard;
    this.emit({ type: 'keyboard', chatId });
  }

  setTopic(chatId, topic) {
    const chat = this.chat(chatId);
    if (topic.is_deleted) chat.topics.delete(topic.message_thread_id);
    else chat.topics.set(topic.message_thread_id, topic);
    this.emit({ type: 'topics', chatId });
  }

  records(chatId, threadId = null) {
    const all = [...this.chat(chatId).messages.values()].sort((a, b) => a.message.message_id - b.message.message_id);
    return threadId === null ? all : all.filter((r) => threadOf(r.message) === threadId);
  }
}
