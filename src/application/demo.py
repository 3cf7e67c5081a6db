"""`archivist seed-demo` (SPEC.md §4): three users and three documents to try Archivist with.

Idempotent: users are recognised by email, documents by title and owner (in the trash too),
so a second run creates nothing and issues no token."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from application.context import RequestContext
from application.document_store import DocumentFields
from application.document_uploads import DocumentUploads
from application.tokens import TokenIssue, TokenService
from application.users import CreateUser, UserService
from domain.document_ports import DocumentFilter, DocumentSort
from domain.documents import DocumentType
from domain.pagination import PageRequest
from domain.ports import UnitOfWorkFactory
from domain.users import User

DEMO_DOMAIN = "demo.archivist.localhost"


@dataclass(frozen=True, slots=True)
class DemoUserSpec:
    key: str
    name: str
    role: str
    access_level: int
    department: str

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"


@dataclass(frozen=True, slots=True)
class DemoDocumentSpec:
    title: str
    owner: str  # a DemoUserSpec key
    access_level: int
    department: str | None
    tags: tuple[str, ...]
    content: str


DEMO_USERS: tuple[DemoUserSpec, ...] = (
    DemoUserSpec("admin", "Ada Admin", "admin", 3, "Management"),
    DemoUserSpec("engineer", "Erin Engineer", "member", 2, "Engineering"),
    DemoUserSpec("intern", "Ian Intern", "member", 1, "Engineering"),
)

DEMO_DOCUMENTS: tuple[DemoDocumentSpec, ...] = (
    DemoDocumentSpec(
        title="Employee Handbook",
        owner="admin",
        access_level=1,
        department=None,
        tags=("handbook", "onboarding"),
        content="""# Employee Handbook

Welcome! This handbook is readable by everyone in the company.

## Working hours
Core hours are 10:00 to 16:00; plan the rest of your day as suits your team.

## Holidays
Everyone has 28 days of paid leave a year. Book them in the HR tool two weeks ahead.

## Security
- Lock your screen when you leave your desk.
- Never share your API token; revoke it at once if it leaks.
""",
    ),
    DemoDocumentSpec(
        title="Engineering Guide",
        owner="engineer",
        access_level=2,
        department="Engineering",
        tags=("engineering", "onboarding"),
        content="""# Engineering Guide

For the Engineering department (clearance L2).

## Development workflow
1. Branch from `main`, keep changes small.
2. Every change is reviewed by one other engineer.
3. `make test` passes before merging: lint, types and every test suite.

## Deployments
We deploy on weekdays before 15:00. Database migrations run first and must be
backwards compatible with the running release.

## On call
The rota is in the team calendar; hand over open incidents in writing.
""",
    ),
    DemoDocumentSpec(
        title="Company Strategy 2026",
        owner="admin",
        access_level=3,
        department="Management",
        tags=("strategy",),
        content="""# Company Strategy 2026

Confidential: Management only (clearance L3).

## Goals
- Grow recurring revenue by 30 %.
- Enter two new markets in the second half of the year.
- Keep customer churn below 5 %.

## Investments
Most of next year's budget goes to the search platform and to customer support.

## Risks
Hiring speed, and a competitor's expected price cut in the spring.
""",
    ),
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    user: User
    created: bool
    token: str | None  # the new token's secret, only for a user created by this run


@dataclass(frozen=True, slots=True)
class DemoDocument:
    document_id: UUID
    title: str
    owner_email: str
    access_level: int
    department: str | None
    created: bool


@dataclass(frozen=True, slots=True)
class DemoReport:
    users: Sequence[DemoUser]
    documents: Sequence[DemoDocument]

    @property
    def changed(self) -> bool:
        return any(u.created for u in self.users) or any(d.created for d in self.documents)


class DemoService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        users: UserService,
        tokens: TokenService,
        uploads: DocumentUploads,
    ) -> None:
        self._uow = uow_factory
        self._users = users
        self._tokens = tokens
        self._uploads = uploads

    async def seed(self) -> DemoReport:
        """Create whichever demo users and documents are missing; a new user gets a token.

        Each user (with its token) and each document is its own unit of work, so a run cut
        short is completed by the next. Raises `PermissionDenied` if a demo user was
        deactivated or demoted so that it may no longer create its document."""
        users = [await self._ensure_user(spec) for spec in DEMO_USERS]
        by_key = {spec.key: u.user for spec, u in zip(DEMO_USERS, users, strict=True)}
        documents = [
            await self._ensure_document(spec, by_key[spec.owner]) for spec in DEMO_DOCUMENTS
        ]
        return DemoReport(users, documents)

    async def _ensure_user(self, spec: DemoUserSpec) -> DemoUser:
        ctx = RequestContext.system()
        async with self._uow() as uow:
            existing = await uow.users.get_by_email(spec.email)
            if existing is not None:
                return DemoUser(existing, created=False, token=None)
            user = await self._users.add_in(
                uow,
                ctx,
                CreateUser(
                    email=spec.email,
                    name=spec.name,
                    department=spec.department,
                    access_level=spec.access_level,
                    role=spec.role,
                ),
            )
            issued = await self._tokens.issue_in(uow, ctx, user.id, TokenIssue(name="demo"))
            await uow.commit()
        return DemoUser(user, created=True, token=issued.secret)

    async def _ensure_document(self, spec: DemoDocumentSpec, owner: User) -> DemoDocument:
        found = await self._find(spec.title, owner)
        if found is None:
            doc = await self._uploads.create_text(
                RequestContext(actor=owner),
                spec.content,
                DocumentType.MARKDOWN,
                DocumentFields(
                    title=spec.title,
                    access_level=spec.access_level,
                    department=spec.department,
                    tags=spec.tags,
                    source="archivist seed-demo",
                    # Recognised by title and owner above; equal bytes elsewhere are fine.
                    on_duplicate="allow",
                ),
            )
            found, created = doc.id, True
        else:
            created = False
        return DemoDocument(
            found, spec.title, owner.email, spec.access_level, spec.department, created
        )

    async def _find(self, title: str, owner: User) -> UUID | None:
        """The owner's live or trashed document with this title, if any."""
        async with self._uow(autocommit=True) as uow:
            for deleted in (False, True):
                cursor: str | None = None
                while True:
                    page = await uow.documents.list_readable(
                        owner,
                        DocumentFilter(owner_id=owner.id, deleted=deleted),
                        DocumentSort.CREATED,
                        PageRequest(200, cursor),
                    )
                    for doc in page.items:
                        if doc.title == title:
                            return doc.id
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
        return None
