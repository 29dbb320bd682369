"""aiogram's RedisStorage for the dialogs' state when REDIS_URL is set, with the index that
retention and reminders read (storage.fsm.DialogRecords), as the database's fsm_state has.

Keys, under a prefix ("fsm" by default):
- `<prefix>:<key id>:state` and `<prefix>:<key id>:data`: aiogram's values; the key id is
  storage.fsm.storage_key_id, every StorageKey field (aiogram's DefaultKeyBuilder would put
  thread 0 and no thread, or "" and no business connection, in one record);
- `<prefix>:index`: a sorted set of key ids, scored by the last write's time (the injected
  clock, integer microseconds): idle dialogs are a range of it;
- `<prefix>:user:<user id>`: a set of that person's key ids, for /forget_me and /reminders.

Every write changes its value and the index in one Lua script, so they never disagree; a record
left with neither state nor data is removed with its index entries, as SqlFsmStorage drops its
row. The scripts name keys they build from index members, so this needs one Redis server (or a
primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from core.models import DialogSnapshot
from core.ports import Clock
from storage.fsm import FsmRecord, SqlFsmStorage, is_private_chat, storage_key_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BATCH = 1_000  # keys per MGET: a large scan never blocks the server for long
REDIS_TIMEOUT_SECONDS = 5.0

# KEYS: the value to change, the other value of the record, the index, the person's set.
# ARGV: the new value ("" with ARGV[2] = "0": delete it), "1" to set, the key id, the score.
_WRITE = """
if ARGV[2] == '1' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('DEL', KEYS[1])
end
if redis.call('EXISTS', KEYS[1], KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('SREM', KEYS[4], ARGV[3])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[3])
end
"""

# KEYS: state, data, the index, the person's set. ARGV: the key id, the score it was read with.
_DELETE_IF_UNCHANGED = """
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
"""

# KEYS: the person's set, the index. ARGV: the prefix. Returns how many records were removed.
_DELETE_USER = """
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. ':' .. id .. ':state', ARGV[1] .. ':' .. id .. ':data')
  redis.call('ZREM', KEYS[2], id)
end
redis.call('DEL', KEYS[1])
return #ids
"""


def to_score(moment: datetime) -> int:
    """Integer microseconds since the epoch: exact in a sorted set's double up to year 2255."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_score(score: float) -> datetime:
    return EPOCH + timedelta(microseconds=int(score))


class DialogKeyBuilder(KeyBuilder):
    """`<prefix>:<storage_key_id>:<part>`: every StorageKey field, unambiguously."""

    def __init__(self, prefix: str = "fsm") -> None:
        self.prefix = prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        return self.of_id(storage_key_id(key), part)

    def of_id(self, key_id: str, part: str | None = None) -> str:
        return f"{self.prefix}:{key_id}:{part}" if part else f"{self.prefix}:{key_id}"


