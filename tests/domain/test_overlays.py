"""Pure tests of the business-grid rules: every base grid of the region in exactly one unit."""
from __future__ import annotations

import pytest

from domain.overlays import BusinessUnit, Overlay, overlay_problems, units_by_grid

V = "441900101002"
GRIDS = {f"{V}{i:03d}" for i in range(1, 6)}  # 441900101002001 … 005
G1, G2, G3, G4, G5 = sorted(GRIDS)


def layer(*units: BusinessUnit, region: str = V) -> Overlay:
    """A police-beat layer over one village."""
    return Overlay(layer_id="police_beats", name="警务网格", name_en="Police beats",
                   department="公安", region=region, units=units)


def beat(code: str, *grids: str, name: str | None = None) -> BusinessUnit:
    """A beat holding some grids."""
    return BusinessUnit(code=code, name=name if name is not None else f"警区{code}",
                        grids=tuple(grids))


def test_a_sound_layer_has_no_problems() -> None:
    ov = layer(beat("B1", G1, G2), beat("B2", G3), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == []


def test_a_grid_in_two_units_is_a_split_naming_grid_and_both_units() -> None:
    ov = layer(beat("B1", G1, G2), beat("B2", G2, G3), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == [
        f"splits base grid {G2} between units B1 (警区B1) and B2 (警区B2)"]


def test_a_grid_in_three_units_names_all_three() -> None:
    ov = layer(beat("B1", G1, G2), beat("B2", G2, G3), beat("B3", G2, G4, G5))
    [problem] = overlay_problems(ov, GRIDS)
    assert problem == (f"splits base grid {G2} between units B1 (警区B1), B2 (警区B2) "
                       f"and B3 (警区B3)")


def test_a_grid_in_no_unit_is_missed_and_named() -> None:
    ov = layer(beat("B1", G1, G2), beat("B2", G3), beat("B3", G5))
    assert overlay_problems(ov, GRIDS) == [f"misses base grid {G4}: it is in no unit"]


def test_unknown_grids_name_the_unit_and_the_code() -> None:
    outside = "441900101003001"  # a real-looking grid of another village
    ov = layer(beat("B1", G1, G2, outside), beat("B2", G3, "nonsense"), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == [
        f"unit B1 (警区B1) names {outside}, which is not a base grid of region {V}",
        f"unit B2 (警区B2) names nonsense, which is not a base grid of region {V}"]


def test_duplicate_unit_codes_are_named() -> None:
    ov = layer(beat("B1", G1, G2), beat("B1", G3), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == ["duplicate unit code B1 (units #1 and #2)"]


def test_an_empty_unit_is_named() -> None:
    ov = layer(beat("B1", G1, G2, G3), beat("B2"), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == ["unit B2 (警区B2) is empty: it holds no base grid"]


def test_a_grid_listed_twice_in_one_unit_is_named_but_not_a_split() -> None:
    ov = layer(beat("B1", G1, G2, G1), beat("B2", G3), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == [f"unit B1 (警区B1) lists base grid {G1} twice"]


def test_blank_codes_and_names_are_named_by_position() -> None:
    ov = layer(beat("", G1, G2, name="无编号"), beat("B2", G3, name=" "), beat("B3", G4, G5))
    assert overlay_problems(ov, GRIDS) == ["unit #1 (无编号) has an empty code",
                                           "unit B2 has an empty name"]


def test_a_layer_without_units_misses_every_grid() -> None:
    problems = overlay_problems(layer(), GRIDS)
    assert problems[0] == "layer police_beats has no units"
    assert problems[1:] == [f"misses base grid {g}: it is in no unit" for g in sorted(GRIDS)]


def test_every_problem_is_reported_at_once() -> None:
    ov = layer(beat("B1", G1, G2), beat("B1", G2, "X"), beat("B3"))
    problems = overlay_problems(ov, GRIDS)
    assert len(problems) == 7, problems  # duplicate, empty, unknown, split, 3 missed
    assert any("duplicate unit code B1" in p for p in problems)
    assert any("B3 (警区B3) is empty" in p for p in problems)
    assert any(p.startswith(f"splits base grid {G2}") for p in problems)
    assert [p for p in problems if p.startswith("misses")] == [
        f"misses base grid {g}: it is in no unit" for g in (G3, G4, G5)]


def test_units_by_grid_and_unit_lookup() -> None:
    ov = layer(beat("B1", G1, G2), beat("B2", G3), beat("B3", G4, G5))
    assert units_by_grid(ov) == {G1: "B1", G2: "B1", G3: "B2", G4: "B3", G5: "B3"}
    assert ov.unit("B2").grids == (G3,)
    assert ov.grid_count == 5
    with pytest.raises(KeyError):
        ov.unit("B9")


def test_types_are_frozen() -> None:
    with pytest.raises(AttributeError):
        beat("B1", G1).code = "B2"  # type: ignore[misc]
