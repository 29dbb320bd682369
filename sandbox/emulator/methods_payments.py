"""Invoices and pre-checkout queries."""

from __future__ import annotations

import re
from typing import Any

from .errors import QUERY_TOO_OLD, bad_request
from .markup import parse_reply_markup
from .messaging import bot_send
from .params import Params
from .registry import Ctx, api_method


@api_method("sendInvoice")
async def send_invoice(ctx: Ctx, p: Params) -> dict[str, Any]:
    world = ctx.world
    chat = world.writable_chat(p.chat_id())
    title = p.required("title")
    description = p.required("description")
    payload = p.required("payload")
    currency = p.required("currency").upper()
    if not 1 <= len(title) <= 32:
        raise bad_request("TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise bad_request("DESCRIPTION_INVALID")
    if len(payload.encode("utf-8")) > 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise bad_request("CURRENCY_INVALID")
    prices = p.get_json("prices", "prices")
    if not isinstance(prices, list) or not prices:
        raise bad_request('parameter "prices" is required')
    total = 0
    for price in prices:
        if not isinstance(price, dict) or not isinstance(price.get("amount"), int):
            raise bad_request("can't parse prices JSON object")
        total += price["amount"]
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
    if currency == "XTR" and (len(prices) != 1 or p.has("provider_token")):
        raise bad_request("STARS_INVOICE_INVALID")
    markup = parse_reply_markup(p, inline_only=True)
    if markup is not None:
        first = markup["markup"]["inline_keyboard"][:1]
        if not first or not first[0] or not first[0][0].get("pay"):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": p.get_str("start_parameter") or "",
        "currency": currency,
        "total_amount": total,
    }
    message = bot_send(world, chat, p, {"invoice": invoice}, markup)
    rec = chat.messages[message["message_id"]]
    rec.extra["invoice_payload"] = payload
    return message


@api_method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(ctx: Ctx, p: Params) -> bool:
    world = ctx.world
    query_id = (p.get_str("pre_checkout_query_id") or "").strip()
    ok = p.get_bool("ok")
    error_message = p.get_str("error_message")
    if not ok and not error_message:
        raise bad_request('parameter "error_message" is required')
    pending = world.pre_checkout_queries.pop(query_id, None)
    if pending is None or pending.future.done():
        raise bad_request(QUERY_TOO_OLD)
    answer = {"pre_checkout_query_id": query_id, "ok": ok, "error_message": error_message}
    pending.future.set_result(answer)
    world.events.publish("pre_checkout_answer", pending.chat_id, answer)
    return True