class RedisDialogStorage(RedisStorage):
    """aiogram's RedisStorage plus the index of storage.fsm.DialogRecords. No TTLs: retention
    deletes idle dialogs (DRAFT_RETENTION_DAYS), and a value expiring by itself would leave its
    index entry behind.

    close() leaves the client open unless close_client=True: the composition root may share it.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        clock: Clock | None = None,
        prefix: str = "fsm",
        close_client: bool = False,
    ) -> None:
        self.keys = DialogKeyBuilder(prefix)
        super().__init__(redis, key_builder=self.keys)
        self._clock = clock  # stamps each write (retention deletes dialogs left untouched)
        self._close_client = close_client
        self._index = f"{prefix}:index"
        self._write = redis.register_script(_WRITE)
        self._delete_if_unchanged = redis.register_script(_DELETE_IF_UNCHANGED)
        self._delete_user = redis.register_script(_DELETE_USER)

    def _user_set(self, user_id: int) -> str:
        return f"{self.keys.prefix}:user:{user_id}"

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    async def _store(self, key: StorageKey, part: str, value: str | None) -> None:
        key_id = storage_key_id(key)
        other = "data" if part == "state" else "state"
        await self._write(
            keys=[
                self.keys.of_id(key_id, part),
                self.keys.of_id(key_id, other),
                self._index,
                self._user_set(key.user_id),
            ],
            args=[value or "", "0" if value is None else "1", key_id, to_score(self._now())],
        )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._store(key, "state", state.state if isinstance(state, State) else state)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Same contract as MemoryStorage and RedisStorage: only a real dict is accepted.
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        await self._store(key, "data", self.json_dumps(data) if data else None)

    async def close(self) -> None:
        if self._close_client:
            await super().close()

    # --- storage.fsm.DialogRecords ------------------------------------------------------------

    async def records_of_user(self, user_id: int) -> list[FsmRecord]:
        ids = sorted(_text(member) for member in await self.redis.smembers(self._user_set(user_id)))
        scores = await self.redis.zmscore(self._index, ids) if ids else []
        return await self._fsm_records(
            (key_id, score) for key_id, score in zip(ids, scores, strict=True) if score is not None
        )

    async def idle_records(self, written_before: datetime) -> list[FsmRecord]:
        return await self._fsm_records(await self._indexed(f"({to_score(written_before)}"))

    async def delete_if_unchanged(self, key: str, updated_at: datetime) -> bool:
        user_id = json.loads(key)[2]
        deleted = await self._delete_if_unchanged(
            keys=[
                self.keys.of_id(key, "state"),
                self.keys.of_id(key, "data"),
                self._index,
                self._user_set(user_id),
            ],
            args=[key, to_score(updated_at)],
        )
        return bool(deleted)

    async def data_values(self, field: str) -> set[str]:
        # One ZRANGE reads every key id at once: a record written meanwhile is either in it or
        # newer than the call (paging by rank could skip one as others leave the index).
        ids = [_text(member) for member in await self.redis.zrange(self._index, 0, -1)]
        values: set[str] = set()
        for data in await self._values(ids, "data"):
            value = self._data(data).get(field)
            if isinstance(value, str) and value:
                values.add(value)
        return values

    async def delete_for_user(self, user_id: int) -> int:
        """Forget every dialog of a person (a data deletion request), in one script."""
        removed = await self._delete_user(
            keys=[self._user_set(user_id), self._index], args=[self.keys.prefix]
        )
        return int(removed)

    async def dialogs(
        self, *, idle_since: datetime | None = None, user_id: int | None = None
    ) -> Sequence[DialogSnapshot]:
        if user_id is None:
            upper = "+inf" if idle_since is None else str(to_score(idle_since))
            indexed = await self._indexed(upper)
        else:
            ids = [_text(m) for m in await self.redis.smembers(self._user_set(user_id))]
            scores = await self.redis.zmscore(self._index, ids) if ids else []
            indexed = sorted(
                (
                    (key_id, score)
                    for key_id, score in zip(ids, scores, strict=True)
                    if score is not None and (idle_since is None or score <= to_score(idle_since))
                ),
                key=lambda item: item[1],
            )
        private = [(key_id, score) for key_id, score in indexed if is_private_chat(key_id)]
        ids = [key_id for key_id, _ in private]
        states = await self._values(ids, "state")
        datas = await self._values(ids, "data")
        return [
            DialogSnapshot(
                user_id=json.loads(key_id)[2],
                state=_text(state),
                data=self._data(data),
                updated_at=from_score(score),
            )
            for (key_id, score), state, data in zip(private, states, datas, strict=True)
            if state is not None
        ]

    # --- moving a deployment's dialogs here (storage/migrate_to_postgres.py --redis) ----------

    async def holds_dialogs(self) -> bool:
        return bool(await self.redis.exists(self._index))

    async def restore(
        self, records: Sequence[tuple[StorageKey, str | None, dict[str, Any], datetime]]
    ) -> None:
        """Write records (key, state, data, when last written) as they were, in one
        transaction: each with its index entries, an empty one not at all."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, state, data, updated_at in records:
                if state is None and not data:
                    continue
                key_id = storage_key_id(key)
                if state is not None:
                    pipe.set(self.keys.of_id(key_id, "state"), state)
                if data:
                    pipe.set(self.keys.of_id(key_id, "data"), self.json_dumps(data))
                pipe.zadd(self._index, {key_id: to_score(updated_at)})
                pipe.sadd(self._user_set(key.user_id), key_id)
            await pipe.execute()

    # --- reading ------------------------------------------------------------------------------

    async def _indexed(self, upper: str) -> list[tuple[str, float]]:
        """Key ids with their scores up to `upper` (a score, "(score" for below it), oldest
        first."""
        pairs = await self.redis.zrangebyscore(self._index, "-inf", upper, withscores=True)
        return [(_text(member), float(score)) for member, score in pairs]

    async def _values(self, ids: Sequence[str], part: str) -> list[bytes | str | None]:
        values: list[bytes | str | None] = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            values.extend(await self.redis.mget([self.keys.of_id(i, part) for i in batch]))
        return values

    def _data(self, value: bytes | str | None) -> dict[str, Any]:
        if value is None:
            return {}
        data = self.json_loads(_text(value))
        return data if isinstance(data, dict) else {}

    async def _fsm_records(self, indexed: Iterable[tuple[str, float]]) -> list[FsmRecord]:
        pairs = list(indexed)
        datas = await self._values([key_id for key_id, _ in pairs], "data")
        records = []
        for (key_id, score), data in zip(pairs, datas, strict=True):
            _, chat_id, user_id, *_ = json.loads(key_id)
            records.append(
                FsmRecord(
                    key=key_id,
                    user_id=user_id,
                    chat_id=chat_id,
                    data=self._data(data),
                    updated_at=from_score(score),
                )
            )
        return records


# What the composition root hands aiogram, retention and reminders.
DialogStorage = SqlFsmStorage | RedisDialogStorage


def redis_dialog_storage(url: str, *, clock: Clock | None = None) -> RedisDialogStorage:
    """The dialogs in Redis at REDIS_URL, on a client of their own (closed with the storage).
    Bounded waits: a Redis that stops answering fails an update instead of hanging it."""
    client = Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    return RedisDialogStorage(client, clock=clock, close_client=True)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
