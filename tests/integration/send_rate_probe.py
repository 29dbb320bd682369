"""One process sending through the Redis-shared send limits (bot/ratelimit.py): takes `count`
slots for chats 1..`chats` in turn and prints, per line, the time each was granted and its chat.
Run by test_redis_shared.py as two processes at once against one Redis."""

from __future__ import annotations

import asyncio
import sys
import time

from bot.ratelimit import RedisSendRates, redis_limits_storage


async def probe(url: str, count: int, chats: int, per_second: int, start_at: float) -> None:
    rates = RedisSendRates(redis_limits_storage(url), per_second=per_second)
    await asyncio.sleep(max(0.0, start_at - time.time()))  # both processes begin together
    for n in range(count):
        chat = n % chats + 1
        await rates.acquire(chat)
        print(f"{time.time():.6f} {chat}", flush=True)


if __name__ == "__main__":
    url, count, chats, per_second, start_at = sys.argv[1:6]
    asyncio.run(probe(url, int(count), int(chats), int(per_second), float(start_at)))
