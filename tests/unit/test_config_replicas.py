"""database.replica_urls: a TOML list, or a comma-separated / JSON list in the environment."""

from pathlib import Path

import pytest

from instance.config import ConfigError, load_settings

A = "postgres://reader@10.0.0.2:5432/starling"
B = "postgresql://reader@10.0.0.3/starling"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_replicas_by_default(tmp_path):
    database = load_settings(write(tmp_path, ""), env={}).database
    assert database.replica_urls == ()
    assert database.replica_max_lag_seconds == 5.0


def test_a_toml_list(tmp_path):
    path = write(tmp_path, f'[database]\nreplica_urls = ["{A}", "{B}"]\n')
    assert load_settings(path, env={}).database.replica_urls == (A, B)


@pytest.mark.parametrize("value", [f"{A}, {B}", f'["{A}", "{B}"]'])
def test_the_environment_as_a_comma_or_json_list(tmp_path, value):
    env = {
        "STARLING_DATABASE_REPLICA_URLS": value,
        "STARLING_DATABASE_REPLICA_MAX_LAG_SECONDS": "2",
    }
    database = load_settings(write(tmp_path, ""), env=env).database
    assert database.replica_urls == (A, B)
    assert database.replica_max_lag_seconds == 2.0


@pytest.mark.parametrize(
    ("value", "message"),
    [("redis://x", "is not a postgres:// URL"), ("[not json", "must be a JSON list")],
)
def test_bad_replica_urls_name_the_key(tmp_path, value, message):
    with pytest.raises(ConfigError, match=r"database\.replica_urls") as error:
        load_settings(write(tmp_path, ""), env={"STARLING_DATABASE_REPLICA_URLS": value})
    assert message in str(error.value)


def test_found_services_keep_the_replicas(tmp_path):
    path = write(tmp_path, f'[database]\nreplica_urls = ["{A}"]\n')
    settings = load_settings(path, env={}).with_urls("postgres://p/starling", "redis://r/0")
    assert settings.database.url == "postgres://p/starling"
    assert settings.database.replica_urls == (A,)
