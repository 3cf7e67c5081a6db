"""The schema, as SQLAlchemy Core tables. Alembic migrations own it in the database;
`tests/integration/test_migrations.py` proves these and the migrations do not drift."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, CHAR, INET, JSONB, TSVECTOR, UUID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(255), nullable=False, index=True, unique=True),
    Column("name", String(100), nullable=False),
    Column("department", String(50), nullable=True, index=True),
    Column("access_level", Integer, nullable=False, server_default=text("1")),
    Column("role", String(10), nullable=False, server_default=text("'member'")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("last_login_ip", INET, nullable=True),
    _created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("access_level BETWEEN 1 AND 3", name="access_level_range"),
    CheckConstraint("role IN ('guest', 'member', 'admin')", name="role_known"),
    CheckConstraint("email = lower(email)", name="email_lower_case"),
    Index("ix_users_created_at_id", "created_at", "id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, index=True),
    Column("token_hash", CHAR(64), nullable=False, unique=True),
    _created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Index("ix_api_tokens_user_id_created_at", "user_id", "created_at", "id"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "actor_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(100), nullable=False),
    Column("client_ip", INET, nullable=True),
    Column("user_agent", String(500), nullable=True),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index(
        "ix_events_subject_type_subject_id_occurred_at", "subject_type", "subject_id", "occurred_at"
    ),
    Index("ix_events_actor_id_occurred_at", "actor_id", "occurred_at"),
    Index("ix_events_action_occurred_at", "action", "occurred_at"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSONB, nullable=False),
    Column("type", String(10), nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("is_public", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("type IN ('string', 'integer', 'boolean', 'json')", name="type_known"),
)

categories = Table(
    "categories",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    _created_at(),
)

tags = Table(
    "tags",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("color", String(7), nullable=False, server_default=text("'#007bff'")),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    _created_at(),
    CheckConstraint("color ~ '^#[0-9a-f]{6}$'", name="color_hex"),
    # Unique case-insensitively: an expression index (the naming convention has no token
    # for expressions, so it is named by hand in the same style).
    Index("uq_tags_name_lower", func.lower(text("name")), unique=True),
)

file_types = Table(
    "file_types",
    metadata,
    Column("extension", String(10), primary_key=True),
    Column("mime_type", String(100), nullable=False),
    Column("is_allowed", Boolean, nullable=False, server_default=text("true")),
    Column("max_size_bytes", BigInteger, nullable=False, server_default=text("10485760")),
    Column("description", Text, nullable=False, server_default=text("''")),
    CheckConstraint("extension ~ '^[a-z0-9]{1,10}$'", name="extension_plain"),
    CheckConstraint("max_size_bytes > 0", name="max_size_positive"),
)

# What `access.readable_by` reads of a document row (besides its id).
_ACCESS_COLUMNS = ["deleted_at", "owner_id", "access_level", "department"]

documents = Table(
    "documents",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("title", String(500), nullable=False),
    Column("content", Text, nullable=False, server_default=text("''")),
    Column("document_type", String(10), nullable=False),
    Column("source", String(500), nullable=False, server_default=text("''")),
    Column("access_level", Integer, nullable=False, server_default=text("1"), index=True),
    Column("department", String(50), nullable=True, index=True),
    Column("metadata", JSONB, nullable=True),
    Column(
        "owner_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column(
        "category_id",
        UUID(as_uuid=True),
        ForeignKey("categories.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("original_filename", String(255), nullable=False),
    Column("extension", String(10), nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", CHAR(64), nullable=False, index=True),
    Column("storage_key", String(500), nullable=False),
    Column("thumbnail_key", String(500), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    _created_at(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("access_level BETWEEN 1 AND 3", name="access_level_range"),
    CheckConstraint(
        "document_type IN ('PDF', 'DOCX', 'TXT', 'MARKDOWN')", name="document_type_known"
    ),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("size_bytes >= 0", name="size_non_negative"),
    Index(
        "idx_documents_metadata",
        "metadata",
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    ),
    Index("ix_documents_deleted_at_created_at", "deleted_at", "created_at"),
    Index("ix_documents_extension_deleted_at_created_at", "extension", "deleted_at", "created_at"),
    # Listing newest first (in a category, or not): the key, and what the access predicate
    # and a category filter read, so a filtered walk finds its page from the index alone and
    # reads the heap only for the page's rows (migration 0007, docs/benchmarks.md).
    Index(
        "ix_documents_created_at_id",
        "created_at",
        "id",
        postgresql_include=[*_ACCESS_COLUMNS, "category_id"],
    ),
    Index(
        "ix_documents_category_id_created_at",
        "category_id",
        "created_at",
        "id",
        postgresql_include=_ACCESS_COLUMNS,
    ),
    # The same by id: a tag's documents (from document_tags) are tested for access and
    # category without reading the heap.
    Index(
        "ix_documents_id_listing",
        "id",
        postgresql_include=[*_ACCESS_COLUMNS, "category_id", "created_at"],
    ),
    Index("ix_documents_storage_key", "storage_key"),
    # A search's N (the documents a reader may search, bounded): the live documents a
    # clearance opens, counted from this index alone (`access.clearance_parts`; 0015).
    Index(
        "ix_documents_department_access_level_live",
        "department",
        "access_level",
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

document_tags = Table(
    "document_tags",
    metadata,
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "tag_id", UUID(as_uuid=True), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    ),
    _created_at(),
    Index("ix_document_tags_tag_id_document_id", "tag_id", "document_id"),
)

# What background work has done to a document, per kind (issue #12 item 4; migration 0011).
# The listing's `processing=<state>` and `<kind>:<state>` filters, and `needs_ocr`, find
# their documents through (state, kind, document_id).
document_processing = Table(
    "document_processing",
    metadata,
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("kind", String(50), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("state IN ('pending', 'done', 'failed', 'not_applicable')", name="state_known"),
    Index("ix_document_processing_state_kind_document_id", "state", "kind", "document_id"),
)

permissions = Table(
    "permissions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "document_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("access", String(10), nullable=False),
    Column(
        "granted_by",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("granted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("access IN ('read', 'write', 'delete')", name="access_known"),
    UniqueConstraint("user_id", "document_id"),
)

taxonomy_versions = Table(
    "taxonomy_versions",
    metadata,
    Column("version", String(20), primary_key=True),
    Column("status", String(10), nullable=False, server_default=text("'draft'")),
    _created_at(),
    Column("published_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('draft', 'published')", name="status_known"),
    CheckConstraint(
        "(status = 'published') = (published_at IS NOT NULL)", name="published_has_time"
    ),
)

taxonomy_nodes = Table(
    "taxonomy_nodes",
    metadata,
    Column("node_id", UUID(as_uuid=True), primary_key=True),
    Column(
        "version",
        String(20),
        ForeignKey("taxonomy_versions.version", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("label", String(100), nullable=False),
    Column("canonical_path", ARRAY(Text), nullable=False),
    Column(
        "parent_id",
        UUID(as_uuid=True),
        ForeignKey("taxonomy_nodes.node_id", ondelete="CASCADE"),
        nullable=True,
    ),
    _created_at(),
    UniqueConstraint("version", "canonical_path"),
    CheckConstraint("cardinality(canonical_path) BETWEEN 1 AND 20", name="path_depth"),
    Index("ix_taxonomy_nodes_canonical_path", "canonical_path", postgresql_using="gin"),
    Index("ix_taxonomy_nodes_parent_id", "parent_id"),
)

doc_taxonomy = Table(
    "doc_taxonomy",
    metadata,
    Column(
        "doc_id",
        UUID(as_uuid=True),
        ForeignKey("documents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "node_id",
        UUID(as_uuid=True),
        ForeignKey("taxonomy_nodes.node_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "version",
        String(20),
        ForeignKey("taxonomy_versions.version", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("path", ARRAY(Text), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("hitl_required", Boolean, nullable=False, server_default=text("false")),
    Column(
        "reviewed_by",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    _created_at(),
    CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    # Subtree listing goes node -> documents; the review queue reads only pending rows.
    Index("ix_doc_taxonomy_node_id_doc_id", "node_id", "doc_id"),
    Index(
        "ix_doc_taxonomy_created_at_review",
        "created_at",
        postgresql_where=text("hitl_required"),
    ),
)

# Full-text search: the vector is written by the application with the document
# (`infrastructure.search_index.analysis`: words, English stems, Hangul bigrams; title words
# before content words), so both storages index exactly the same lexemes (migration 0008).
documents.append_column(Column("search_vector", TSVECTOR, nullable=True))
Index("ix_documents_search_vector", documents.c.search_vector, postgresql_using="gin")
# The listing's `q` (a part of the title): a GIN index on the lower-cased title's trigrams,
# made by a SQL function of migration 0012 (the embedded server has no pg_trgm).
Index(
    "ix_documents_title_trigrams",
    func.archivist_trigrams(documents.c.title),
    postgresql_using="gin",
    postgresql_with={"fastupdate": "off"},
)
# The title and size sorts (either way: read backwards), covering as the newest-first one.
# The title key is `title COLLATE "C"` (the sort's byte order): written so by migration
# 0012, and stated here as the plain column, because that is how reflection reads it back
# (`alembic check` compares against reflection and would otherwise see a difference).
Index(
    "ix_documents_title_id",
    "title",
    documents.c.id,
    postgresql_include=[*_ACCESS_COLUMNS, "category_id"],
)
Index(
    "ix_documents_size_bytes_id",
    documents.c.size_bytes,
    documents.c.id,
    postgresql_include=[*_ACCESS_COLUMNS, "category_id"],
)

search_queries = Table(
    "search_queries",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("query", Text, nullable=False),
    Column("session_id", String(100), nullable=True),
    Column("filters", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column(
        "timestamp", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    ),
)

search_responses = Table(
    "search_responses",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "query_id",
        UUID(as_uuid=True),
        ForeignKey("search_queries.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("answer", Text, nullable=False, server_default=text("''")),
    Column("sources", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("result_count", Integer, nullable=False),
    Column("response_time_ms", Integer, nullable=False),
    Column("timestamp", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("result_count >= 0", name="result_count_non_negative"),
    CheckConstraint("response_time_ms >= 0", name="response_time_non_negative"),
)

user_feedback = Table(
    "user_feedback",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "query_id",
        UUID(as_uuid=True),
        ForeignKey("search_queries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=True),
    Column("timestamp", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    UniqueConstraint("query_id", "user_id"),
)


# Every attempt to store a file (issue #12): history, so no foreign keys: `user_id` and
# `document_id` say who sent it and what it made, as `events` say it, and stay when a
# document is purged.
uploads = Table(
    "uploads",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("user_id", UUID(as_uuid=True), nullable=True),
    Column("client_ip", String(45), nullable=True),
    Column("user_agent", String(500), nullable=True),
    Column("filename", String(255), nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("status", String(20), nullable=False),
    Column("error_code", String(100), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=False),
    Column("document_id", UUID(as_uuid=True), nullable=True),
    CheckConstraint("source IN ('http', 'text', 'import', 'consume')", name="source_known"),
    CheckConstraint("status IN ('stored', 'duplicate', 'rejected', 'failed')", name="status_known"),
    Index("ix_uploads_started_at_id", "started_at", "id"),
    Index("ix_uploads_status_started_at", "status", "started_at"),
)


# The statement timings each server process adds every few seconds (`statement_stats_flush`),
# per statement name: what `archivist db-report` shows as the slowest statements.
statement_stats = Table(
    "statement_stats",
    metadata,
    Column("name", Text, primary_key=True),
    Column("calls", BigInteger, nullable=False),
    Column("total_ms", Float, nullable=False),
    Column("max_ms", Float, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# Signing in to the web interface (docs/decisions.md, "Accounts: passwords and sessions"):
# a user's password hash, in a table of its own so the users row read with every request
# never carries it; server-side sessions and one-time set-password links, each stored as the
# SHA-256 of its secret.
user_passwords = Table(
    "user_passwords",
    metadata,
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("password_hash", String(255), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("secret_hash", CHAR(64), nullable=False, unique=True),
    Column("csrf_secret", String(64), nullable=False),
    _created_at(),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("idle_expires_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("client_ip", INET, nullable=True),
    Column("user_agent", String(500), nullable=True),
)

password_links = Table(
    "password_links",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "user_id",
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("link_hash", CHAR(64), nullable=False, unique=True),
    _created_at(),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
