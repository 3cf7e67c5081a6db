"""The composition root: builds every adapter and use case once. Nothing runs at import;
`build_container()` is called by the app factory, the CLI and the tests."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from dependency_injector import containers, providers

from application.accounts import AccountService
from application.audit import AuditLog
from application.auth_throttle import FailedAuthenticationThrottle
from application.bootstrap import AdminBootstrap
from application.catalog import CatalogService
from application.consume import ConsumeOptions, ConsumerLease, DocumentConsumer
from application.demo import DemoService
from application.document_bulk import DocumentBulk
from application.document_import import DocumentImport
from application.document_lifecycle import DocumentLifecycle
from application.document_ocr import JOB as OCR_JOB
from application.document_ocr import DocumentOcr
from application.document_reads import DocumentReads
from application.document_thumbnails import JOB as THUMBNAIL_JOB
from application.document_thumbnails import DocumentThumbnails
from application.document_uploads import DocumentUploads
from application.grants import GrantService
from application.job_admin import JobAdmin
from application.jobs import JobHandlers, RetryPolicy
from application.maintenance import PURGE_JOB, MaintenanceService
from application.passwords import PasswordService
from application.processing import DocumentProcessing
from application.search import SearchService
from application.settings import SettingsService
from application.stats import StatsService
from application.taxonomy import TaxonomyResolver, TaxonomyService
from application.tokens import TokenService
from application.upload_log import UploadLog
from application.users import UserService
from domain.clock import SystemClock
from domain.jobs import JsonObject
from domain.sessions import SessionLifetime
from infrastructure.blobs import FilesystemBlobStore
from infrastructure.config import AppSettings
from infrastructure.consume_folder import ConsumeFolder
from infrastructure.extraction import ExtractionLimits, ProcessLimits, ProcessTextExtractor
from infrastructure.extraction.ocr import tesseract_problem
from infrastructure.job_metrics import count_job_outcome
from infrastructure.memory.blob_locks import InMemoryBlobLocks
from infrastructure.memory.blobs import InMemoryBlobStore
from infrastructure.memory.consumer_lease import InMemoryConsumerLease
from infrastructure.memory.job_runner import InMemoryJobRunner
from infrastructure.memory.stats import InMemoryStatsRepository
from infrastructure.memory.store import InMemoryStore
from infrastructure.memory.uow import InMemoryUnitOfWorkFactory
from infrastructure.passwords import Argon2Parameters, Argon2PasswordHasher, OffloadedHasher
from infrastructure.sqlalchemy.blob_locks import AdvisoryBlobLocks
from infrastructure.sqlalchemy.consumer_lease import AdvisoryConsumerLease
from infrastructure.sqlalchemy.database import Database
from infrastructure.sqlalchemy.job_worker import PgJobWorker
from infrastructure.sqlalchemy.migrations import AlwaysReady, SqlReadiness
from infrastructure.sqlalchemy.statement_stats_flush import StatementStatsFlusher
from infrastructure.sqlalchemy.stats import SqlAlchemyStatsRepository
from infrastructure.sqlalchemy.uow import SqlAlchemyUnitOfWorkFactory
from infrastructure.tuning import Tuning


def _engine_of(database: Database) -> object:
    return database.engine


def _extraction_limits(settings: AppSettings) -> ExtractionLimits:
    return ExtractionLimits(max_pdf_pages=settings.extraction_max_pdf_pages)


def _consume_options(settings: AppSettings) -> ConsumeOptions:
    return ConsumeOptions(settings.consume_user, settings.consume_subdirs_as)


def _consume_folder(
    settings: AppSettings, consumer: DocumentConsumer, lease: ConsumerLease
) -> ConsumeFolder | None:
    """The consume folder's watcher, run beside the job worker; None when no folder is set."""
    if settings.consume_dir is None:
        return None
    return ConsumeFolder(
        settings.consume_dir,
        consumer,
        lease,
        settle_seconds=settings.consume_settle_seconds,
    )


def _statement_stats_flusher(
    settings: AppSettings, database: Database
) -> StatementStatsFlusher | None:
    """What adds this process's statement statistics to the database (started by server
    processes: the app with `keep_statement_stats`, `archivist worker`); None when the
    storage is memory or the flush is off."""
    if settings.storage != "postgres" or settings.statement_stats_flush_seconds <= 0:
        return None
    return StatementStatsFlusher(database.url, settings.statement_stats_flush_seconds)


def _argon2_parameters(settings: AppSettings) -> Argon2Parameters:
    return Argon2Parameters(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )


def _session_lifetime(settings: AppSettings) -> SessionLifetime:
    return SessionLifetime(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
    )


