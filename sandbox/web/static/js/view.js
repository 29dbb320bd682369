// A scrolling list of message elements, updated in place (edits replace, deletions fade out).
// Like Telegram, it sticks to the bottom while the reader is there, whatever changes size (a long
// message, a picture loading, the desk opening beside it, the pane coming back into view); a
// reader scrolled up stays put and gets a "new messages" button with a counter instead.
import { renderMessage } from './messages.js';

const STICKY_PX = 120;

export class MessageList {
  constructor(container, makeContext, jumpButton = null) {
    this.container = container;
    this.makeContext = makeContext;
    this.jumpButton = jumpButton;
    this.nodes = new Map();
    this.stick = true;
    this.unseen = 0;
    // One observer for the list and every message in it: any change of size keeps the bottom.
    this.sizes = new ResizeObserver(() => this.keepPlace());
    this.sizes.observe(container);
    container.addEventListener('scroll', () => this.scrolled(), { passive: true });
    jumpButton?.addEventListener('click', () => {
      this.stick = true;
      this.scrollToBottom();
    });
  }

  visible() {
    return this.container.clientHeight > 0;
  }

  nearBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < STICKY_PX;
  }

  scrollToBottom() {
    this.container.scrollTop = this.container.scrollHeight;
    this.unseen = 0;
    this.renderJump();
  }

  scrolled() {
    // A hidden pane reports no size; its scroll position says nothing about the reader.
    if (!this.visible()) return;
    this.stick = this.nearBottom();
    if (this.stick) this.unseen = 0;
    this.renderJump();
  }

  keepPlace() {
    if (this.stick && this.visible()) this.scrollToBottom();
  }

  renderJump() {
    const button = this.jumpButton;
    if (!button) return;
    button.hidden = this.stick;
    const badge = button.querySelector('.unread');
    badge.hidden = !this.unseen;
    badge.textContent = String(this.unseen);
  }

  node(record) {
    const node = renderMessage(record, this.makeContext());
    this.sizes.observe(node);
    return node;
  }

  forget(node) {
    this.sizes.unobserve(node);
  }

  render(records, emptyNode = null) {
    for (const node of this.nodes.values()) this.forget(node);
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

  isOwn(record) {
    const viewer = this.makeContext().viewerId;
    return !record.from_bot && record.message.from?.id === viewer;
  }

  add(record) {
    // What the reader sends always brings them down, as in Telegram.
    if (this.isOwn(record)) this.stick = true;
    else if (this.visible()) this.stick = this.nearBottom();
    this.container.querySelector('.empty')?.remove();
    this.append(record);
    if (this.stick) this.scrollToBottom();
    else {
      this.unseen += 1;
      this.renderJump();
    }
  }

  update(record) {
    const old = this.nodes.get(record.message.message_id);
    if (!old) return this.add(record);
    const node = this.node(record);
    node.classList.add('flash');
    this.forget(old);
    old.replaceWith(node);
    this.nodes.set(record.message.message_id, node);
    if (this.stick) this.scrollToBottom();
    return undefined;
  }

  remove(messageId) {
    const node = this.nodes.get(messageId);
    if (!node) return;
    this.nodes.delete(messageId);
    this.forget(node);
    node.classList.add('removing');
    setTimeout(() => node.remove(), 250);
  }

  jump(messageId) {
    const node = this.nodes.get(messageId);
    if (!node) return;
    this.stick = false;
    node.scrollIntoView({ block: 'center', behavior: 'smooth' });
    node.classList.remove('flash');
    void node.offsetWidth; // restart the highlight animation
    node.classList.add('flash');
  }
}
