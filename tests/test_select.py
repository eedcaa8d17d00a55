"""weakneg.select: every registered sampler on plain tensors. One-logit heads are read as the two-logit head [0, z],
gradient embeddings of a plain linear last layer are checked against autograd, BADGE with one logit against an
independent k-means++, bad input gives one line, the picks equal those of weakneg's own loop on a real digits run,
and `import weakneg` stays light."""

import copy
import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import weakneg
from weakneg.config import RunConfig
from weakneg.data import load_bags
from weakneg.errors import ConfigError
from weakneg.models import HEADS
from weakneg.models.heads import MeanSoftmax
from weakneg.samplers import SAMPLERS, get_sampler, select
from weakneg.samplers.badge import kmeans_pp_seeds
from weakneg.models.gradients import GradEmbedding, autograd_embedding
from weakneg.train import Experiment

ROOT = Path(__file__).resolve().parents[1]
ALL = list(SAMPLERS)


def tensors(n=60, n_pos=12, d=5, seed=0, dtype=torch.float32):
    """A pool from a plain one-logit model: features (N, d), one logit each; positives shifted."""
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(n, d, generator=g, dtype=dtype)
    positive_features = torch.randn(n_pos, d, generator=g, dtype=dtype) + 0.7
    w, b = torch.randn(d, generator=g, dtype=dtype), torch.tensor(-0.3, dtype=dtype)
    return features, features @ w + b, positive_features, positive_features @ w + b


def two_logits(z):
    return torch.stack([torch.zeros_like(z), z], dim=1)


@pytest.mark.parametrize("name", ALL)
def test_every_sampler_answers_on_plain_tensors(name):
    features, z, pos_features, pos_z = tensors()
    kwargs = dict(logits=z, features=features, positive_logits=pos_z, positive_features=pos_features)
    picks = select(name, 9, seed=3, **kwargs)
    expected = len(z) if SAMPLERS[name].whole_pool else 9
    assert len(picks.indices) == expected == len(set(picks.indices.tolist()))
    assert picks.indices.dtype == np.int64 and picks.scores.shape == (len(z),) and np.isfinite(picks.scores).all()
    np.testing.assert_array_equal(select(name, 9, seed=3, **kwargs).indices, picks.indices)  # seeded: repeatable
    numpy_inputs = {key: value.numpy() for key, value in kwargs.items()}  # numpy arrays work the same
    np.testing.assert_array_equal(select(name, 9, seed=3, **numpy_inputs).indices, picks.indices)


@pytest.mark.parametrize("name", ALL)
def test_a_one_logit_head_picks_as_its_two_logit_twin(name):
    features, z, pos_features, pos_z = tensors(seed=1)
    common = dict(features=features, positive_features=pos_features, seed=5)
    one = select(name, 11, logits=z, positive_logits=pos_z, **common)
    column = select(name, 11, logits=z[:, None], positive_logits=pos_z[:, None], **common)  # (N, 1) too
    two = select(name, 11, logits=two_logits(z), positive_logits=two_logits(pos_z), **common)
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(column.indices, two.indices)
    if "gradients" not in SAMPLERS[name].reads:  # gradient scores differ by the twin's duplicated row
        np.testing.assert_array_equal(one.scores, two.scores)


@pytest.mark.parametrize("name", ALL)
def test_what_a_sampler_declares_it_reads_is_all_it_reads(name):
    """With the bag outputs alone a sampler that reads nothing more answers, and one that declares features or
    gradients says which argument to add: an undeclared read would crash here instead."""
    _, z, _, pos_z = tensors()
    if SAMPLERS[name].reads:
        with pytest.raises(ConfigError, match="pass features="):
            select(name, 4, logits=z, positive_logits=pos_z)
    else:
        assert len(select(name, 4, logits=z, positive_logits=pos_z).indices) in (4, len(z))


def plain_autograd(features, z_or_logits, label):
    """Per-bag gradient of a plain nn.Linear's loss w.r.t. its weight and bias, by autograd (the reference)."""
    outputs = 1 if z_or_logits.dim() == 1 else 2
    rows = []
    for h, target in zip(features, label):
        layer = torch.nn.Linear(features.shape[1], outputs).double()
        with torch.no_grad():  # a layer that reproduces the given output on this bag: zero weight, output as bias
            layer.weight.zero_()
            layer.bias.copy_(torch.as_tensor(target["out"]).reshape(outputs))
        out = layer(h.double())
        if outputs == 1:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(out, torch.tensor([float(target["y"])]))
        else:
            loss = torch.nn.functional.cross_entropy(out[None], torch.tensor([target["y"]]))
        loss.backward()
        rows.append(torch.cat([layer.weight.grad, layer.bias.grad[:, None]], dim=1).flatten())
    return torch.stack(rows)


