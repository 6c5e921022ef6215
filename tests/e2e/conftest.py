from __future__ import annotations

import pytest

from tests.e2e.harness import Assistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("assistant")
    running = Assistant(workdir=workdir, database_url=f"sqlite:///{workdir}/ijm.db")
    running.start()
    yield running
    running.stop()
