"""The registries' names, written out so that `--help` can list the choices without importing torch.

tests/test_cli_commands.py holds each equal to its registry (samplers.SAMPLERS, models.MODELS, models.HEADS,
data.DATASETS, milcheck.TESTS): a plugin registered there must be added here too, or that test says so."""

SAMPLERS = (
    "random",
    "full",
    "margin",
    "least_confidence",
    "entropy",
    "grad_norm",
    "badge",
    "kl_prob",
    "kl_embedding",
    "svm_margin",
    "coreset",
    "adaptive",
    "mix",
    "adaptive_multilabel",
)
# each sampler's declared parameters with their defaults: `list`'s search reads them (the Runs page's params column)
SAMPLER_DEFAULTS: dict[str, dict] = {
    "grad_norm": {"label": "known"},
    "badge": {"label": "predicted"},
    "svm_margin": {"C": 1.0, "max_iter": 2000},
    "adaptive": {"selection_pressure": 4.0, "warmup_epochs": 1, "levels": None},
    "mix": {"w_uncertainty": 1.0, "w_similarity": 1.0, "w_diversity": 1.0},
    "adaptive_multilabel": {"selection_pressure": 4.0, "warmup_epochs": 1, "levels": None, "scope": "negatives"},
}
HEADS = ("mean_softmax", "softmax_mean", "softmax_max", "attention")
MODELS = ("simple_cnn", "resnet18", "mlp", "mil_mlp", "audio_cnn", "effnet_b0", "psla")
# the built-in datasets; the user's own formats (table, image_bags, audio_clips) come in through --data PATH
DATASETS = (
    "digits",
    "fashion_mnist",
    "cifar10",
    "audioset",
    "musk1",
    "musk2",
    "elephant",
    "protein",
    "corel_dogs",
    "ucsb_breast_cancer",
    "birds_brown_creeper",
    "web_recommendation_1",
    "soundscapes",
)
USER_FORMATS = ("table", "image_bags", "audio_clips")
MIL_TESTS = ("poison", "threshold_poison", "false_frequency")
DATA_FORMATS = ("table", "images", "audio")  # --data-format: data.user.FORMATS
