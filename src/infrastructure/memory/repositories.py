"""In-memory repositories over `StagedTable`s: same results, order, pages and errors as SQL."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from domain.errors import Conflict
from domain.events import Event, EventFilter
from domain.pagination import EVENTS, TOKENS, USERS, Keyset, Page, PageRequest
from domain.settings import Setting
from domain.tokens import ApiToken
from domain.users import User, UserFilter
from infrastructure import constraints
from infrastructure.constraints import conflict
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.table import StagedTable


class _Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> UUID: ...


R = TypeVar("R", bound=_Keyed)


def created_page(rows: Iterable[R], keyset: Keyset, page: PageRequest) -> Page[R]:
    """A page of `rows` in `(created_at, id)` order, exactly as the SQL adapters order it."""

    def position(row: R) -> tuple[datetime, UUID]:
        return (row.created_at, row.id)

    ordered = sorted(rows, key=position, reverse=keyset.descending)
    after = keyset.after(page)
    if after is not None:
        ordered = [r for r in ordered if keyset.beyond(position(r), after)]
    return keyset.page(ordered[: page.limit + 1], page.limit, position)


def _unique(table: StagedTable[UUID, Any], row: Any, column: str, message: str) -> None:
    """Raise `Conflict` if another row already holds `row.<column>`."""
    value = getattr(row, column)
    clash = table.find(lambda other: other.id != row.id and getattr(other, column) == value)
    if clash is not None:
        raise Conflict(message)


class InMemoryUserRepository:
    def __init__(self, table: StagedTable[UUID, User]) -> None:
        self._t = table

    async def add(self, user: User) -> None:
        if self._t.exists(user.id):
            raise conflict(constraints.PK_USERS)
        _unique(self._t, user, "email", constraints.message(constraints.IX_USERS_EMAIL))
        self._t.put(user.id, user)

    async def get(self, user_id: UUID) -> User | None:
        return self._t.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return self._t.find(lambda u: u.email == wanted)

    async def list(self, filters: UserFilter, page: PageRequest) -> Page[User]:
        return created_page((u for u in self._t.values() if filters.matches(u)), USERS, page)

    async def update(self, user: User) -> None:
        _unique(self._t, user, "email", constraints.message(constraints.IX_USERS_EMAIL))
        columns = {f.name: getattr(user, f.name) for f in dataclasses.fields(user)}
        del columns["id"], columns["created_at"]
        self._t.patch(user.id, **columns)

    async def record_login(self, user_id: UUID, at: datetime, ip: str | None) -> None:
        self._t.patch(user_id, last_login_at=at, last_login_ip=ip)

    async def count_active_admins(self) -> int:
        return sum(1 for u in self._t.values() if u.is_active_admin)

    async def any_exist(self) -> bool:
        return next(iter(self._t.all_keys()), None) is not None


class InMemoryApiTokenRepository:
    def __init__(self, table: StagedTable[UUID, ApiToken], users: StagedTable[UUID, User]) -> None:
        self._t = table
        self._users = users

    async def add(self, token: ApiToken) -> None:
        if not self._users.exists(token.user_id):
            raise conflict(constraints.FK_API_TOKENS_USER_ID_USERS)
        _unique(
            self._t, token, "token_hash", constraints.message(constraints.UQ_API_TOKENS_TOKEN_HASH)
        )
        self._t.put(token.id, token)

    async def get(self, token_id: UUID) -> ApiToken | None:
        return self._t.get(token_id)

    async def find_with_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        token = self._t.find(lambda tk: tk.token_hash == token_hash)
        if token is None:
            return None
        user = self._users.get(token.user_id)
        return (token, user) if user is not None else None

    async def list(self, user_id: UUID | None, page: PageRequest) -> Page[ApiToken]:
        rows = (tk for tk in self._t.values() if user_id is None or tk.user_id == user_id)
        return created_page(rows, TOKENS, page)

    async def update(self, token: ApiToken) -> None:
        columns = {f.name: getattr(token, f.name) for f in dataclasses.fields(token)}
        del columns["id"], columns["created_at"]
        self._t.patch(token.id, **columns)

    async def touch(self, token_id: UUID, now: datetime, stale_before: datetime) -> bool:
        token = self._t.get(token_id)
        if token is None or (token.last_used_at is not None and token.last_used_at >= stale_before):
            return False
        return self._t.patch(token_id, last_used_at=now)


class InMemoryEventRepository:
    """The audit trail. In a transaction, events wait in `pending` for the commit; in an
    autocommit unit of work each is written as it is added, as the SQL insert commits alone."""

    def __init__(self, store: InMemoryStore, *, autocommit: bool = False) -> None:
        self._store = store
        self._autocommit = autocommit
        self.pending: list[Event] = []
        self.doomed: set[int] = set()  # ids deleted by this unit of work, gone at commit

    async def add(self, event: Event) -> None:
        await self.add_all([event])

    async def add_all(self, events: Sequence[Event]) -> None:
        self.pending.extend(copy.deepcopy(e) for e in events)
        if self._autocommit:
            self.commit_into(self._store)

    async def list(self, filters: EventFilter, page: PageRequest) -> Page[Event]:
        # Pending events have no id yet and are invisible, as are uncommitted rows in SQL
        # to anyone else; a unit of work listing its own unflushed audit rows is not a use.
        rows: list[Event] = [e for e in reversed(self._store.events) if filters.matches(e)]
        after = EVENTS.after(page)
        if after is not None:
            rows = [e for e in rows if EVENTS.beyond((e.id,), after)]
        items = [copy.deepcopy(e) for e in rows[: page.limit + 1]]
        return EVENTS.page(items, page.limit, lambda e: (e.id,))

    async def delete_before(
        self, actions: Collection[str], cutoff: datetime, limit: int, *, dry_run: bool = False
    ) -> int:
        doomed = [
            e.id
            for e in sorted(self._store.events, key=lambda e: (e.occurred_at, e.id or 0))
            if e.id is not None
            and e.action in actions
            and e.occurred_at < cutoff
            and e.id not in self.doomed
        ][:limit]
        if not dry_run:
            self.doomed.update(doomed)
            if self._autocommit:
                self.commit_into(self._store)
        return len(doomed)

    def commit_into(self, store: InMemoryStore) -> None:
        if self.doomed:
            store.events[:] = [e for e in store.events if e.id not in self.doomed]
            self.doomed.clear()
        for event in self.pending:
            store.last_event_id += 1
            store.events.append(dataclasses.replace(event, id=store.last_event_id))
        self.pending.clear()


class InMemorySettingRepository:
    def __init__(self, table: StagedTable[str, Setting]) -> None:
        self._t = table

    async def get(self, key: str) -> Setting | None:
        return self._t.get(key)

    async def list(self) -> Sequence[Setting]:
        return sorted(self._t.values(), key=lambda s: s.key)

    async def put(self, setting: Setting) -> None:
        self._t.put(setting.key, setting)


def check_unique_on_commit(
    table: StagedTable[Any, Any],
    committed: dict[Any, Any],
    column: str,
    message: str,
    normalize: Callable[[Any], Any] = lambda value: value,
) -> None:
    """Re-check a unique column against what others committed since this unit of work read."""
    for key, row in table.pending():
        value = normalize(getattr(row, column))
        for other_key, other in committed.items():
            if other_key != key and normalize(getattr(other, column)) == value:
                raise Conflict(message)
