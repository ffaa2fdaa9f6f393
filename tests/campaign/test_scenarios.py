"""The scenario generator: a seed names one scenario, and the CI-sized campaign's seeds cover the whole mix."""

from __future__ import annotations

from campaign.scenarios import CI_SCENARIOS, FAULT_KINDS, RECOVERIES, SEED_ENV, campaign_seeds, scenario


def test_a_seed_names_one_scenario() -> None:
    assert scenario(42) == scenario(42)
    assert scenario(42) != scenario(43)
    assert scenario(42).describe().startswith("seed 42: ")


def test_the_seeds_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(SEED_ENV, "123")
    monkeypatch.setenv("CUCM_SPARK_CAMPAIGN_SCENARIOS", "2")
    assert campaign_seeds(24) == [123, 124]


def test_the_ci_campaign_covers_every_fault_kill_dataset_and_recovery(monkeypatch) -> None:
    monkeypatch.delenv(SEED_ENV, raising=False)
    monkeypatch.delenv("CUCM_SPARK_CAMPAIGN_SCENARIOS", raising=False)
    played = [scenario(seed) for seed in campaign_seeds(CI_SCENARIOS)]
    troubles = [trouble for each in played for trouble in (each.first, each.recovering)]
    assert {rule["kind"] for trouble in troubles for rule in trouble.faults} == set(FAULT_KINDS)
    kills = {(trouble.kill.signal, trouble.kill.after) for trouble in troubles if trouble.kill}
    assert {signal for signal, _ in kills} == {"SIGKILL", "SIGINT"}
    assert {after for _, after in kills} == {"held", "steps", "writes", "seconds"}
    assert {each.dataset.kind for each in played} == {"edge-cases", "generated", "tangled"}
    assert {each.recovery for each in played} == set(RECOVERIES)
    assert {each.workers for each in played} == {1, 2, 3, 4}