def _process_limits(settings: AppSettings) -> ProcessLimits:
    return ProcessLimits(
        cpu_seconds=settings.extraction_cpu_seconds,
        memory_mb=settings.extraction_memory_mb,
        timeout_seconds=settings.extraction_timeout_seconds,
        workers=settings.extraction_workers,
    )


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    app_settings = providers.Dependency(instance_of=AppSettings)

    clock = providers.Singleton(SystemClock)

    memory_store = providers.Singleton(InMemoryStore)
    database = providers.Singleton(Database, config.database_url, app_settings)
    # The adapters' bounds and thresholds (a test exercising one overrides this provider).
    tuning = providers.Object(Tuning())

    uow_factory = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryUnitOfWorkFactory, memory_store, tuning),
        postgres=providers.Singleton(
            SqlAlchemyUnitOfWorkFactory, providers.Callable(_engine_of, database), tuning
        ),
    )

    readiness = providers.Selector(
        config.storage,
        memory=providers.Singleton(AlwaysReady),
        postgres=providers.Singleton(SqlReadiness, providers.Callable(_engine_of, database)),
    )

    blobs = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryBlobStore),
        postgres=providers.Singleton(
            FilesystemBlobStore, providers.Callable(lambda s: s.blobs_path, app_settings)
        ),
    )
    # Each file is read in a child process under the configured limits (issue #9).
    # In the database when it is shared, so several server processes may share one blob
    # directory (docs/decisions.md, "Blobs").
    blob_locks = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryBlobLocks),
        postgres=providers.Singleton(
            AdvisoryBlobLocks, providers.Callable(lambda d: d.lock_engine, database)
        ),
    )
    # Whether OCR can run here (Tesseract and its languages; a test overrides this provider).
    ocr_check = providers.Object(tesseract_problem)
    extractor = providers.Singleton(
        ProcessTextExtractor,
        providers.Callable(_extraction_limits, app_settings),
        providers.Callable(_process_limits, app_settings),
        providers.Callable(lambda s: s.ocr_languages, app_settings),
        ocr_check,
    )

    users = providers.Singleton(UserService, uow_factory, clock)
    tokens = providers.Singleton(TokenService, uow_factory, clock)
    settings = providers.Singleton(SettingsService, uow_factory, clock)
    bootstrap = providers.Singleton(AdminBootstrap, uow_factory, clock, users, tokens)
    taxonomy_resolver = providers.Singleton(TaxonomyResolver)
    taxonomy = providers.Singleton(TaxonomyService, uow_factory, clock, taxonomy_resolver)
    search = providers.Singleton(SearchService, uow_factory, clock, taxonomy_resolver)
    document_uploads = providers.Singleton(
        DocumentUploads, uow_factory, clock, blobs, extractor, taxonomy, blob_locks
    )
    document_reads = providers.Singleton(
        DocumentReads, uow_factory, clock, blobs, taxonomy_resolver
    )
    document_lifecycle = providers.Singleton(
        DocumentLifecycle, uow_factory, clock, blobs, blob_locks
    )
    upload_log = providers.Singleton(UploadLog, uow_factory, clock)
    document_import = providers.Singleton(
        DocumentImport, uow_factory, document_uploads, upload_log, clock
    )
    # The extraction workers render thumbnails too (a PDF page is parsed again to draw it).
    document_thumbnails = providers.Singleton(
        DocumentThumbnails, uow_factory, blobs, blob_locks, extractor, clock
    )
    document_processing = providers.Singleton(DocumentProcessing, uow_factory, clock)
    job_admin = providers.Singleton(JobAdmin, uow_factory, clock)
    # OCR of scanned pages: the extraction workers render and read them too.
    document_ocr = providers.Singleton(DocumentOcr, uow_factory, clock, blobs, extractor, extractor)
    document_bulk = providers.Singleton(DocumentBulk, uow_factory, clock, document_reads, taxonomy)
    catalog = providers.Singleton(CatalogService, uow_factory, clock)
    grants = providers.Singleton(GrantService, uow_factory, clock)
    audit = providers.Singleton(AuditLog, uow_factory)
    maintenance = providers.Singleton(
        MaintenanceService, uow_factory, clock, blobs, blob_locks, search
    )
    demo = providers.Singleton(DemoService, uow_factory, users, tokens, document_uploads)
    stats_repository = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryStatsRepository, memory_store),
        postgres=providers.Singleton(
            SqlAlchemyStatsRepository, providers.Callable(_engine_of, database)
        ),
    )
    stats = providers.Singleton(StatsService, stats_repository, clock)
    # Background jobs: the use cases that enqueue jobs register their handlers into
    # `job_handlers`; `job_worker` runs them (in `archivist serve`'s lifespan, or as
    # `archivist worker`). Register before the worker starts: it reads the kinds then.
    job_handlers = providers.Singleton(JobHandlers)
    job_worker = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryJobRunner, memory_store, job_handlers),
        postgres=providers.Singleton(
            PgJobWorker,
            providers.Callable(lambda d: d.url, database),
            job_handlers,
            providers.Callable(lambda s: s.worker_concurrency, app_settings),
        ),
    )
    # The consume folder (docs/decisions.md, "Consume folder"): started where the job worker
    # is; one consumer per database holds the lease.
    consumer_lease = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryConsumerLease),
        postgres=providers.Singleton(
            AdvisoryConsumerLease, providers.Callable(lambda d: d.url, database)
        ),
    )
    document_consumer = providers.Singleton(
        DocumentConsumer,
        uow_factory,
        document_import,
        providers.Callable(_consume_options, app_settings),
    )
    consume_folder = providers.Singleton(
        _consume_folder, app_settings, document_consumer, consumer_lease
    )
    # docs/decisions.md, "Database report": each server process's statement statistics.
    statement_stats_flusher = providers.Singleton(_statement_stats_flusher, app_settings, database)
    # In-process, per server process: see docs/decisions.md, "Throttling".
    auth_throttle = providers.Singleton(
        FailedAuthenticationThrottle,
        providers.Callable(lambda s: s.auth_failures_per_minute, app_settings),
        max_addresses=providers.Callable(lambda s: s.auth_throttle_max_addresses, app_settings),
    )
    # Signing in to the web interface (docs/decisions.md, "Accounts: passwords and
    # sessions"): argon2id with the configured cost, run off the event loop; failed sign-ins
    # count in the same throttle as failed tokens.
    password_hasher = providers.Singleton(
        Argon2PasswordHasher, providers.Callable(_argon2_parameters, app_settings)
    )
    offloaded_hasher = providers.Singleton(OffloadedHasher, password_hasher)
    accounts = providers.Singleton(
        AccountService,
        uow_factory,
        clock,
        offloaded_hasher,
        auth_throttle,
        providers.Callable(_session_lifetime, app_settings),
    )
    passwords = providers.Singleton(
        PasswordService,
        uow_factory,
        clock,
        offloaded_hasher,
        auth_throttle,
        providers.Callable(lambda s: timedelta(hours=s.password_link_hours), app_settings),
    )


