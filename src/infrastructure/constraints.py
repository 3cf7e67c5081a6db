"""The database's constraints by name, and what a client reads when one is violated: one table
for both storages. The SQL adapter translates a driver error by the constraint it names; the
in-memory adapter raises the same `Conflict` for the same rule (`conflict(NAME)`).
`tests/unit/test_constraints.py` checks every name here is one the tables declare."""

from __future__ import annotations

from typing import Final

from domain.errors import Conflict

PK_USERS: Final = "pk_users"
IX_USERS_EMAIL: Final = "ix_users_email"
UQ_API_TOKENS_TOKEN_HASH: Final = "uq_api_tokens_token_hash"  # noqa: S105 - a name, no secret
FK_API_TOKENS_USER_ID_USERS: Final = "fk_api_tokens_user_id_users"
PK_DOCUMENTS: Final = "pk_documents"
FK_DOCUMENTS_OWNER_ID_USERS: Final = "fk_documents_owner_id_users"
FK_DOCUMENTS_CATEGORY_ID_CATEGORIES: Final = "fk_documents_category_id_categories"
FK_DOCUMENT_TAGS_TAG_ID_TAGS: Final = "fk_document_tags_tag_id_tags"
UQ_CATEGORIES_NAME: Final = "uq_categories_name"
UQ_TAGS_NAME_LOWER: Final = "uq_tags_name_lower"
FK_PERMISSIONS_USER_ID_USERS: Final = "fk_permissions_user_id_users"
FK_PERMISSIONS_DOCUMENT_ID_DOCUMENTS: Final = "fk_permissions_document_id_documents"
PK_TAXONOMY_VERSIONS: Final = "pk_taxonomy_versions"
UQ_TAXONOMY_NODES_VERSION: Final = "uq_taxonomy_nodes_version"
FK_TAXONOMY_NODES_PARENT_ID_TAXONOMY_NODES: Final = "fk_taxonomy_nodes_parent_id_taxonomy_nodes"
FK_TAXONOMY_NODES_VERSION_TAXONOMY_VERSIONS: Final = "fk_taxonomy_nodes_version_taxonomy_versions"
PK_DOC_TAXONOMY: Final = "pk_doc_taxonomy"
FK_DOC_TAXONOMY_DOC_ID_DOCUMENTS: Final = "fk_doc_taxonomy_doc_id_documents"
FK_DOC_TAXONOMY_NODE_ID_TAXONOMY_NODES: Final = "fk_doc_taxonomy_node_id_taxonomy_nodes"
PK_UPLOADS: Final = "pk_uploads"
FK_USER_PASSWORDS_USER_ID_USERS: Final = "fk_user_passwords_user_id_users"
FK_USER_SESSIONS_USER_ID_USERS: Final = "fk_user_sessions_user_id_users"
UQ_USER_SESSIONS_SECRET_HASH: Final = "uq_user_sessions_secret_hash"  # noqa: S105 - a name
FK_PASSWORD_LINKS_USER_ID_USERS: Final = "fk_password_links_user_id_users"  # noqa: S105 - a name
UQ_PASSWORD_LINKS_LINK_HASH: Final = "uq_password_links_link_hash"  # noqa: S105 - a name

# What a client reads for a constraint; any other name reads "conflicts with existing data".
MESSAGES: Final[dict[str, str]] = {
    IX_USERS_EMAIL: "a user with this email already exists",
    UQ_API_TOKENS_TOKEN_HASH: "token collision; issue again",
    UQ_USER_SESSIONS_SECRET_HASH: "session collision; sign in again",
    UQ_PASSWORD_LINKS_LINK_HASH: "link collision; issue again",
}


def message(name: str | None) -> str:
    return MESSAGES.get(name or "", f"conflicts with existing data ({name or 'constraint'})")


def conflict(name: str) -> Conflict:
    """The error a violation of constraint `name` is, on either storage."""
    return Conflict(message(name))
