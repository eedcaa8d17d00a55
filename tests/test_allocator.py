"""Freed memory kept for reuse in training processes (weakneg/allocator.py): once the heap has settled, a large
block allocated and freed again costs no new pages; without it every allocation faults its pages in anew."""

import json
import os
import subprocess
import sys

import pytest

from weakneg import allocator

CHILD = """
import json, resource, sys
import torch
from weakneg import allocator
kept = allocator.keep_freed_memory()
def step():
    block = torch.ones(12 * 1024 * 1024)  # 48 MiB: above glibc's largest mmap threshold
    return float(block[-1])
for _ in range(20):  # the heap settles in its first steps (8-9 of these, measured)
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(json.dumps({"kept": kept, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""

PAGES_PER_BLOCK = 12 * 1024 * 1024 * 4 // 4096


def faults_of_ten_steps(setting: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != allocator.SETTING}
    if setting is not None:
        env[allocator.SETTING] = setting
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is what this configures")
def test_kept_memory_is_reused_without_new_pages():
    kept = faults_of_ten_steps(None)
    assert kept["kept"] is True
    # ten 48 MiB blocks, each freed: at most a few hundred faults for all of them, against 12,288 per block
    assert kept["faults"] < PAGES_PER_BLOCK // 10, kept


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is what this configures")
def test_the_setting_leaves_malloc_as_it_is():
    plain = faults_of_ten_steps("0")
    assert plain["kept"] is False
    assert plain["faults"] >= 10 * PAGES_PER_BLOCK * 0.9, plain  # every block's pages faulted in anew
