"""The named models of the zoo, as data.

PyTorch models load the official checkpoints into cutkit's own architectures. ``*.onnx`` models are
rembg's ONNX exports, run by ONNX Runtime with rembg's preprocessing for each.
"""

from __future__ import annotations

from cutkit.zoo.spec import ModelSpec, WeightsFile

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# SINet/ExtremeC3Net: ((bgr - m) / s) / 255 == (bgr / 255 - m / 255) / s, in BGR order.
_PORTRAIT_MEAN = (107.304565 / 255, 115.69884 / 255, 132.35703 / 255)
_PORTRAIT_STD = (63.97182, 65.1337, 68.29726)
_U2_LICENCE = "Apache-2.0"
_REMBG_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"
_CLOVA = "https://github.com/clovaai/ext_portrait_segmentation/raw/master/result/"


def _gdrive(file_id: str) -> str:
    # The plain `uc?export=download` link answers files over 100 MB with an HTML "can't scan for viruses"
    # page; the direct-download host with `confirm=t` serves the file itself.
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


def _u2(name: str, arch: str, weights: WeightsFile, description: str, task: str = "general") -> ModelSpec:
    return ModelSpec(
        name=name,
        arch=arch,
        input_size=(320, 320),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        output=(0,),
        activation="identity",
        weights=weights,
        licence=_U2_LICENCE,
        description=description,
        task=task,
    )


_TORCH_MODELS: tuple[ModelSpec, ...] = (
    # cutkit's own model: trained on DUTS-TR with `cutkit train salient`, shipped inside the package.
    # docs/models/cutnet-duts.md has its training commands, curves and DUTS-TE/ECSSD numbers.
    ModelSpec(
        name="cutnet-duts",
        arch="cutnet",
        input_size=(288, 288),  # chosen on the DUTS-TR validation split (224-384 tried; the model card)
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        output=(0,),
        activation="sigmoid",
        licence="Apache-2.0",
        task="general",
        size_multiple=32,
        description="cutkit's own salient-object model (CutNet, 1.9 M parameters), bundled: works offline",
        weights=WeightsFile(
            filename="cutnet-duts.safetensors",
            bundled=True,
            size=3941754,
            sha256="011359e21f7c66761265e19c6dedf2ccca42b7bbb150359736feec46ec4a3f40",
        ),
    ),
    _u2(
        "u2net",
        "u2net",
        WeightsFile(
            filename="u2net.pth",
            urls=(_gdrive("1ao1ovG1Qtx4b7EoskHXmi2E9rp5CHLcZ"),),
            md5="347c3d51b01528e5c6c071e3cff1cb55",
        ),
        "U²-Net (Qin et al. 2020), salient objects, 176 MB",
    ),
    _u2(
        "u2net_human_seg",
        "u2net",
        WeightsFile(
            filename="u2net_human_seg.pth",
            urls=(_gdrive("1m_Kgs91b21gayc2XLW0ou8yugAIadWVP"),),
            md5="09fb4e49b7f785c9f855baf94916840a",
        ),
        "U²-Net trained for human segmentation",
        task="human",
    ),
    _u2(
        "u2netp",
        "u2netp",
        WeightsFile(
            filename="u2netp.pth",
            urls=(_gdrive("1rbSTGKAE-MTxBYHd-51l2hMOQPT_7EPy"),),
            md5="e4f636406ca4e2af789941e7f139ee2e",
        ),
        "U²-Netp, the 4.7 MB small U²-Net",
    ),
    ModelSpec(
        name="isnet-general-use",
        arch="isnet",
        input_size=(1024, 1024),
        mean=(0.5, 0.5, 0.5),
        std=(1.0, 1.0, 1.0),
        output=(0, 0),
        activation="identity",
        licence=_U2_LICENCE,
        task="general",
        description="IS-Net (DIS, Qin et al. 2022) general-use weights, high resolution",
        weights=WeightsFile(
            filename="isnet-general-use.pth",
            urls=(_gdrive("1nV57qKuy--d5u1yvkng9aXW1KS4sOpOi"),),
            sha256="9e1aafea58f0b55d0c35077e0ceade6ba1ba2bce372fd4f8f77215391f3fac13",
            size=176579397,
        ),
    ),
    ModelSpec(
        name="sinet",
        arch="sinet",
        input_size=(320, 320),
        mean=_PORTRAIT_MEAN,
        std=_PORTRAIT_STD,
        channel_order="BGR",
        activation="softmax",
        fg_channel=1,
        licence="MIT",
        task="portrait",
        size_multiple=32,
        description="SINet (Park et al. 2020), extremely light portrait segmentation",
        weights=WeightsFile(
            filename="SINet.pth",
            urls=(_CLOVA + "SINet/SINet.pth",),
            size=444787,
            sha256="d164a9643c6e6765fc6dd4ec73f6018ad2526c21336911b4484715f33e6981a4",
        ),
    ),
    ModelSpec(
        name="extremec3",
        arch="extremec3",
        input_size=(320, 320),
        mean=_PORTRAIT_MEAN,
        std=_PORTRAIT_STD,
        channel_order="BGR",
        activation="sigmoid",
        licence="MIT",
        task="portrait",
        size_multiple=8,
        description="ExtremeC3Net (Park et al. 2019), 38k-parameter portrait segmentation",
        weights=WeightsFile(
            filename="ExtremeC3.pth",
            urls=(_CLOVA + "ExtremeC3/ExtremeC3.pth",),
            size=240398,
            sha256="52ff1681c7f65899f203106a64562c3a709172f3a65aa1ad5bef7bb9a22a39db",
        ),
    ),
)


