"""Where the store lives and how to connect: SQLite file by default, PostgreSQL when a URL is configured.

URL, first found wins: the `url` argument (the app passes `[connections.workspace] url` from
.streamlit/secrets.toml), the environment variable CLASSROOM_DB_URL, else SQLite at
`$CLASSROOM_DATA_DIR/classroom.db` (default `~/.local/share/cnn-classroom/`, outside the source tree).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

ENV_URL = "CLASSROOM_DB_URL"
ENV_DATA_DIR = "CLASSROOM_DATA_DIR"
DB_FILE = "classroom.db"
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another one (SQLite) instead of failing
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATE_LOCK = threading.Lock()  # one migration at a time inside a process
PG_MIGRATE_LOCK = 7_216_016  # advisory lock key: one process migrates PostgreSQL at a time


def data_dir(env: dict[str, str] | None = None) -> Path:
    """The folder for the SQLite file: $CLASSROOM_DATA_DIR, else $XDG_DATA_HOME/cnn-classroom, else ~/.local/share."""
    env = os.environ if env is None else env
    if env.get(ENV_DATA_DIR):
        return Path(env[ENV_DATA_DIR]).expanduser()
    base = Path(env["XDG_DATA_HOME"]).expanduser() if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "cnn-classroom"


def normalise_url(url: str) -> str:
    """Hosted services hand out `postgres://…`; SQLAlchemy needs `postgresql+psycopg://…` (psycopg 3)."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def resolve_url(url: str | None = None, env: dict[str, str] | None = None) -> str:
    """The database URL to use (see the module docstring); creates the data folder for the SQLite default."""
    env = os.environ if env is None else env
    chosen = url or env.get(ENV_URL)
    if chosen:
        return normalise_url(chosen)
    folder = data_dir(env)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DB_FILE}"


def describe_url(url: str) -> str:
    """The URL without its password, for logs and the teacher's page."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_setup(engine: Engine) -> None:
    """WAL (readers never wait for the writer), a busy timeout, foreign keys, and IMMEDIATE write transactions.

    A deferred SQLite transaction that reads and then writes fails at once (SQLITE_BUSY, no waiting) when
    another writer committed in between; BEGIN IMMEDIATE takes the write lock up front and waits its turn.
    Read-only work (`readonly` execution option) begins deferred so it never queues behind writers.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver's own BEGIN handling off: the "begin" hook below decides
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable across an app crash, fast commits
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for the URL: SQLite tuned for many threads of one server, PostgreSQL with a small pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                               pool_size=8, max_overflow=32, pool_timeout=60)  # fmt: skip
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=True, pool_recycle=1800, pool_timeout=60)


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migration scripts shipped in lib/store/migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (an empty database gets every table); safe for several processes at once."""
    with _MIGRATE_LOCK, engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_MIGRATE_LOCK})
            conn.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_MIGRATE_LOCK})
                conn.commit()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty one)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect().execution_options(readonly=True) as conn:
        return MigrationContext.configure(conn).get_current_revision()
