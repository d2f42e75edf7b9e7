"""Each trainer on a few steps: the loss falls, the checkpoint reloads with diffusers/transformers,
runs are reproducible, fine-tuning continues from a checkpoint, and the samplers draw from it."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from nodes.data.types import ImageSet  # noqa: E402


def _falls(curve: list[float], window: int = 5) -> bool:
    return float(np.mean(curve[-window:])) < 0.8 * float(np.mean(curve[:window]))


def _stored(port_type, value, tmp_path):
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    port_type.save(value, folder)
    return folder


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=False))


@pytest.fixture(scope="module")
def few_digits(digits_data) -> ImageSet:
    return digits_data.subset(np.arange(200))


# --- diffusion -----------------------------------------------------------------------------------


def test_caption_diffusion_learns_and_reloads_with_diffusers(tmp_path, few_digits, embedder):
    from diffusers import UNet2DConditionModel

    from nodes.train.checkpoints import DiffusionModel
    from nodes.train.diffusion_sample import caption_condition, denoise
    from nodes.train.diffusion_train import train_diffusion_model

    model = train_diffusion_model(few_digits, embedder=embedder, conditioning="caption", steps=40, batch_size=32,
                                  width=16, learning_rate=3e-3, seed=1)
    assert model.conditioning == "caption" and model.class_embeddings.shape == (10, 384)
    assert _falls(model.history.curves["loss"])

    folder = _stored(DiffusionModel, model, tmp_path)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    assert (folder / "unet" / "diffusion_pytorch_model.safetensors").exists()
    x, t, e = torch.randn(2, 1, 8, 8), torch.tensor([10, 500]), torch.randn(2, 384)
    with torch.no_grad():
        expected = model.unet(x, t, encoder_hidden_states=e[:, None], class_labels=e).sample
        assert torch.allclose(unet(x, t, encoder_hidden_states=e[:, None], class_labels=e).sample, expected, atol=1e-6)

    reloaded = DiffusionModel.load(folder)
    condition = caption_condition(reloaded, embedder.encode(["a handwritten seven"] * 2))
    first = denoise(reloaded, condition, 2, steps=4, guidance=3.0, seed=5)
    assert first.shape == (2, 1, 8, 8) and 0 <= first.min() and first.max() <= 1
    assert np.array_equal(first, denoise(model, condition, 2, steps=4, guidance=3.0, seed=5))


def test_class_diffusion_is_reproducible_and_resumes(few_digits):
    from nodes.train.diffusion_train import train_diffusion_model

    settings = dict(conditioning="class", steps=15, batch_size=16, width=8, seed=3)
    first = train_diffusion_model(few_digits, **settings)
    again = train_diffusion_model(few_digits, **settings)
    assert _same_weights(first.unet, again.unet)
    assert first.history.curves == again.history.curves
    other = train_diffusion_model(few_digits, **{**settings, "seed": 4})
    assert not _same_weights(first.unet, other.unet)

    resumed = train_diffusion_model(few_digits, init=first, steps=15, batch_size=16, seed=5)
    assert resumed.history.steps == 30 and len(resumed.history.runs) == 2
    assert first.history.steps == 15  # the earlier checkpoint is left as it was
    assert np.mean(resumed.history.curves["loss"][15:20]) < np.mean(first.history.curves["loss"][:5])
    with pytest.raises(ValueError, match="cannot continue as caption"):
        train_diffusion_model(few_digits, init=first, conditioning="caption", steps=1)


def test_unconditional_checkpoint_is_a_ddpm_pipeline(tmp_path, few_digits):
    from diffusers import DDPMPipeline

    from nodes.train.checkpoints import DiffusionModel
    from nodes.train.diffusion_train import train_diffusion_model

    model = train_diffusion_model(few_digits, conditioning="none", steps=3, batch_size=8, width=8)
    pipeline = DDPMPipeline.from_pretrained(_stored(DiffusionModel, model, tmp_path))
    images = pipeline(batch_size=1, num_inference_steps=2, output_type="np").images
    assert images.shape == (1, 8, 8, 1)


# --- language model --------------------------------------------------------------------------------


def test_language_model_learns_and_reloads_with_transformers(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from nodes.data.bundled import pydoc_text
    from nodes.data.text_prep import char_tokenizer_for
    from nodes.train.checkpoints import TrainedLM
    from nodes.train.lm_sample import generate_text
    from nodes.train.lm_train import train_language_model

    corpus = pydoc_text(None, topics="if,while,for,try,with,lambda")
    validation = pydoc_text(None, topics="assert")
    tokenizer = char_tokenizer_for(corpus.text + validation.text)
    model = train_language_model(corpus, tokenizer, validation=validation, steps=40, batch_size=16, context=32,
                                 layers=1, width=32, heads=2, learning_rate=1e-2, eval_every=20, seed=0)
    assert _falls(model.history.curves["loss"])
    assert len(model.history.curves["validation"]) == 2
    assert model.history.curves["validation"][-1] < model.history.curves["validation"][0]

    folder = _stored(TrainedLM, model, tmp_path)
    net = AutoModelForCausalLM.from_pretrained(folder)
    reloaded_tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = torch.tensor([reloaded_tokenizer.encode("while x:", add_special_tokens=False)])
    with torch.no_grad():
        assert torch.allclose(net(input_ids=ids).logits, model.model(input_ids=ids).logits, atol=1e-5)

    text = generate_text(model, "while ", max_new_tokens=30, temperature=0.8, seed=2)
    assert text == generate_text(TrainedLM.load(folder), "while ", max_new_tokens=30, temperature=0.8, seed=2)
    assert len(text) > 0

    resumed = train_language_model(corpus, tokenizer, init=model, steps=10, batch_size=16, seed=1)
    assert resumed.history.steps == 50
    with pytest.raises(ValueError, match="different tokenizer"):
        train_language_model(corpus, char_tokenizer_for("abc" * 100), init=model, steps=1)


# --- VAE and GAN -----------------------------------------------------------------------------------


def test_vae_learns_reloads_and_interpolates(tmp_path, few_digits):
    from diffusers import AutoencoderKL

    from nodes.train.checkpoints import VAEModel
    from nodes.train.vae import decode, encode_mean, train_vae_model

    model = train_vae_model(few_digits, steps=40, batch_size=32, width=8, learning_rate=3e-3, seed=0)
    assert _falls(model.history.curves["reconstruction"])
    folder = _stored(VAEModel, model, tmp_path)
    vae = AutoencoderKL.from_pretrained(folder / "vae")
    latents = encode_mean(vae, few_digits.pixels[:2])
    assert latents.shape == (2, 2, 4, 4)
    assert np.allclose(decode(vae, latents), decode(model.vae, encode_mean(model.vae, few_digits.pixels[:2])), atol=1e-5)

    resumed = train_vae_model(few_digits, init=model, steps=5, batch_size=32)
    assert resumed.history.steps == 45


def test_gan_learns_reloads_and_samples(tmp_path, few_digits):
    from nodes.train.checkpoints import GANModel
    from nodes.train.gan import gan_pixels, train_gan_model
    from nodes.train.gan_nets import DCGANGenerator

    untrained = train_gan_model(few_digits, steps=0, width=16, seed=0)
    model = train_gan_model(few_digits, steps=60, batch_size=32, width=16, learning_rate=1e-3, seed=0)
    assert len(model.history.curves["generator"]) == len(model.history.curves["discriminator"]) == 60
    # GAN losses chase each other rather than fall; what must fall is the gap between the average
    # generated image and the average real one
    real = few_digits.pixels.mean(0)
    gap_before = np.abs(gan_pixels(untrained, 64, seed=1).mean(0) - real).mean()
    gap_after = np.abs(gan_pixels(model, 64, seed=1).mean(0) - real).mean()
    assert gap_after < 0.6 * gap_before
    folder = _stored(GANModel, model, tmp_path)
    generator = DCGANGenerator.from_pretrained(folder / "generator")
    assert _same_weights(generator, model.generator)
    pixels = gan_pixels(GANModel.load(folder), 4, seed=1)
    assert pixels.shape == (4, 1, 8, 8) and np.array_equal(pixels, gan_pixels(model, 4, seed=1))
    resumed = train_gan_model(few_digits, init=model, steps=5, batch_size=32)
    assert resumed.history.steps == 65

