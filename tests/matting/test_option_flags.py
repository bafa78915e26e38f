"""CLI forms of the matting and decontamination options: on-by-default switches get a ``--no-`` form."""

from __future__ import annotations

import argparse

import pytest

from cutkit import options as opt


def _parse(*argv: str) -> opt.RemoveOptions:
    parser = argparse.ArgumentParser()
    opt.add_to_parser(parser)
    return opt.from_namespace(parser.parse_args(list(argv)))


def test_decontaminate_is_on_by_default_and_has_a_no_form() -> None:
    assert _parse().decontaminate is True
    assert _parse("--no-decontaminate").decontaminate is False
    assert _parse("--decontaminate").decontaminate is True


def test_switches_that_are_off_by_default_stay_plain() -> None:
    parser = argparse.ArgumentParser()
    opt.add_to_parser(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--no-matting"])
    assert _parse("--matting").matting is True and _parse().matting is False


def test_every_on_by_default_switch_has_both_forms() -> None:
    parser = argparse.ArgumentParser()
    opt.add_to_parser(parser)
    by_dest = {a.dest: a for a in parser._actions}
    for o in opt.REMOVE_OPTIONS:
        if o.flag and o.default is True:
            assert {o.cli_flag, "--no-" + o.cli_flag[2:]} <= set(by_dest[o.name].option_strings), o.name


def test_matting_options_from_the_cli() -> None:
    o = _parse("--matting", "--matting-band", "0.02", "--matting-solver", "lbdm", "--matting-max-side", "800")
    assert (o.matting, o.matting_band, o.matting_solver, o.matting_max_side) == (True, 0.02, "lbdm", 800)
    assert o.matting_erode is None  # the band decides unless a pixel reach is given
    assert _parse("--matting-erode", "10").matting_erode == 10


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"matting_band": 0}, "matting_band"),
        ({"matting_band": 0.9}, "matting_band"),
        ({"matting_solver": "knn"}, "matting_solver"),
        ({"matting_max_side": 10}, "matting_max_side"),
        ({"decontaminate": "maybe"}, "decontaminate"),
    ],
)
def test_bad_values_name_the_option(given: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"option '{named}'"):
        opt.resolve(given)


def test_rembg_matting_names_keep_their_meaning() -> None:
    o = opt.resolve(
        alpha_matting=True,
        alpha_matting_foreground_threshold=240,
        alpha_matting_background_threshold=10,
        alpha_matting_erode_size=10,
    )
    assert (o.matting, o.matting_fg_threshold, o.matting_bg_threshold, o.matting_erode) == (True, 240, 10, 10)