def _rembg(
    name: str,
    filename: str,
    md5: str,
    size: int,
    imagenet: bool,
    activation: str,
    description: str,
    licence: str = "Apache-2.0",
    task: str = "general",
) -> ModelSpec:
    mean, std = (IMAGENET_MEAN, IMAGENET_STD) if imagenet else ((0.5, 0.5, 0.5), (1.0, 1.0, 1.0))
    return ModelSpec(
        name=name,
        arch="onnx",
        input_size=(size, size),
        mean=mean,
        std=std,
        output=(0,),
        activation=activation,
        licence=licence,
        task=task,
        description=description,  # type: ignore[arg-type]
        weights=WeightsFile(filename=filename, urls=(_REMBG_RELEASE + filename,), md5=md5),
    )


_BIREFNET = "MIT"
_REMBG_MODELS: tuple[ModelSpec, ...] = (
    _rembg(
        "u2net.onnx",
        "u2net.onnx",
        "60024c5c889badc19c04ad937298a77b",
        320,
        True,
        "identity",
        "rembg's ONNX export of U²-Net",
    ),
    _rembg(
        "u2netp.onnx",
        "u2netp.onnx",
        "8e83ca70e441ab06c318d82300c84806",
        320,
        True,
        "identity",
        "rembg's ONNX export of U²-Netp",
    ),
    _rembg(
        "u2net_human_seg.onnx",
        "u2net_human_seg.onnx",
        "c09ddc2e0104f800e3e1bb4652583d1f",
        320,
        True,
        "identity",
        "rembg's ONNX export of U²-Net human segmentation",
        task="human",
    ),
    _rembg(
        "silueta.onnx",
        "silueta.onnx",
        "55e59e0d8062d2f5d013f4725ee84782",
        320,
        True,
        "identity",
        "rembg's silueta (a pruned U²-Net)",
    ),
    _rembg(
        "isnet-general-use.onnx",
        "isnet-general-use.onnx",
        "fc16ebd8b0c10d971d3513d564d01e29",
        1024,
        False,
        "identity",
        "rembg's ONNX export of IS-Net general use",
    ),
    _rembg(
        "isnet-anime.onnx",
        "isnet-anime.onnx",
        "6f184e756bb3bd901c8849220a83e38e",
        1024,
        False,
        "identity",
        "rembg's IS-Net for anime characters",
    ),
    _rembg(
        "birefnet-general.onnx",
        "BiRefNet-general-epoch_244.onnx",
        "7a35a0141cbbc80de11d9c9a28f52697",
        1024,
        True,
        "sigmoid",
        "BiRefNet general (rembg's ONNX)",
        _BIREFNET,
    ),
    _rembg(
        "birefnet-general-lite.onnx",
        "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
        "4fab47adc4ff364be1713e97b7e66334",
        1024,
        True,
        "sigmoid",
        "BiRefNet lite (rembg's ONNX)",
        _BIREFNET,
    ),
    _rembg(
        "birefnet-portrait.onnx",
        "BiRefNet-portrait-epoch_150.onnx",
        "c3a64a6abf20250d090cd055f12a3b67",
        1024,
        True,
        "sigmoid",
        "BiRefNet portrait (rembg's ONNX)",
        _BIREFNET,
        task="portrait",
    ),
    _rembg(
        "birefnet-dis.onnx",
        "BiRefNet-DIS-epoch_590.onnx",
        "2d4d44102b446f33a4ebb2e56c051f2b",
        1024,
        True,
        "sigmoid",
        "BiRefNet DIS (rembg's ONNX)",
        _BIREFNET,
    ),
    _rembg(
        "birefnet-hrsod.onnx",
        "BiRefNet-HRSOD_DHU-epoch_115.onnx",
        "c017ade5de8a50ff0fd74d790d268dda",
        1024,
        True,
        "sigmoid",
        "BiRefNet HRSOD (rembg's ONNX)",
        _BIREFNET,
    ),
    _rembg(
        "birefnet-cod.onnx",
        "BiRefNet-COD-epoch_125.onnx",
        "f6d0d21ca89d287f17e7afe9f5fd3b45",
        1024,
        True,
        "sigmoid",
        "BiRefNet camouflaged objects (rembg's ONNX)",
        _BIREFNET,
    ),
    _rembg(
        "birefnet-massive.onnx",
        "BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx",
        "33e726a2136a3d59eb0fdf613e31e3e9",
        1024,
        True,
        "sigmoid",
        "BiRefNet massive (rembg's ONNX)",
        _BIREFNET,
    ),
)

MODELS: dict[str, ModelSpec] = {m.name: m for m in _TORCH_MODELS + _REMBG_MODELS}

# cutkit's own bundled model: `cutkit remove` works offline on a fresh install.
DEFAULT_MODEL = "cutnet-duts"
