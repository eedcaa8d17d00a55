"""The teaching playground: a 2-D weak-label world, and every sampler choosing in it, in about a second.

Instances are points drawn from a few Gaussian clusters: the target *concept*, two *near-miss* clusters
whose distance to the concept the `overlap` setting controls, and three *far* clusters. They are grouped
into bags with the same `make_bags` the image datasets use (bag size, label density 1..bag_size, each
instance once), and trained on with the real engine: `train.Experiment`, the registered samplers and heads,
the small "mlp" encoder. Everything comes from one seed, so a lecture sees the picture that was prepared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch

from .config import RunConfig
from .data import LoadedBags, VectorBags, make_bags
from .errors import ConfigError
from .models import HEADS
from .samplers import SAMPLERS, get_sampler
from . import threads
from .train import Experiment

# name, role, angle (degrees) around the concept, share of all instances; the concept sits at the origin.
CLUSTERS = (
    ("concept", "concept", 0.0, 0.10),
    ("near miss A", "near miss", 0.0, 0.15),
    ("near miss B", "near miss", 120.0, 0.15),
    ("far A", "far", 60.0, 0.20),
    ("far B", "far", 200.0, 0.20),
    ("far C", "far", 280.0, 0.20),
)
CONCEPT = 0  # cluster index of the target concept
CLUSTER_STD = 0.6
FAR_RADIUS = 6.0
GRID_SIZE = 50  # decision regions are drawn on a GRID_SIZE x GRID_SIZE grid
PREFERRED_SAMPLERS = ("random", "margin", "badge", "kl_prob", "grad_norm", "coreset", "full")


@dataclass(frozen=True)
class PlaygroundSettings:
    n_bags: int = 120  # training bags (the test split has as many)
    bag_size: int = 5
    overlap: float = 0.5  # 0: near misses far from the concept ... 1: near misses on top of it
    pn_ratio: float = 0.5
    seed: int = 0
    epochs: int = 6
    head: str = "mean_softmax"
    lr: float = 0.01  # a few epochs of a few batches must visibly move the decision regions
    batch_size: int = 8

    def validate(self) -> PlaygroundSettings:
        if not isinstance(self.n_bags, int) or not 20 <= self.n_bags <= 2000:
            raise ConfigError(f"n_bags must be an integer in 20..2000, got {self.n_bags!r}")
        if not isinstance(self.bag_size, int) or not 1 <= self.bag_size <= 20:
            raise ConfigError(f"bag_size must be an integer in 1..20, got {self.bag_size!r}")
        if not 0.0 <= self.overlap <= 1.0:
            raise ConfigError(f"overlap must be in [0, 1] (0 = near misses far from the concept), got {self.overlap!r}")
        if not self.pn_ratio > 0:
            raise ConfigError(f"pn_ratio must be > 0 (e.g. 0.5 for two negatives per positive), got {self.pn_ratio!r}")
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= 50:
            raise ConfigError(f"epochs must be an integer in 1..50, got {self.epochs!r}")
        if self.head not in HEADS:
            raise ConfigError(f"unknown head {self.head!r}; choose one of: {', '.join(HEADS)}")
        return self

    def config(self, sampler: str) -> RunConfig:
        """The RunConfig the engine trains with (the dataset name is a label: the bags are passed in memory)."""
        return RunConfig(
            dataset="playground",
            sampler=sampler,
            pn_ratio=self.pn_ratio,
            epochs=self.epochs,
            bag_size=self.bag_size,
            model="mlp",
            head=self.head,
            lr=self.lr,
            batch_size=self.batch_size,
            seed=self.seed,
            device="cpu",
            save_embeddings="none",
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class World:
    centres: np.ndarray  # (C, 2) cluster centres
    names: list[str]  # cluster names
    roles: list[str]  # "concept" | "near miss" | "far"
    train: VectorBags
    test: VectorBags
    train_clusters: np.ndarray  # (N,) cluster of each training instance (bags: train.members)
    test_clusters: np.ndarray

    @property
    def bag_distance(self) -> np.ndarray:
        """How close each training bag comes to the concept: its nearest instance's distance to the centre."""
        offsets = self.train.points[self.train.members] - self.centres[CONCEPT]
        return np.linalg.norm(offsets, axis=-1).min(axis=1)

    @property
    def near_miss_share(self) -> np.ndarray:
        """Fraction of each training bag's instances that come from a near-miss cluster."""
        near = [i for i, role in enumerate(self.roles) if role == "near miss"]
        return self.train.contents[:, near].sum(axis=1) / self.train.members.shape[1]


