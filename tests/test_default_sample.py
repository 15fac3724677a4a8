"""The issue targets on the default sample (10,000 people, seed 42), the sample the README's figures
are measured on: one full run of the job, as `cx-pipeline run` does it.

Phase accuracy (issue #4: >= 99 %) is met both by customer (the pipeline as it runs) and by true
person (the phase rules alone). Match precision (issue #3: >= 0.995) is met; recall is bounded by
what the sample's identifiers allow (docs/identity.md).
The lower bounds below sit just under the measured figures, so a regression fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PipelineRun, run_full_job
from gate_helpers import materializations

DEFAULT_PEOPLE = 10_000
DEFAULT_SEED = 42


@pytest.fixture(scope="module")
def default_sample_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineRun]:
    yield from run_full_job(tmp_path_factory.mktemp("default_sample"), DEFAULT_PEOPLE, DEFAULT_SEED)


def test_the_default_sample_meets_the_phase_and_precision_targets(default_sample_run):
    assert default_sample_run.result.success
    meta = materializations(default_sample_run.result)
    lifecycle = meta["lifecycle/phase_accuracy"]
    assert lifecycle["lifecycle_people"].value == DEFAULT_PEOPLE
    # measured 0.9947 by true person, 0.9906 by customer
    assert lifecycle["lifecycle_phase_accuracy_true_grouping"].value >= 0.99
    assert lifecycle["lifecycle_phase_accuracy"].value >= 0.99
    identity = meta["identity/match_quality"]
    # measured 0.99989 and 0.8390
    assert identity["match_precision"].value >= 0.995
    assert identity["match_recall"].value >= 0.835
