"""``python -m cutkit.demo``: remove the backgrounds of scikit-image's bundled sample photos.

The photos ship inside scikit-image (public-domain / CC0 samples) and are loaded at run time, so the
project carries no third-party images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# skimage.data loaders bundled with the package (no download needed).
SAMPLES = ("astronaut", "coffee", "chelsea", "rocket")


def write_samples(folder: Path) -> list[Path]:
    """Write the sample photos as JPEG files into ``folder``."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SAMPLES:
        path = folder / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).convert("RGB").save(path, quality=95)
        paths.append(path)
    return paths


def _save(image, path: Path) -> None:
    from cutkit.io.image import SUFFIX_FORMAT, encode, write_atomic

    write_atomic(path, encode(image, SUFFIX_FORMAT[path.suffix]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cutkit.demo", description=__doc__)
    parser.add_argument("--model", help="model name (default: the zoo's default)")
    parser.add_argument("--weights", help="weight file for the model")
    parser.add_argument("-o", "--output", default="demo-output", help="folder for inputs and results")
    args = parser.parse_args(argv)

    from cutkit.cli.main import CliError
    from cutkit.cli.remove import load_remover
    from cutkit.io.image import open_image, to_rgb_array
    from cutkit.options import resolve
    from cutkit.pipeline.compose import compose, parse_background

    out = Path(args.output)
    try:
        remover = load_remover(resolve(model=args.model, weights=args.weights))
    except CliError as exc:  # e.g. weights not cached and no network: the message says what to put where
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model: {remover.spec.name} ({remover.spec.description}); weights: {remover.session.weights}")
    for photo in write_samples(out / "photos"):
        rgb = to_rgb_array(open_image(photo))
        alpha = remover.alpha_batch([rgb])[0]
        _save(compose(rgb, alpha), out / "cutouts" / f"{photo.stem}.png")
        _save(compose(rgb, alpha, mask_only=True), out / "masks" / f"{photo.stem}.png")
        _save(compose(rgb, alpha, parse_background("#2e7d32")), out / "on-colour" / f"{photo.stem}.jpg")
        print(f"  {photo.name}: done")
    print(
        f"\ndemo done: photos in {out / 'photos'}, transparent cutouts in {out / 'cutouts'}, "
        f"masks in {out / 'masks'}, composites in {out / 'on-colour'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