def build_container(settings: AppSettings, database_url: str | None = None) -> Container:
    """A container for `settings`. With postgres storage, `database_url` must already be
    resolved (the embedded server started) — the container starts no processes."""
    container = Container(app_settings=settings)
    container.config.from_dict(
        {"storage": settings.storage, "database_url": database_url or settings.database_url}
    )
    _register_job_handlers(container)
    return container


def _register_job_handlers(container: Container) -> None:
    """The background jobs the use cases enqueue, and what runs each. A handler asks the
    container for its use case when it runs, so overrides made after building (a test's
    database, clock or blob store) hold for jobs too."""
    handlers: JobHandlers = container.job_handlers()

    async def make_thumbnail(payload: JsonObject) -> None:
        thumbnails: DocumentThumbnails = container.document_thumbnails()
        await thumbnails.make(UUID(str(payload["document_id"])))

    handlers.register(THUMBNAIL_JOB, make_thumbnail)

    # A job that fails for good marks its document's processing failed (both workers).
    async def job_failed(kind: str, payload: JsonObject, error: str) -> None:
        processing: DocumentProcessing = container.document_processing()
        await processing.job_failed(kind, payload, error)

    handlers.on_failed_for_good(job_failed)
    handlers.listen(count_job_outcome)

    async def read_scanned_pages(payload: JsonObject) -> None:
        document_ocr: DocumentOcr = container.document_ocr()
        await document_ocr.run(UUID(str(payload["document_id"])))

    handlers.register(OCR_JOB, read_scanned_pages)

    # The periodic purge: a job (retried, held with its error if it keeps failing, listed
    # by the job admin) that the workers queue on the configured schedule.
    async def purge(payload: JsonObject) -> None:
        maintenance: MaintenanceService = container.maintenance()
        await maintenance.run_purge_job(payload)

    async def queue_purge() -> None:
        maintenance: MaintenanceService = container.maintenance()
        await maintenance.enqueue_purge()

    handlers.register(PURGE_JOB, purge, RetryPolicy(max_attempts=3))
    if schedule := container.app_settings().purge_schedule:
        handlers.schedule(PURGE_JOB, schedule, queue_purge)


async def shutdown_container(container: Container) -> None:
    """Release what the container holds (the engine's pool, extraction processes)."""
    extractor = container.extractor()
    if isinstance(extractor, ProcessTextExtractor):
        extractor.close()
    if container.config.storage() == "postgres":
        await container.database().dispose()
