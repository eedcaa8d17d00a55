"""Audio encoders: instance features over time that the engine's heads pool, and their registration."""

from __future__ import annotations

import pytest
import torch

from weakneg.errors import ConfigError
from weakneg.models import MODELS, build_model
from weakneg.models.audio import AudioCNN, EfficientNetSteps, MultiHeadAttentionPool, PSLAEncoder
from weakneg.models.gradients import autograd_embedding, gradient_embedding


def test_audio_models_are_registered_for_audio_data():
    assert {name for name, spec in MODELS.items() if spec.modality == "audio"} >= {"audio_cnn", "effnet_b0", "psla"}


def test_audio_cnn_gives_one_instance_per_160_ms():
    encoder = AudioCNN()
    assert encoder(torch.randn(3, 1056, 128)).shape == (3, 66, encoder.dim)


@pytest.fixture
def one_thread():
    # EfficientNet on a busy 2-core machine runs several times faster on one thread
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_efficientnet_encoders_take_one_channel_and_keep_time(one_thread):
    torch.manual_seed(0)
    clips = torch.randn(2, 96, 128)  # 0.96 s: enough to check shapes without a minute of CPU
    psla = PSLAEncoder().eval()
    assert psla.features[0][0].in_channels == 1
    with torch.no_grad():
        steps = psla.steps(clips)  # what effnet_b0 returns: one step per 32 frames
        assert steps.shape == (2, 3, 1280)
        weights = psla.pool.weights(steps)
        assert torch.allclose(weights.sum(dim=1), torch.ones(2, 4))
        assert torch.allclose(psla(clips), torch.einsum("bth,btd->bhd", weights, steps), atol=1e-5)
    assert isinstance(MODELS["effnet_b0"].build((1056, 128)), EfficientNetSteps)


def test_attention_pool_of_identical_steps_is_that_step():
    pool = MultiHeadAttentionPool(8, heads=3)
    step = torch.randn(1, 1, 8)
    assert torch.allclose(pool(step.expand(1, 5, 8)), step.expand(1, 3, 8), atol=1e-6)


@pytest.mark.parametrize("head", ["mean_softmax", "softmax_mean", "softmax_max", "attention"])
def test_heads_over_time_steps_have_correct_gradient_embeddings(head):
    torch.manual_seed(1)
    model = build_model("audio_cnn", head, (1056, 128), "audio").eval()
    with torch.no_grad():
        h = model.encoder(torch.randn(3, 1056, 128))
    labels = torch.tensor([0, 1, 0])
    fast = gradient_embedding(model.head, h, labels).matrix()
    torch.testing.assert_close(fast, autograd_embedding(model.head, h, labels), atol=1e-5, rtol=1e-4)


def test_an_image_model_on_audio_data_names_the_audio_models():
    with pytest.raises(ConfigError, match="audio_cnn"):
        build_model("simple_cnn", "mean_softmax", (1056, 128), "audio")