def cluster_centres(overlap: float) -> np.ndarray:
    """Centres: concept at the origin, near misses at 0.8..4 units (overlap 1..0), far clusters at FAR_RADIUS."""
    near_distance = 0.8 + 3.2 * (1.0 - overlap)
    centres = []
    for _, role, angle, _ in CLUSTERS:
        radius = {"concept": 0.0, "near miss": near_distance, "far": FAR_RADIUS}[role]
        theta = np.deg2rad(angle)
        centres.append((radius * np.cos(theta), radius * np.sin(theta)))
    return np.array(centres, dtype=np.float32)


def _split(settings: PlaygroundSettings, centres: np.ndarray, split: int) -> tuple[VectorBags, np.ndarray]:
    """n_bags * bag_size points, bagged exactly like the image datasets; deterministic from (seed, split)."""
    rng = np.random.default_rng([settings.seed, split])
    n = settings.n_bags * settings.bag_size
    shares = np.array([c[3] for c in CLUSTERS])
    counts = np.floor(shares * n).astype(int)
    counts[-1] += n - counts.sum()  # exact totals: every bag is full, so there are exactly n_bags bags
    clusters = rng.permutation(np.repeat(np.arange(len(CLUSTERS)), counts))
    points = centres[clusters] + CLUSTER_STD * rng.standard_normal((n, 2)).astype(np.float32)
    is_concept = (clusters == CONCEPT).astype(np.int64)
    layout = make_bags(is_concept, 1, settings.bag_size, rng)
    n_pos = int(layout.labels.sum())
    if n_pos == 0 or n_pos == len(layout.labels):
        missing = "positive" if n_pos == 0 else "negative"
        raise ConfigError(f"{settings.n_bags} bags of {settings.bag_size} leave no {missing} bag; use more bags")
    contents = np.zeros((len(layout.members), len(CLUSTERS)), dtype=np.int16)
    bag_of_instance = np.repeat(np.arange(len(layout.members)), settings.bag_size)
    np.add.at(contents, (bag_of_instance, clusters[layout.members].ravel()), 1)
    return VectorBags(points, layout.members, layout.labels, contents), clusters


def make_world(settings: PlaygroundSettings) -> World:
    """The 2-D weak-label world of these settings: the same world every time for the same settings."""
    settings.validate()
    centres = cluster_centres(settings.overlap)
    train, train_clusters = _split(settings, centres, 0)
    test, test_clusters = _split(settings, centres, 1)
    return World(
        centres, [c[0] for c in CLUSTERS], [c[1] for c in CLUSTERS], train, test, train_clusters, test_clusters
    )


# --- running the samplers -------------------------------------------------------------------------------


@dataclass
class EpochChoice:
    epoch: int
    chosen: np.ndarray  # training-bag positions of the negative bags picked for this epoch
    scores: np.ndarray  # (pool,) the sampler's score of every candidate
    pool_prob: np.ndarray  # (pool,) P(positive) of every candidate, as the choosing model saw it
    ap: float  # test metrics after training on this choice
    auc: float
    train_loss: float


@dataclass
class SamplerRun:
    sampler: str
    description: str
    k: int
    pool: np.ndarray  # training-bag positions of the negative pool
    grids: np.ndarray  # (epochs + 1, G, G) P(positive) of a one-point bag: [0] at start, [e] after epoch e
    epochs: list[EpochChoice] = field(default_factory=list)

    def choice(self, epoch: int) -> EpochChoice:
        return self.epochs[epoch - 1]


@dataclass
class PlaygroundResult:
    settings: PlaygroundSettings
    world: World
    grid_x: np.ndarray  # (G,)
    grid_y: np.ndarray  # (G,)
    runs: dict[str, SamplerRun]


def default_samplers(n: int = 3) -> list[str]:
    """The first n registered samplers in teaching order (random first: the baseline to compare with)."""
    names = [s for s in PREFERRED_SAMPLERS if s in SAMPLERS] + [s for s in SAMPLERS if s not in PREFERRED_SAMPLERS]
    return names[:n]


