"""Policy files: every preset loads, a file with mistakes is refused with the file and the
field named, and the engine itself names no network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import circulation
from circulation import InvalidPolicy, Policy, load_policy, preset_names

ENGINE = Path(circulation.__file__).parent

# The least a policy file must say.
MINIMAL = """\
name = "Prova"

[limits]
loans = 10
holds = 2

[[loan_rules]]
period_days = 14

[holds]
pickup_days = 3
"""


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_file(path: Path) -> str:
    """The InvalidPolicy message for the file, which must name it."""
    with pytest.raises(InvalidPolicy) as raised:
        load_policy(path)
    message = str(raised.value)
    assert str(path) in message
    return message


def test_every_preset_loads() -> None:
    assert preset_names() == ["biblioinrete", "cubi", "example_fluxus", "ginestra"]
    names = {preset: load_policy(preset).name for preset in preset_names()}
    assert names == {
        "biblioinrete": "Biblioinrete",
        "cubi": "CUBI",
        "example_fluxus": "Esempio Fluxus",
        "ginestra": "Ginestra",
    }


def test_a_preset_loads_from_its_path_too() -> None:
    path = ENGINE / "policies" / "ginestra.toml"
    assert load_policy(path) == load_policy("ginestra")
    assert load_policy(str(path)) == load_policy("ginestra")


def test_a_minimal_policy_file_loads(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, MINIMAL))

    assert isinstance(policy, Policy)
    assert (policy.name, policy.limits.loans, policy.holds.pickup_days) == ("Prova", 10, 3)


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    message = refused_file(write(tmp_path, MINIMAL.replace("[limits]", 'colour = "red"\n[limits]')))

    assert "colour" in message


def test_an_unknown_key_in_a_loan_rule_is_refused(tmp_path: Path) -> None:
    message = refused_file(
        write(tmp_path, MINIMAL.replace("period_days = 14", "period_days = 14\nperiod_weeks = 2"))
    )

    assert "loan_rules.0.period_weeks" in message


def test_both_period_days_and_period_months_are_refused(tmp_path: Path) -> None:
    message = refused_file(
        write(tmp_path, MINIMAL.replace("period_days = 14", "period_days = 14\nperiod_months = 1"))
    )

    assert "loan_rules.0" in message
    assert "period_days" in message
    assert "period_months" in message


def test_a_last_loan_rule_that_is_not_a_catch_all_is_refused(tmp_path: Path) -> None:
    message = refused_file(
        write(
            tmp_path,
            MINIMAL.replace("period_days = 14", 'material_types = ["BOOK"]\nperiod_days = 14'),
        )
    )

    assert re.search(r"last loan rule must match everything", message)


def test_overdue_every_days_without_overdue_count_is_refused(tmp_path: Path) -> None:
    message = refused_file(write(tmp_path, MINIMAL + "\n[notices]\noverdue_every_days = 5\n"))

    assert "notices" in message
    assert "overdue_every_days" in message
    assert "overdue_count" in message


def test_an_unknown_material_type_is_refused(tmp_path: Path) -> None:
    message = refused_file(
        write(
            tmp_path,
            MINIMAL.replace("period_days = 14", 'material_types = ["VINYL"]\nperiod_days = 14'),
        )
    )

    assert "loan_rules.0.material_types.0" in message


def test_an_unknown_material_type_in_a_group_limit_is_refused(tmp_path: Path) -> None:
    group = '\ngroups = [{ name = "dischi", material_types = ["VINYL"], max = 3 }]\n'
    message = refused_file(write(tmp_path, MINIMAL.replace("holds = 2\n", "holds = 2" + group)))

    assert "limits.groups.0.material_types.0" in message


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    message = refused_file(write(tmp_path, MINIMAL.replace('name = "Prova"', "name = ")))

    assert "not TOML" in message
    assert "line 1" in message


def test_a_missing_required_section_is_refused(tmp_path: Path) -> None:
    message = refused_file(write(tmp_path, MINIMAL.replace("[holds]\npickup_days = 3\n", "")))

    assert "holds" in message


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    refused_file(tmp_path / "nowhere.toml")


def test_an_unknown_preset_name_is_refused() -> None:
    with pytest.raises(InvalidPolicy) as raised:
        load_policy("atlantide")

    message = str(raised.value)
    assert "'atlantide'" in message
    for preset in preset_names():
        assert preset in message


@pytest.mark.parametrize("network", ["CUBI", "Biblioinrete", "Ginestra"])
def test_the_engine_code_names_no_network(network: str) -> None:
    """A preset is data: no network's name appears in the engine's code, comments included."""
    naming = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(ENGINE.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if network.lower() in line.lower()
    ]

    assert naming == []
