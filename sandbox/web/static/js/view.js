// A scrolling list of message elements, updated in place (edits replace, deletions fade out).
import { renderMessage } from './messages.js';

const STICKY_PX = 120;

export class MessageList {
  constructor(container, makeContext) {
    this.container = container;
    this.makeContext = makeContext;
    this.nodes = new Map();
  }

  nearBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < STICKY_PX;
  }

  scrollToBottom() {
    this.container.scrollTop = this.container.scrollHeight;
  }

  node(record) {
    const node = renderMessage(record, this.makeContext());
    // Pictures change the height once loaded: keep the newest message in view.
    node.querySelectorAll('img').forEach((img) => img.addEventListener('load', () => {
      if (this.stick) this.scrollToBottom();
    }));
    return node;
  }

  render(records, emptyNode = null) {
    this.container.replaceChildren();
    this.nodes.clear();
    for (const record of records) this.append(record);
    if (!records.length && emptyNode) this.container.append(emptyNode);
    this.stick = true;
    this.scrollToBottom();
  }

  append(record) {
    const id = record.message.message_id;
    const node = this.node(record);
    // Ids grow within a chat, so a new message almost always goes last.
    const after = [...this.nodes.keys()].filter((k) => k > id).sort((a, b) => a - b)[0];
    if (after !== undefined) this.container.insertBefore(node, this.nodes.get(after));
    else this.container.append(node);
    this.nodes.set(id, node);
  }

  add(record) {
    this.stick = this.nearBottom() || !record.from_bot;
    this.container.querySelector('.empty')?.remove();
    this.append(record);
    if (this.stick) this.scrollToBottom();
  }

  update(record) {
    const old = this.nodes.get(record.message.message_id);
    if (!old) return this.add(record);
    const stick = this.nearBottom();
    const node = this.node(record);
    node.classList.add('flash');
    old.replaceWith(node);
    this.nodes.set(record.message.message_id, node);
    if (stick) this.scrollToBottom();
  }

  remove(messageId) {
    const node = this.nodes.get(messageId);
    if (!node) return;
    this.nodes.delete(messageId);
    node.classList.add('removing');
    setTimeout(() => node.remove(), 250);
  }

  jump(messageId) {
    const node = this.nodes.get(messageId);
    if (!node) return;
    node.scrollIntoView({ block: 'center', behavior: 'smooth' });
    node.classList.remove('flash');
    void node.offsetWidth; // restart the highlight animation
    node.classList.add('flash');
  }
}
