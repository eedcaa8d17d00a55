"""Write a small AudioSet-layout folder (class_labels_indices.csv, balanced_train_segments.csv,
eval_segments.csv, audio/<YTID>.wav) of synthetic 10-second 16 kHz clips, for a timing run on a machine
without the real AudioSet. Standard library and numpy only (the wav files are written with `wave`).

    python3 scripts/audioset_layout.py FOLDER [--train 96] [--eval 32] [--seed 0]
"""

from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np

CLASSES = [("/m/09x0r", "Speech"), ("/m/04rlf", "Music"), ("/m/0jbk", "Animal"), ("/m/06mb1", "Rain")]
RATE, SECONDS = 16_000, 10


def clip(labels: list[int], rng: np.random.Generator) -> np.ndarray:
    t = np.arange(RATE * SECONDS) / RATE
    audio = 0.02 * rng.standard_normal(len(t))
    for label in labels:
        if label == 0:  # speech-like: a gliding harmonic voice, syllable-modulated
            f0 = rng.uniform(100, 220) * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
            audio += 0.2 * np.sin(2 * np.pi * np.cumsum(f0) / RATE) * (np.sin(2 * np.pi * 4 * t) > 0)
        elif label == 1:  # music-like: a chord
            for f in rng.uniform(220, 880) * np.array([1, 1.25, 1.5]):
                audio += 0.08 * np.sin(2 * np.pi * f * t)
        elif label == 2:  # animal-like: chirps
            audio += 0.2 * np.sin(2 * np.pi * (2000 + 1500 * np.sin(2 * np.pi * 3 * t)) * t) * (rng.random() > 0.5)
        else:  # rain-like: bursts of noise
            audio += 0.1 * rng.standard_normal(len(t)) * (rng.random(len(t)) > 0.7)
    return np.clip(audio, -1, 1)


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((audio * 32767).astype("<i2").tobytes())


def write_split(root: Path, name: str, count: int, prefix: str, rng: np.random.Generator) -> None:
    lines = [
        "# Segments csv (synthetic)",
        f"# num_ytids={count}",
        "# YTID, start_seconds, end_seconds, positive_labels",
    ]
    for i in range(count):
        labels = sorted(set(rng.choice(len(CLASSES), size=rng.integers(1, 3), replace=True).tolist()))
        ytid = f"{prefix}{i:08d}"
        write_wav(root / "audio" / f"{ytid}.wav", clip(labels, rng))
        mids = ",".join(CLASSES[label][0] for label in labels)
        lines.append(f'{ytid}, 0.000, {SECONDS:.3f}, "{mids}"')
    (root / name).write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--train", type=int, default=96)
    parser.add_argument("--eval", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    (args.folder / "audio").mkdir(parents=True, exist_ok=True)
    (args.folder / "class_labels_indices.csv").write_text(
        "index,mid,display_name\n" + "".join(f'{i},{mid},"{name}"\n' for i, (mid, name) in enumerate(CLASSES))
    )
    write_split(args.folder, "balanced_train_segments.csv", args.train, "tr", rng)
    write_split(args.folder, "eval_segments.csv", args.eval, "ev", rng)
    print(f"wrote {args.train} + {args.eval} clips to {args.folder}")


if __name__ == "__main__":
    main()