@pytest.mark.parametrize("label", ["known", "predicted"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_grad_norm_is_the_autograd_gradient_of_a_plain_last_layer(outputs, label):
    features, z, _, _ = tensors(n=25, dtype=torch.float64)
    logits = z if outputs == 1 else torch.stack([0.3 * z, -0.7 * z], dim=1)
    predicted = (z > 0).long() if outputs == 1 else logits.argmax(1)
    y = torch.zeros(25, dtype=torch.long) if label == "known" else predicted
    reference = plain_autograd(features, logits, [{"out": o, "y": int(t)} for o, t in zip(logits, y)])
    scores = select("grad_norm", 3, logits=logits, features=features, label=label).scores
    np.testing.assert_allclose(scores, reference.norm(dim=1).numpy(), rtol=1e-10)


def reference_kmeans_pp(g: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """k-means++ seeding written out plainly (Ash et al.'s BADGE): the largest norm first, then draws with
    probability D^2 / sum D^2, one uniform per pick compared with the running sum."""
    picks = [int(np.argmax((g**2).sum(1)))]
    d2 = ((g - g[picks[0]]) ** 2).sum(1)
    for _ in range(k - 1):
        u = rng.random() * d2.sum()
        picks.append(int(np.searchsorted(np.cumsum(d2), u, side="right")))
        d2 = np.minimum(d2, ((g - g[picks[-1]]) ** 2).sum(1))
    return picks


def test_badge_with_one_logit_is_kmeans_pp_over_the_autograd_gradients():
    features, z, _, _ = tensors(n=200, d=6, seed=4, dtype=torch.float64)
    picks = select("badge", 15, logits=z, features=features, seed=9)
    labels = (z > 0).long()  # BADGE's own: gradients at the predicted label
    g = plain_autograd(features, z, [{"out": o, "y": int(t)} for o, t in zip(z, labels)]).numpy()
    assert picks.indices.tolist() == reference_kmeans_pp(g, 15, np.random.default_rng(9))
    chosen = g[picks.indices]
    nearest = ((g[:, None] - chosen[None]) ** 2).sum(2).min(1)  # unpicked: D^2 to the nearest pick at the end
    unpicked = np.setdiff1d(np.arange(200), picks.indices)
    np.testing.assert_allclose(picks.scores[unpicked], nearest[unpicked], rtol=1e-9, atol=1e-12)
    assert picks.scores[picks.indices[0]] == pytest.approx((g[picks.indices[0]] ** 2).sum(), rel=1e-12)


def test_given_gradient_embeddings_are_used_as_they_are():
    features, z, _, _ = tensors(n=50)
    g = torch.randn(50, 7, generator=torch.Generator().manual_seed(2))
    picks = select("badge", 6, logits=z, grad_embeddings=g, seed=1)
    expected, _ = kmeans_pp_seeds(GradEmbedding(dense=g), 6, np.random.default_rng(1))
    np.testing.assert_array_equal(picks.indices, expected)
    np.testing.assert_allclose(select("grad_norm", 6, logits=z, grad_embeddings=g).scores, g.norm(dim=1), rtol=1e-6)


@pytest.mark.parametrize("head", ["softmax_max", "attention"])
def test_a_weakneg_head_gives_its_own_gradients(head):
    torch.manual_seed(0)
    layer = HEADS[head](4)
    instances = torch.randn(30, 5, 4)
    mask = torch.ones(30, 5, dtype=torch.bool)
    mask[::3, 3:] = False  # bags of 3 and of 5 instances
    with torch.no_grad():
        log_probs = layer(instances, mask)
    scores = select("grad_norm", 4, logits=log_probs, head=layer, instance_features=instances, instance_mask=mask)
    unpadded = [bag[m] for bag, m in zip(instances, mask)]
    reference = autograd_embedding(layer, unpadded, torch.zeros(30, dtype=torch.long)).norm(dim=1)
    np.testing.assert_allclose(scores.scores, reference.numpy(), rtol=1e-4, atol=1e-6)


def test_a_head_gets_instance_features_in_its_own_dtype_and_device():
    layer = HEADS["softmax_max"](3)  # float32 parameters
    instances = torch.randn(12, 4, 3, dtype=torch.float64)
    picks = select("badge", 4, logits=torch.randn(12, 2, dtype=torch.float64), head=layer, instance_features=instances)
    assert len(set(picks.indices.tolist())) == 4
    with pytest.raises(ConfigError, match="the head is on meta but instance_features on cpu"):
        select("badge", 4, logits=torch.randn(12), head=layer.to("meta"), instance_features=instances)


def test_adaptive_uses_losses_unless_in_its_warm_up():
    features, z, _, _ = tensors(n=40)
    after = select("adaptive", 5, logits=z, seed=0).scores  # no epoch: no warm-up
    assert after.max() > 1.5 * after.min()  # the hardest bags are likelier
    np.testing.assert_allclose(select("adaptive", 5, logits=z, seed=0, epoch=1).scores, 1 / 40)


BAD = [
    (dict(logits=torch.zeros(10, 3)), "logits must have shape (N,) for a one-logit head or (N, 2)"),
    (dict(logits=torch.zeros(10, dtype=torch.long)), "logits must be floating point"),
    (dict(logits=[[1.0], [2.0, 3.0]]), "logits must be a tensor or an array of numbers"),
    (dict(logits=torch.zeros(10), features=torch.zeros(9, 4)), "features must have shape (N, d) with N = 10"),
    (dict(name="coreset", logits=torch.zeros(10)), "sampler 'coreset' reads the bag features: pass features="),
    (dict(name="badge", logits=torch.zeros(10)), "sampler 'badge' reads gradient embeddings: pass features="),
    (dict(name="kl_prob", logits=torch.zeros(10)), "pass positive_logits="),
    (dict(name="svm_margin", logits=torch.zeros(10), features=torch.zeros(10, 2)), "pass positive_features="),
    (
        dict(logits=torch.zeros(10), features=torch.zeros(10, 2), positive_logits=torch.zeros(3, 2)),
        "positive_logits have shape (3, 2) but logits are for a one-logit head",
    ),
    (
        dict(logits=torch.zeros(10), features=torch.zeros(10, 2), positive_features=torch.zeros(3, 5)),
        "positive_features must have shape (P, d)",
    ),
    (dict(logits=None), "logits= is required"),  # was an AttributeError (found by mypy)
    (dict(k=-1, logits=torch.zeros(10)), "k must be a whole number >= 0"),
    (dict(k=2.5, logits=torch.zeros(10)), "k must be a whole number >= 0"),
    (dict(name="nope", logits=torch.zeros(10)), "unknown sampler 'nope'; choose one of: random, full"),
    (dict(name=3, logits=torch.zeros(10)), "the sampler name must be a text"),
    (dict(logits=torch.zeros(10), label="guess"), "parameter label must be one of known, predicted"),
    (dict(logits=torch.zeros(10), temperature=2), "has no parameter(s) ['temperature']"),
    (dict(logits=torch.zeros(10), seed=-1), "seed must be a whole number >= 0"),
    (dict(name="adaptive", logits=torch.zeros(10), epoch=0), "epoch must be a whole number >= 1"),
    (dict(logits=torch.zeros(10), head=torch.nn.Linear(3, 1)), "head must be a weakneg head"),
    (dict(logits=torch.zeros(10), instance_features=torch.zeros(10, 2, 3)), "is read with head= only"),
    (
        dict(logits=torch.zeros(10), head=MeanSoftmax(3), instance_features=torch.zeros(10, 2, 4)),
        "instance_features have 4 features but the head takes 3",
    ),
    (
        dict(
            logits=torch.zeros(10),
            head=MeanSoftmax(3),
            instance_features=torch.zeros(10, 2, 3),
            instance_mask=torch.ones(10, 2),
        ),
        "instance_mask must be boolean",
    ),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_input_is_one_line_saying_what_to_pass(call, message):
    call = {"name": "grad_norm", "k": 3, **call}
    with pytest.raises(ConfigError) as error:
        select(call.pop("name"), call.pop("k"), **call)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_weakneg_head_subclass_with_one_logit_is_refused_not_misread():
    class OneLogit(MeanSoftmax):
        def __init__(self, dim):
            super().__init__(dim)
            self.classifier = torch.nn.Linear(dim, 1)

    with pytest.raises(ConfigError, match=r"classifier has 1 output\(s\)"):
        select("badge", 3, logits=torch.zeros(10), head=OneLogit(3), instance_features=torch.zeros(10, 2, 3))


def test_k_beyond_the_pool_takes_it_all_with_a_warning():
    features, z, _, _ = tensors(n=8)
    with pytest.warns(UserWarning, match="k=20 is more than the pool's 8 bags"):
        picks = select("margin", 20, logits=z)
    assert sorted(picks.indices.tolist()) == list(range(8))


def test_half_precision_outputs_are_widened():
    features, z, _, _ = tensors(n=30)
    half = select("badge", 5, logits=z.half(), features=features.half(), seed=0)
    assert half.scores.dtype == np.float64 and np.isfinite(half.scores).all() and len(set(half.indices)) == 5


@pytest.fixture(scope="module", params=["mean_softmax", "softmax_max"])
def digits_epoch(request):
    """A real digits run's second epoch (badge): the pool its loop scored, with the head as it was then (the loop
    trains it on after selecting), the picks its loop made, and its k."""
    cfg = RunConfig(dataset="digits", target_class=3, epochs=2, sampler="badge", head=request.param)
    experiment = Experiment(cfg, load_bags(cfg), None, None)
    experiment.always_score = True  # the pool's full scoring pass, positives included, every epoch
    seen = {}
    badge = experiment.sampler

    def recording(pool, k, rng, options):
        seen.update(pool=dataclasses.replace(pool, head=copy.deepcopy(pool.head), _grads={}), k=k)
        return badge.select_fn(pool, k, rng, options)

    experiment.sampler = dataclasses.replace(badge, select_fn=recording)
    experiment.run()
    assert seen["pool"].epoch == 2
    return seen["pool"], experiment.selection, seen["k"]


def select_on(pool, name, k, rng, head=None, **params):
    """weakneg.select with a Pool's tensors, as a researcher would hand them over."""
    extra = {} if head is None else dict(head=head, instance_features=pool.instance_features)
    if head is not None and pool.instance_mask is not None:
        extra["instance_mask"] = pool.instance_mask
    return select(
        name,
        k,
        logits=pool.log_probs,
        features=pool.features,
        positive_logits=pool.positive_log_probs,
        positive_features=pool.positive_features,
        seed=rng,
        epoch=pool.epoch,
        **extra,
        **params,
    )


def test_the_loops_own_picks_come_out_of_select(digits_epoch):
    pool, loop, k = digits_epoch
    head = None if pool.head.closed_form_gradient else pool.head  # a linear last layer needs only its input
    again = select_on(pool, "badge", k, np.random.default_rng([0, 2]), head)  # the loop's generator: [seed, epoch]
    assert len(loop.indices) == k > 10
    np.testing.assert_array_equal(again.indices, loop.indices)
    # float32 log-probabilities renormalised by select's log_softmax: scores agree to float32 rounding
    np.testing.assert_allclose(again.scores, loop.scores, rtol=1e-3, atol=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_every_sampler_picks_as_in_the_loop_on_a_digits_pool(digits_epoch, name):
    pool, _, k = digits_epoch
    head = None if pool.head.closed_form_gradient else pool.head
    in_loop = get_sampler(name)(pool, k, np.random.default_rng([0, 2]), {})
    through_select = select_on(pool, name, k, np.random.default_rng([0, 2]), head)
    np.testing.assert_array_equal(through_select.indices, in_loop.indices)


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_weakneg_is_light_and_select_loads_no_app_store_ray_or_umap():
    out = run_python(
        "import sys, weakneg\n"
        "print(sorted(m for m in ('torch', 'numpy', 'weakneg.samplers') if m in sys.modules))\n"
        "import torch\n"
        "picks = weakneg.select('badge', 3, logits=torch.randn(20), features=torch.randn(20, 4), seed=0)\n"
        "print(len(picks.indices), sorted({m.split('.')[0] for m in sys.modules}"
        " & {'streamlit', 'sqlalchemy', 'ray', 'umap', 'sklearn', 'pandas', 'weakneg.store'}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('weakneg.') and m.split('.')[1] in"
        " ('store', 'jobs', 'views', 'projection', 'cli', 'train')))\n"
    )
    assert out.splitlines() == ["[]", "3 []", "[]"]


def test_the_readme_example_runs_and_prints_what_the_readme_shows():
    example = (ROOT / "examples" / "own_loop.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From your own training loop", 1)[1].split("\n## ", 1)[0]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.S)
    assert code.strip() == example.split('"""', 2)[2].strip()  # the README shows the example itself
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "own_loop.py")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == shown.strip()
    assert len(done.stdout.splitlines()) == 5 and "epoch 5: loss" in done.stdout


PLUGIN_MODULES = [
    ("weakneg.data.image_datasets", "weakneg.data", "DATASETS"),
    ("weakneg.data.audio", "weakneg.data", "DATASETS"),
    ("weakneg.data.mil", "weakneg.data", "DATASETS"),
    ("weakneg.data.user", "weakneg.data", "DATASETS"),
    ("weakneg.models.audio", "weakneg.models", "MODELS"),
    ("weakneg.samplers.badge", "weakneg.samplers", "SAMPLERS"),
]


@pytest.mark.parametrize("first, package, registry", PLUGIN_MODULES, ids=[m[0] for m in PLUGIN_MODULES])
def test_a_plugin_module_imported_first_fills_its_whole_registry(first, package, registry):
    """In a fresh interpreter, importing one plugin module before anything else works (no half-initialised
    package) and leaves its registry whole, as when the package is imported first."""
    whole = list(getattr(importlib.import_module(package), registry))  # this process: the package first
    assert run_python(f"import {first}\nimport {package} as p; print(list(p.{registry}))") == f"{whole}\n"
    assert len(whole) >= 7


def test_weakneg_exports_select_lazily():
    assert weakneg.select is select and "select" in dir(weakneg)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        weakneg.nope  # noqa: B018
