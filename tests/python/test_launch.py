"""python -m mxnext.launch without starting a job: the per-rank variables, the mpirun command
line, MXNet's -s option (every worker serves its dist_async shard: no separate servers).
Jobs themselves run in tests/dist."""
import pytest

from mxnext import launch


def test_rank_variables_from_open_mpi(monkeypatch):
    for k, v in {"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4",
                 "OMPI_COMM_WORLD_LOCAL_RANK": "0", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}.items():
        monkeypatch.setenv(k, v)
    env = launch._rank_env()
    assert env["RANK"] == "2" and env["WORLD_SIZE"] == "4"
    assert env["LOCAL_RANK"] == "0" and env["LOCAL_WORLD_SIZE"] == "2"
    assert env["DMLC_ROLE"] == "worker" and env["DMLC_WORKER_ID"] == "2"
    assert env["DMLC_NUM_WORKER"] == "4" and env["DMLC_NUM_SERVER"] == "4"


def test_mpirun_command_forwards_the_kvstore_variables(monkeypatch):
    monkeypatch.setenv("MXNEXT_JOB_TOKEN", "t")
    monkeypatch.setenv("MXNEXT_KV_LOCAL_SIZE", "2")
    monkeypatch.setattr(launch, "_is_open_mpi", lambda mpirun: True)
    cmd = launch.mpirun_command(4, ["python", "train.py"])
    assert cmd[:3] == ["mpirun", "-n", "4"] and "--oversubscribe" in cmd
    assert "MXNEXT_JOB_TOKEN" in cmd and "MXNEXT_KV_LOCAL_SIZE" in cmd
    assert cmd[-2:] == ["python", "train.py"]


@pytest.mark.parametrize("servers", ["1", "3"])
def test_separate_server_counts_are_refused(servers, capsys):
    with pytest.raises(SystemExit) as e:
        launch.main(["-n", "2", "-s", servers, "true"])
    assert e.value.code == 2
    assert "no separate server processes" in capsys.readouterr().err
