"""One router out of several: each module keeps its own router, the bot routes through one.

aiogram walks routers one by one for every update: each router it passes costs a propagation
(closures, middleware wrapping, its root filters) before any handler's filters run. A citizen's
text in the passport step passed 16 of them, and the walk was the largest part of the bot's own
work for that update (make bench, bench.profile). Merged, the same handlers are tried in the
same order from one router: what matches is unchanged, the walk is two routers deep.
"""

from __future__ import annotations

from aiogram import Router


def merged(name: str, *routers: Router) -> Router:
    """A new router with the handlers of `routers`, in their order and each router's own order.

    Only plain routers can be merged: one with sub-routers, root filters (`router.message.
    filter(...)`), middlewares or start-up/shutdown hooks would lose them here, so it is refused;
    put such things on the merged router instead.
    """
    target = Router(name=name)
    for source in routers:
        if source.sub_routers:
            raise ValueError(f"router {source.name!r} has sub-routers: include it instead")
        if source.startup.handlers or source.shutdown.handlers:
            raise ValueError(f"router {source.name!r} has start-up or shutdown hooks")
        for event, observer in source.observers.items():
            # aiogram keeps an observer's root filters on its private `_handler`.
            if observer._handler.filters or observer.middleware or observer.outer_middleware:
                raise ValueError(f"router {source.name!r} has filters or middlewares on {event}")
            target.observers[event].handlers.extend(observer.handlers)
    return target