def decision_grid(world: World, size: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Grid axes covering every training and test point with a margin."""
    points = np.concatenate([world.train.points, world.test.points])
    low, high = points.min(axis=0) - 1.0, points.max(axis=0) + 1.0
    return np.linspace(low[0], high[0], size), np.linspace(low[1], high[1], size)


@torch.no_grad()
def _grid_probs(experiment: Experiment, grid: torch.Tensor, size: int) -> np.ndarray:
    """P(positive) of a bag holding just one grid point: the model's decision regions in the plane."""
    experiment.model.eval()
    log_probs = experiment.model(grid.to(experiment.device)[:, None, :])
    return log_probs[:, 1].exp().view(size, size).cpu().numpy()


def run_sampler(
    settings: PlaygroundSettings, world: World, sampler: str, grid_x: np.ndarray, grid_y: np.ndarray
) -> SamplerRun:
    """Train on the world with one sampler; record each epoch's choice, metrics and decision regions."""
    spec = get_sampler(sampler)
    data = LoadedBags("playground", list(world.names), CONCEPT, world.train, world.test)
    experiment = Experiment(settings.config(sampler), data, None, None)
    experiment.always_score = True  # every epoch shows the pool's predictions, whatever the sampler
    xx, yy = np.meshgrid(grid_x, grid_y)  # rows follow y, as plotting libraries expect
    grid = torch.from_numpy(np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32))
    grids = [_grid_probs(experiment, grid, len(grid_x))]
    run = SamplerRun(sampler, spec.description, experiment.k, experiment.pool.copy(), np.empty(0))

    def on_epoch(record: dict) -> None:
        selection, pool_view = experiment.selection, experiment.pool_view
        assert selection is not None and pool_view is not None  # the first epoch selects; later ones keep it
        run.epochs.append(
            EpochChoice(
                record["epoch"],
                experiment.pool[selection.indices],
                selection.scores.astype(np.float32),
                pool_view.probs[:, 1].float().cpu().numpy(),
                record["ap"],
                record["auc"],
                record["train_loss"],
            )
        )
        grids.append(_grid_probs(experiment, grid, len(grid_x)))

    experiment.run(on_epoch)
    run.grids = np.stack(grids).astype(np.float32)
    return run


def run_playground(settings: PlaygroundSettings, samplers: list[str] | tuple[str, ...]) -> PlaygroundResult:
    """The whole picture for these settings: the world, then every chosen sampler trained on it from the same
    initial model (the seed fixes it), so differences come from the choices alone."""
    settings.validate()
    if not samplers:
        raise ConfigError(f"choose at least one sampler; registered: {', '.join(SAMPLERS)}")
    for name in samplers:
        get_sampler(name)
    world = make_world(settings)
    grid_x, grid_y = decision_grid(world)
    with threads.small_models():
        runs = {name: run_sampler(settings, world, name, grid_x, grid_y) for name in samplers}
    return PlaygroundResult(settings, world, grid_x, grid_y, runs)


# --- saying why ------------------------------------------------------------------------------------------


def choice_stats(world: World, run: SamplerRun, epoch: int) -> dict[str, float]:
    """What the picked bags look like next to the whole negative pool, from what was actually picked."""
    choice = run.choice(epoch)
    distance, near = world.bag_distance, world.near_miss_share
    picked_in_pool = np.isin(run.pool, choice.chosen)
    return {
        "n_picked": float(len(choice.chosen)),
        "pool_size": float(len(run.pool)),
        "picked_distance": float(distance[choice.chosen].mean()) if len(choice.chosen) else float("nan"),
        "pool_distance": float(distance[run.pool].mean()),
        "picked_near_miss": float(near[choice.chosen].mean()) if len(choice.chosen) else float("nan"),
        "pool_near_miss": float(near[run.pool].mean()),
        "picked_prob": float(choice.pool_prob[picked_in_pool].mean()) if len(choice.chosen) else float("nan"),
        "pool_prob": float(choice.pool_prob.mean()),
    }


def explain_choice(world: World, run: SamplerRun, epoch: int) -> str:
    """A plain-words caption: where the picked bags sit compared with the pool, and what that means."""
    s = choice_stats(world, run, epoch)
    picked, pool = int(s["n_picked"]), int(s["pool_size"])
    if picked == pool:
        return (
            f"**{run.sampler}** took the whole pool ({pool} negative bags): nothing is filtered, so every "
            f"near miss and every far bag is in (they come {s['pool_distance']:.1f} units from the concept on "
            f"average, {s['pool_near_miss']:.0%} near-miss points)."
        )
    # 20% either way: random draws of k bags stay well inside that band on these worlds
    closer = s["picked_distance"] < 0.8 * s["pool_distance"]
    farther = s["picked_distance"] > 1.2 * s["pool_distance"]
    if closer:
        verdict = "it went for the hard negatives: bags that reach close to the concept"
    elif farther:
        verdict = "it went away from the concept: bags the model already finds easy, or spread for variety"
    else:
        verdict = "its picks look like a cross-section of the pool"
    return (
        f"**{run.sampler}** picked {picked} of {pool} negative bags. They come "
        f"{s['picked_distance']:.1f} units from the concept on average (pool: {s['pool_distance']:.1f}), "
        f"hold {s['picked_near_miss']:.0%} near-miss points (pool: {s['pool_near_miss']:.0%}), and the choosing "
        f"model gave them P(positive) {s['picked_prob']:.2f} (pool: {s['pool_prob']:.2f}): {verdict}."
    )
