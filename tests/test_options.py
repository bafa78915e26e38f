"""The removal options: declared once, rembg's names accepted, bad keys and values refused, CLI derived."""

from __future__ import annotations

import argparse

import pytest

from cutkit import options as opt
from cutkit.cli.main import main


@pytest.mark.parametrize(
    ("alias", "value", "name", "expected"),
    [
        ("only_mask", True, "mask", True),
        ("bgcolor", (0, 0, 255, 255), "bg", (0, 0, 255, 255)),
        ("post_process_mask", True, "post_process", True),
        ("alpha_matting", True, "matting", True),
        ("alpha_matting_foreground_threshold", 200, "matting_fg_threshold", 200),
        ("alpha_matting_background_threshold", 20, "matting_bg_threshold", 20),
        ("alpha_matting_erode_size", 5, "matting_erode", 5),
    ],
)
def test_rembg_aliases(alias: str, value: object, name: str, expected: object) -> None:
    assert opt.canonical_name(alias) == name
    assert opt.resolve({alias: value}).values[name] == expected


def test_defaults_come_from_the_declaration() -> None:
    resolved = opt.resolve()
    assert set(resolved.values) == {o.name for o in opt.REMOVE_OPTIONS}
    for o in opt.REMOVE_OPTIONS:
        assert resolved.values[o.name] == o.default


def test_unknown_option_suggests() -> None:
    with pytest.raises(TypeError, match="did you mean 'batch_size'"):
        opt.resolve({"batchsize": 2})
    with pytest.raises(TypeError, match=r"did you mean [^)]*'only_mask'"):
        opt.resolve({"only_mas": True})


def test_same_option_twice_by_two_names() -> None:
    with pytest.raises(TypeError, match="'mask' given twice"):
        opt.resolve({"mask": True, "only_mask": False})


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "many"}, "batch_size"),
        ({"engine": "tensorrt"}, "engine"),
        ({"device": "tpu"}, "device"),
        ({"format": "gif"}, "format"),
        ({"matting_fg_threshold": 300}, "matting_fg_threshold"),
        ({"mask": "perhaps"}, "mask"),
        ({"bg": "not-a-colour"}, "bg"),
        ({"bgcolor": (0, 0, 300)}, "bg"),
    ],
)
def test_bad_values_name_the_option(given: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"option '{named}'"):
        opt.resolve(given)


def test_values_are_parsed_from_strings() -> None:
    o = opt.resolve({"batch_size": "4", "mask": "yes", "bg": "255,0,0", "format": "JPEG"})
    assert (o.batch_size, o.mask, o.bg, o.format) == (4, True, (255, 0, 0, 255), "jpg")


def _remove_parser() -> argparse.ArgumentParser:
    from cutkit.cli import remove

    parser = argparse.ArgumentParser(prog="cutkit remove")
    remove.add_arguments(parser)
    return parser


def test_cli_parser_has_every_option() -> None:
    parser = _remove_parser()
    by_dest = {a.dest: a for a in parser._actions}
    for o in opt.REMOVE_OPTIONS:
        assert o.name in by_dest, f"--{o.name} missing from `cutkit remove`"
        action = by_dest[o.name]
        assert o.cli_flag in action.option_strings
        if o.short:
            assert f"-{o.short}" in action.option_strings
        # The parser declares no default of its own: resolve() fills the declaration's.
        assert action.default is None


def test_cli_values_resolve_like_python_values() -> None:
    ns = _remove_parser().parse_args(["x.jpg", "--batch-size", "3", "--mask", "--bg", "white", "-m", "sinet"])
    o = opt.from_namespace(ns)
    assert o.values == opt.resolve(batch_size=3, mask=True, bg="white", model="sinet").values
    assert opt.from_namespace(_remove_parser().parse_args(["x.jpg"])).values == opt.resolve().values


def test_help_shows_each_default_from_the_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["remove", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    by_dest = {a.dest: a for a in _remove_parser()._actions}
    for o in opt.REMOVE_OPTIONS:
        help_text = (by_dest[o.name].help or "").replace("%%", "%")  # argparse escapes % as %%
        assert o.help in help_text
        if o.default in (None, False):
            assert "default:" not in help_text.replace(o.help, ""), o.name
        else:
            assert help_text.endswith(f"(default: {o.default})"), o.name
        assert " ".join(help_text.split()) in text, o.name
