"""The versioned epoch record (weakneg/store/epoch_record.py): what the trainer writes is what readers get back,
field by field; a file written by the code before the record existed (tests/fixtures/epoch_record_v1: a digits
run, attention head, badge, 2 epochs, made at commit 4041d7f) is upgraded on reading with every array intact;
files from older runs (no gradient label, no evidence, no positives' gradients) get the documented defaults; a
newer or broken file is refused with a message naming it."""

import ast
import shutil
from pathlib import Path

import numpy as np
import pytest

from weakneg.store import CorruptArtifact
from weakneg.store.epoch_record import (
    VERSION,
    BagArrays,
    EpochArrays,
    EvidenceArrays,
    PoolArrays,
    epoch_name,
    load_epoch_record,
    save_epoch_record,
)

FIXTURE = Path(__file__).parent / "fixtures" / "epoch_record_v1"


def stage_old_file(store, run_id: int, name: str) -> dict[str, np.ndarray]:
    """Put a version-1 file where the run's epoch file lives; return its raw arrays."""
    target = store.run_dir(run_id) / name
    shutil.copy(FIXTURE / name, target)
    with np.load(target, allow_pickle=False) as raw:
        return {k: raw[k] for k in raw.files}


def test_a_version_1_file_is_read_with_every_array_intact(store):
    run_id = store.create_run({"dataset": "digits"})
    zero = stage_old_file(store, run_id, epoch_name(0))
    two = stage_old_file(store, run_id, epoch_name(2))
    assert "record_version" not in zero and "record_version" not in two  # really the old layout

    bags = store.load_epoch_record(run_id, 0)
    assert bags.version == VERSION and bags.pool is None and bags.epoch == 0
    np.testing.assert_array_equal(bags.bags.bag_ids, zero["bag_ids"])
    np.testing.assert_array_equal(bags.bags.contents, zero["contents"])
    np.testing.assert_array_equal(bags.bags.members, zero["members"])
    np.testing.assert_array_equal(bags.bags.instance_sources, zero["instance_sources"])
    assert bags.bags.class_names.tolist() == [str(i) for i in range(10)] and bags.bags.audio_files is None

    pool = store.load_epoch_record(run_id, 2).pool
    for name in ("pool_ids", "positive_ids", "scores", "pick_order", "pool_prob", "pool_grad", "positive_grad"):
        np.testing.assert_array_equal(getattr(pool, name), two[name])
    assert pool.grad_label == str(two["grad_label"]) == "predicted"
    np.testing.assert_array_equal(pool.pool_evidence.prob, two["pool_instance_prob"])
    np.testing.assert_array_equal(pool.pool_evidence.attention, two["pool_attention"])  # the attention head
    np.testing.assert_array_equal(pool.positive_evidence.offsets, two["positive_instance_offsets"])
    np.testing.assert_array_equal(pool.positive_evidence.driver, two["positive_driver"])


def test_an_older_file_gets_the_documented_defaults(store):
    run_id = store.create_run({"dataset": "digits"})
    two = stage_old_file(store, run_id, epoch_name(2))
    older = {k: v for k, v in two.items() if k.startswith(("pool_", "positive_", "scores", "pick"))}
    for gone in ("grad_label", "positive_grad", *[k for k in older if "instance" in k or "driver" in k]):
        older.pop(gone, None)
    older = {k: v for k, v in older.items() if "attention" not in k}
    store.save_arrays(run_id, epoch_name(2), **older)
    pool = store.load_epoch_record(run_id, 2).pool
    assert pool.grad_label == "known" and pool.positive_grad is None
    assert pool.pool_evidence is None and pool.positive_evidence is None


def test_what_is_written_is_what_is_read(store):
    run_id = store.create_run({"dataset": "digits"})
    rng = np.random.default_rng(0)
    bags = BagArrays(
        bag_ids=np.arange(4),
        labels=np.array([1, 0, 0, 0]),
        contents=rng.integers(0, 3, (4, 2)).astype(np.int16),
        class_names=np.array(["a", "b"]),
        audio_files=np.array(["1.wav", "2.wav", "3.wav", "4.wav"]),
        sample_rate=16000,
    )
    evidence = EvidenceArrays(np.float16([0.1, 0.9, 0.5]), np.int32([0, 2, 3]), np.int32([1, 0]))
    pool = PoolArrays(
        pool_ids=np.array([1, 2]),
        positive_ids=np.array([0]),
        scores=np.float32([0.3, 0.7]),
        pick_order=np.int32([-1, 0]),
        pool_prob=np.float32([0.2, 0.6]),
        pool_grad=rng.normal(size=(2, 6)).astype(np.float16),
        positive_prob=np.float32([0.9]),
        positive_grad=rng.normal(size=(1, 6)).astype(np.float16),
        grad_label="predicted",
        pool_evidence=evidence,
    )
    save_epoch_record(store.artifacts, run_id, EpochArrays(epoch=0, bags=bags))
    save_epoch_record(store.artifacts, run_id, EpochArrays(epoch=1, pool=pool))
    back = load_epoch_record(store.artifacts, run_id, 0).bags
    assert back.sample_rate == 16000 and back.members is None and back.feature_files is None
    np.testing.assert_array_equal(back.audio_files, bags.audio_files)
    read = load_epoch_record(store.artifacts, run_id, 1).pool
    assert read.grad_label == "predicted" and read.positive_evidence is None and read.pool_evidence.attention is None
    for name in ("pool_ids", "scores", "pick_order", "pool_grad", "positive_grad"):
        np.testing.assert_array_equal(getattr(read, name), getattr(pool, name))
    np.testing.assert_array_equal(read.pool_evidence.offsets, evidence.offsets)
    assert int(store.load_epoch_arrays(run_id, 1)["record_version"]) == VERSION
    assert load_epoch_record(store.artifacts, run_id, 5) is None


def test_a_newer_or_partial_file_is_refused_naming_it(store):
    run_id = store.create_run({"dataset": "digits"})
    store.save_arrays(run_id, epoch_name(1), record_version=np.array(VERSION + 1), pool_ids=np.arange(3))
    with pytest.raises(CorruptArtifact, match=rf"epoch_0001.npz.*newer than this release reads \({VERSION}\)"):
        store.load_epoch_record(run_id, 1)
    store.save_arrays(run_id, epoch_name(2), pool_ids=np.arange(3))  # the pool without the rest
    with pytest.raises(CorruptArtifact, match=r"epoch_0002.npz is not a whole epoch record \(KeyError: .positive_"):
        store.load_epoch_record(run_id, 2)


def test_the_engine_reads_and_writes_epoch_arrays_only_through_the_record():
    root = Path(__file__).resolve().parents[1]
    raw = ("save_epoch_arrays", "load_epoch_arrays")
    offenders = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in sorted((root / "weakneg").rglob("*.py")) + sorted((root / "app_pages").glob("*.py"))
        if "store" not in path.relative_to(root).parts[1:2]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in raw
    ]
    assert offenders == []
