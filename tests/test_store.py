"""The workspace store on both backends: SQLite in a temporary folder and a real PostgreSQL (TEST_DATABASE_URL).

.ci/run starts a throwaway PostgreSQL cluster and exports TEST_DATABASE_URL; without it the PostgreSQL half
is skipped. Each PostgreSQL test works in its own schema, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import threading
from urllib.parse import quote

import numpy as np
import pytest
import torch
from sqlalchemy import create_engine, inspect, text

from lib import checkpoint as ckpt_io
from lib.models import default_config
from lib.store import (
    QuotaExceeded,
    Store,
    TrainingBusy,
    UnknownWorkspace,
    data_dir,
    make_engine,
    migrate,
    resolve_url,
    short_id,
    valid_workspace_id,
)
from lib.store.blobs import arrays_to_bytes, bounded_png, bytes_to_arrays, png_to_array
from lib.store.engine import current_revision, normalise_url
from lib.store.schema import Base
from tests.factories import small_checkpoint

PG_URL = os.environ.get("TEST_DATABASE_URL")
TABLES = {"workspaces", "models", "trainings", "images", "report_items", "texts", "workspace_settings", "handins",
          "class_settings"}  # fmt: skip


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL with an empty database: a SQLite file, or a fresh schema on the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'classroom.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(normalise_url(PG_URL), schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(db_url):
    opened = Store.open(db_url)
    yield opened
    opened.close()


# migrations ------------------------------------------------------------------------------------------
def test_migration_from_empty_database_creates_every_table(db_url):
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == "0001"
    migrate(engine)  # a second start finds the schema up to date and changes nothing
    assert current_revision(engine) == "0001"
    engine.dispose()


def test_migrated_schema_matches_the_models(db_url):
    """The migration scripts and schema.py describe the same tables (autogenerate finds nothing to add)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_file_is_in_wal_mode_with_foreign_keys(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


def test_default_location_is_the_data_dir_created_on_first_use(tmp_path):
    env = {"CLASSROOM_DATA_DIR": str(tmp_path / "new" / "place")}
    url = resolve_url(None, env)
    assert url == f"sqlite:///{tmp_path / 'new' / 'place' / 'classroom.db'}"
    assert (tmp_path / "new" / "place").is_dir()
    assert data_dir({"HOME": "/x", "XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "cnn-classroom"
    # an env URL wins over the default, a given URL over both; hosted postgres:// URLs get the psycopg driver
    assert resolve_url(None, {"CLASSROOM_DB_URL": "postgres://u:p@h/db"}) == "postgresql+psycopg://u:p@h/db"
    assert resolve_url("sqlite:///a.db", {"CLASSROOM_DB_URL": "postgres://u@h/db"}) == "sqlite:///a.db"


# workspaces ------------------------------------------------------------------------------------------
def test_workspace_ids_are_long_random_and_checked(store):
    ids = {store.create_workspace().id for _ in range(20)}
    assert len(ids) == 20
    for wid in ids:
        assert valid_workspace_id(wid) and len(wid) >= 22  # ≥ 128 bits in URL-safe base64
        assert short_id(wid) not in ids and len(short_id(wid)) < 8
    assert store.workspace("not an id; DROP TABLE workspaces") is None
    assert store.workspace("A" * 24) is None  # well-formed but unknown
    assert store.workspace(None) is None


def test_create_read_delete_everything(store):
    ws = store.create_workspace(display_name="Аня", group="9Б")
    other = store.create_workspace()
    ckpt = small_checkpoint()
    model = store.add_model(ws.id, display_name="Моя модель 1", checkpoint=ckpt, architecture="table1",
                            config={"epochs": 5}, history=[{"epoch": 1, "val_psnr": 20.5}], best_psnr=20.5,
                            epochs=1.0)  # fmt: skip
    loaded = ckpt_io.load_bytes(store.model_checkpoint(ws.id, model.id))
    assert loaded.model_config.name == "table1" and loaded.history[0]["val_psnr"] == 20.5
    digit = np.random.default_rng(0).random((28, 28)).astype(np.float32)
    photo = (np.random.default_rng(1).random((900, 600, 3)) * 255).astype(np.uint8)
    drawn = store.add_image(ws.id, source="drawn", prepared=digit, name="рисунок 1",
                            strokes={"objects": [{"path": [[0, 1, 2]]}]},
                            noise={"kind": "gaussian", "mean": 0.0, "var": 100.0, "speckle": 1.0, "clip": True,
                                   "seed": 7})  # fmt: skip
    shot = store.add_image(ws.id, source="photo", prepared=digit, name="фото.jpg", original=bounded_png(photo))
    item = store.add_report_item(ws.id, kind="drawn", name="рисунок 1", image_id=drawn.id, settings={"seed": 7},
                                 result=arrays_to_bytes({"clean": digit, "noisy": digit * 0.5}))  # fmt: skip
    store.set_text(ws.id, "conclusions", "Шум с D = 100 убирается лучше.")
    store.set_settings(ws.id, {"model": "workspace:1", "keep_lab_var": 100.0})
    handin = store.add_handin(ws.id, content={"items": 1}, pdf=b"%PDF-1.7 ...", docx=b"PK...")
    training = store.create_training(ws.id, settings={"epochs": 3}, epochs_total=3)

    # read back, as a new session of the same workspace would
    assert [m.display_name for m in store.models(ws.id)] == ["Моя модель 1"]
    images = store.images(ws.id)
    assert [(i.source, i.name) for i in images] == [("drawn", "рисунок 1"), ("photo", "фото.jpg")]
    np.testing.assert_array_equal(images[0].prepared, digit)
    assert images[0].noise["seed"] == 7 and images[0].strokes["objects"][0]["path"] == [[0, 1, 2]]
    original = png_to_array(store.image_original(ws.id, shot.id))
    assert max(original.shape[:2]) == 512 and original.shape[:2] == (512, 341)  # bounded, aspect kept
    assert store.image_original(ws.id, drawn.id) is None
    (row,) = store.report_items(ws.id)
    assert row.image_id == drawn.id and row.position == 1
    np.testing.assert_array_equal(bytes_to_arrays(row.result)["noisy"], digit * 0.5)
    assert store.report_items(ws.id, with_result=False)[0].result is None
    assert store.texts(ws.id) == {"conclusions": "Шум с D = 100 убирается лучше."}
    assert store.settings(ws.id)["keep_lab_var"] == 100.0
    assert store.handin_file(ws.id, handin.id, "pdf") == b"%PDF-1.7 ..."
    assert store.trainings(ws.id)[0].id == training.id

    # another workspace sees none of it, even with the right row ids
    assert store.models(other.id) == [] and store.images(other.id) == [] and store.report_items(other.id) == []
    assert store.model_checkpoint(other.id, model.id) is None
    assert store.image_original(other.id, shot.id) is None
    assert store.handin_file(other.id, handin.id, "pdf") is None
    assert store.training(other.id, training.id) is None
    assert not store.delete_model(other.id, model.id)
    assert store.texts(other.id) == {} and store.settings(other.id) == {}

    # deleting an image keeps the report row (its pictures are its own)
    assert store.delete_image(ws.id, drawn.id)
    assert store.report_items(ws.id)[0].image_id is None
    assert store.delete_report_item(ws.id, item.id) and store.report_items(ws.id) == []
    assert store.rename_model(ws.id, model.id, "  Лучшая  ") and store.models(ws.id)[0].display_name == "Лучшая"
    assert store.delete_workspace(ws.id)
    assert store.workspace(ws.id) is None and store.models(ws.id) == [] and store.images(ws.id) == []
    assert store.trainings(ws.id) == [] and store.handins(ws.id) == [] and store.texts(ws.id) == {}
    assert store.workspace(other.id) is not None
    with pytest.raises(UnknownWorkspace):
        store.add_model(ws.id, display_name="x", checkpoint=b"x")
    with pytest.raises(UnknownWorkspace):
        store.set_settings(ws.id, {"keep_lab_seed": 1})


def test_rows_kept_under_the_table1_models_former_name_read_as_table1(store):
    from lib.jobs import settings_configs
    from lib.teacher import board_row

    ws = store.create_workspace()
    payload = torch.load(io.BytesIO(small_checkpoint()), weights_only=True)  # as kept before the rename
    payload["model_config"]["name"] = "seed"
    old = io.BytesIO()
    torch.save(payload, old)
    model = store.add_model(ws.id, display_name="Моя модель 1", checkpoint=old.getvalue(), architecture="seed",
                            config={"train": {"model": "seed"}})  # fmt: skip
    assert model.architecture == "table1" and store.models(ws.id)[0].architecture == "table1"
    loaded = ckpt_io.load_bytes(store.model_checkpoint(ws.id, model.id))
    assert loaded.model_config == default_config("table1")
    fresh = ckpt_io.load_bytes(small_checkpoint())  # the same weights under today's name
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(loaded.build()(x), fresh.build()(x))

    store.set_settings(ws.id, {"keep_model": "shipped:seed_B", "keep_train_model": "seed", "keep_lab_seed": 7})
    assert store.settings(ws.id) == {"keep_model": "shipped:table1_B", "keep_train_model": "table1",
                                     "keep_lab_seed": 7}  # fmt: skip
    for kept, read in (("shipped:seed_B_aug", "shipped:table1_B_aug"), ("shipped:seed_A", "shipped:table1_A"),
                       ("shipped:bfunet", "shipped:bfunet"), ("shipped:linear_B", "shipped:linear_B"),
                       (f"workspace:{model.id}", f"workspace:{model.id}")):  # fmt: skip
        store.set_settings(ws.id, {"keep_model": kept})
        assert store.settings(ws.id)["keep_model"] == read

    settings = {"train": {"model": "seed", "epochs": 2, "lr": 0.01, "batch_size": 64, "seed": 5},
                "noise": {"kind": "mix", "mean": -20.0, "var": 600.0, "speckle": 1.0}}  # fmt: skip
    training = store.create_training(ws.id, settings=settings, epochs_total=2)
    config, _noise = settings_configs(store.training(ws.id, training.id).settings)
    assert config.model == "table1" and config.seed == 5  # the random seed keeps its name and value
    assert board_row(store.training(ws.id, training.id)).model == "table1"


def test_student_text_is_kept_as_data(store):
    nasty = "Robert'); DROP TABLE models;-- **жирный** <script>alert(1)</script>"
    ws = store.create_workspace(display_name=nasty, group=nasty)
    store.add_model(ws.id, display_name=nasty, checkpoint=b"0")
    store.set_text(ws.id, "conclusions", nasty)
    assert store.models(ws.id)[0].display_name == nasty
    assert store.texts(ws.id)["conclusions"] == nasty
    assert store.workspace(ws.id).display_name == nasty[:80]


def test_handins_are_numbered_versions(store):
    ws = store.create_workspace()
    first = store.add_handin(ws.id, content={"text": "v1"}, pdf=b"1")
    second = store.add_handin(ws.id, content={"text": "v2"}, docx=b"2")
    assert (first.version, second.version) == (1, 2)
    listed = store.handins(ws.id)
    assert [h.content["text"] for h in listed] == ["v1", "v2"]
    assert (listed[0].has_pdf, listed[0].has_docx, listed[1].has_pdf, listed[1].has_docx) == (True, False, False, True)
    assert not hasattr(store, "update_handin")  # versions are immutable: there is no way to change one


def test_teacher_overview(store):
    a = store.create_workspace(display_name="Аня", group="9Б", class_code="9b")
    b = store.create_workspace(display_name="Борис", class_code="9b")
    c = store.create_workspace(class_code="10a")
    store.add_model(a.id, display_name="1", checkpoint=b"1", best_psnr=21.0)
    store.add_model(a.id, display_name="2", checkpoint=b"2", best_psnr=24.5)
    store.add_model(a.id, display_name="3", checkpoint=b"3")  # uploaded without a score
    store.add_handin(b.id, content={}, pdf=b"x")
    store.touch(c.id, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5))
    rows = {r.id: r for r in store.overview()}
    assert (rows[a.id].models, rows[a.id].best_psnr, rows[a.id].handins) == (3, 24.5, 0)
    assert (rows[b.id].models, rows[b.id].best_psnr, rows[b.id].handins) == (0, None, 1)
    assert rows[b.id].last_handin_at is not None and rows[b.id].last_handin_at.tzinfo is not None
    assert store.overview()[0].id == c.id  # most recently seen first
    assert {r.id for r in store.overview(class_code="9b")} == {a.id, b.id}


def test_class_settings_default_and_change(store):
    assert store.class_setting("expiry_days") == 30 and store.class_setting("idle_minutes") == 15
    store.set_class_setting("expiry_days", 7)
    store.set_class_setting("expiry_days", 10)
    assert store.class_setting("expiry_days") == 10
    assert store.class_setting("missing", "fallback") == "fallback"


# quotas ----------------------------------------------------------------------------------------------
def test_quota_on_models_images_and_megabytes(store):
    ws = store.create_workspace()
    store.set_class_setting("quota_models", 2)
    store.set_class_setting("quota_images", 3)
    store.add_model(ws.id, display_name="1", checkpoint=b"a" * 100)
    store.add_model(ws.id, display_name="2", checkpoint=b"b" * 100)
    with pytest.raises(QuotaExceeded) as full:
        store.add_model(ws.id, display_name="3", checkpoint=b"c" * 100)
    assert full.value.key == "quota_models"
    assert "2" in full.value.text("ru") and "модел" in full.value.text("ru")
    assert "model" in full.value.text("en")
    assert [m.display_name for m in store.models(ws.id)] == ["1", "2"]  # nothing kept was lost
    # a training's own result was admitted when it started: it is kept even past the count
    store.add_model(ws.id, display_name="run", checkpoint=b"d", enforce_quota=False)
    with pytest.raises(QuotaExceeded):
        store.create_training(ws.id, settings={}, epochs_total=1)

    digit = np.zeros((28, 28), np.float32)
    for i in range(3):
        store.add_image(ws.id, source="drawn", prepared=digit, name=str(i))
    with pytest.raises(QuotaExceeded) as full:
        store.add_image(ws.id, source="drawn", prepared=digit)
    assert full.value.key == "quota_images" and len(store.images(ws.id)) == 3

    other = store.create_workspace()  # quotas are per workspace
    store.set_class_setting("quota_mb", 0.01)  # about 10 kB
    store.add_model(other.id, display_name="fits", checkpoint=b"x" * 5000)
    with pytest.raises(QuotaExceeded) as full:
        store.add_report_item(other.id, kind="drawn", name="big", result=b"y" * 8000)
    assert full.value.key == "quota_mb" and "МБ" in full.value.text("ru")
    assert store.usage(other.id).bytes == 5000 and store.report_items(other.id) == []


# expiry ----------------------------------------------------------------------------------------------
def test_unused_workspaces_expire(store):
    now = dt.datetime.now(dt.timezone.utc)
    old = store.create_workspace()
    recent = store.create_workspace()
    training = store.create_workspace()
    for ws in (old, recent, training):
        store.add_model(ws.id, display_name="m", checkpoint=b"m")
    store.touch(old.id, now - dt.timedelta(days=31))
    store.touch(recent.id, now - dt.timedelta(days=29))
    store.touch(training.id, now - dt.timedelta(days=40))
    store.create_training(training.id, settings={}, epochs_total=1)  # still training: never swept away mid-run
    assert store.delete_expired(now=now) == 1  # the teacher's default: 30 days
    assert store.workspace(old.id) is None and store.models(old.id) == []
    assert store.workspace(recent.id) is not None and store.workspace(training.id) is not None
    store.set_class_setting("expiry_days", 7)
    assert store.delete_expired(now=now) == 1
    assert store.workspace(recent.id) is None


# trainings -------------------------------------------------------------------------------------------
def test_one_active_training_per_workspace_and_interruption(store):
    ws = store.create_workspace()
    first = store.create_training(ws.id, settings={"seed": 1}, epochs_total=4, runner="p1")
    with pytest.raises(TrainingBusy):
        store.create_training(ws.id, settings={}, epochs_total=1)
    store.update_training(first.id, status="running", epochs_done=2.0, resume_epoch=2, resume_state=b"state",
                          progress={"epoch": 2})  # fmt: skip
    info = store.training(ws.id, first.id)
    assert info.has_resume_state and info.resume_epoch == 2 and info.active
    assert store.resume_state(ws.id, first.id) == b"state"
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
    assert store.mark_interrupted(60, now=later, keep_runner="p1") == 0  # this process still runs it
    assert store.mark_interrupted(60) == 0  # heartbeat fresh
    assert store.mark_interrupted(60, now=later) == 1
    assert store.training(ws.id, first.id).status == "interrupted"
    second = store.create_training(ws.id, settings={}, epochs_total=1)  # no longer blocks a new one
    with pytest.raises(ValueError):
        store.update_training(second.id, workspace_id="elsewhere")
    model = store.add_model(ws.id, display_name="r", checkpoint=b"r", training_id=second.id, enforce_quota=False)
    assert store.training(ws.id, second.id).model_id == model.id


def test_a_class_s_trainings_are_read_together_oldest_first_and_only_theirs(store):
    """The teacher's board: every training of the listed workspaces (more than one query's chunk), no others."""
    class_ = [store.create_workspace().id for _ in range(503)]
    other = store.create_workspace().id
    made = []
    for n, ws in enumerate([class_[0], class_[502], other, class_[0], class_[250]]):
        made.append(store.create_training(ws, settings={"n": n}, epochs_total=1, check_room=False))
        store.update_training(made[-1].id, status="done")  # one active training per workspace at a time
    found = store.trainings_of(class_)
    assert [info.id for info in found] == [made[i].id for i in (0, 1, 3, 4)]
    assert [info.settings["n"] for info in found] == [0, 1, 3, 4]
    expected = {info.id for ws in class_ for info in store.trainings(ws)}
    assert {info.id for info in found} == expected
    assert store.trainings_of([]) == []


def test_a_class_s_settings_are_written_in_one_transaction_unknown_workspaces_skipped(store):
    """The debounced writer's flush: 30 workspaces' changes at once, new keys added, kept keys updated."""
    from sqlalchemy import event

    class_ = [store.create_workspace().id for _ in range(30)]
    store.set_settings(class_[0], {"keep_lab_seed": 1, "keep_lab_count": 6})
    gone = store.create_workspace().id
    store.delete_workspace(gone)
    commits = []

    def counted(connection) -> None:
        commits.append(connection)

    event.listen(store.engine, "commit", counted)
    try:
        batch = {w: {"keep_lab_seed": n, "keep_lab_var": float(n)} for n, w in enumerate(class_)}
        written = store.set_settings_many(batch | {gone: {"keep_lab_seed": 99}, "no such id": {"keep_lab_seed": 1}})
    finally:
        event.remove(store.engine, "commit", counted)
    assert written == set(class_) and len(commits) == 1
    assert store.settings(class_[0]) == {"keep_lab_seed": 0, "keep_lab_count": 6, "keep_lab_var": 0.0}
    assert all(store.settings(w) == {"keep_lab_seed": n, "keep_lab_var": float(n)} for n, w in enumerate(class_[1:], 1))
    assert store.workspace(gone) is None and store.set_settings_many({}) == set()


# concurrency -----------------------------------------------------------------------------------------
def test_thirty_concurrent_writers(store):
    """30 threads at once, each a student: create a workspace, keep models, images, texts, settings, report rows."""
    errors: list[BaseException] = []
    made: dict[int, str] = {}
    start = threading.Barrier(30)

    def student(n: int) -> None:
        try:
            start.wait()
            ws = store.create_workspace(display_name=f"ученик {n}")
            made[n] = ws.id
            for k in range(3):
                store.add_model(ws.id, display_name=f"{n}-{k}", checkpoint=bytes([n]) * 20_000, best_psnr=float(n + k))
                store.add_image(ws.id, source="drawn", prepared=np.full((28, 28), n / 30, np.float32), name=f"{n}-{k}")
                store.set_settings(ws.id, {"keep_lab_var": n * 10 + k})
                store.set_text(ws.id, "conclusions", f"{n}:{k}")
                store.add_report_item(ws.id, kind="drawn", name=f"{n}-{k}", result=bytes([k]) * 1000)
                store.touch(ws.id)
            store.add_handin(ws.id, content={"n": n})
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=student, args=(n,)) for n in range(30)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(made) == 30
    for n, wid in made.items():
        models = store.models(wid)
        assert [m.display_name for m in models] == [f"{n}-{k}" for k in range(3)]
        assert store.model_checkpoint(wid, models[0].id) == bytes([n]) * 20_000
        assert [float(i.prepared[0, 0]) for i in store.images(wid)] == [pytest.approx(n / 30)] * 3
        assert store.settings(wid)["keep_lab_var"] == n * 10 + 2 and store.texts(wid)["conclusions"] == f"{n}:2"
        assert [r.position for r in store.report_items(wid)] == [1, 2, 3]
        assert [h.version for h in store.handins(wid)] == [1]
    assert len(store.overview()) == 30


def test_concurrent_handins_of_one_workspace_get_distinct_versions(store):
    ws = store.create_workspace()
    errors: list[BaseException] = []

    def hand_in(n: int) -> None:
        try:
            store.add_handin(ws.id, content={"n": n})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hand_in, args=(n,)) for n in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(h.version for h in store.handins(ws.id)) == list(range(1, 11))
