from pathlib import Path

import pytest

from instance.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_apply_when_the_file_is_empty(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    assert settings.instance.https is True
    assert settings.server.port == 8000
    assert settings.timeline.fanout_max_followers == 1000
    assert settings.federation.allow_http is False
    assert settings.federation.allowed_private_networks == ()


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[server]\nport = 8000\n[instance]\ndomain = "a.example"\n')
    settings = load_settings(
        path,
        env={
            "STARLING_SERVER_PORT": "9001",
            "STARLING_INSTANCE_DOMAIN": "b.example:8443",
            "STARLING_INSTANCE_HTTPS": "false",
            "STARLING_DATABASE_URL": "postgres://u@db.example/starling",
            "STARLING_FEDERATION_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
        },
    )
    assert settings.server.port == 9001
    assert settings.instance.domain == "b.example:8443"
    assert settings.base_url == "http://b.example:8443"
    assert settings.database.url == "postgres://u@db.example/starling"
    assert settings.federation.allowed_private_networks == ("127.0.0.0/8", "::1/128")


def test_starling_config_points_at_another_file(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('[instance]\nname = "Elsewhere"\n')
    settings = load_settings(env={"STARLING_CONFIG": str(other)})
    assert settings.instance.name == "Elsewhere"


def test_missing_file_named_by_starling_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(env={"STARLING_CONFIG": str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"STARLING_SERVER_PORT": "eighty"}, "server.port (STARLING_SERVER_PORT)"),
        ({"STARLING_SERVER_PORT": "70000"}, "server.port"),
        ({"STARLING_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"STARLING_INSTANCE_DOMAIN": "bad domain"}, "instance.domain"),
        ({"STARLING_FEDERATION_ALLOWED_PRIVATE_NETWORKS": "nonsense"}, "allowed_private_networks"),
        ({"STARLING_SERVER_COLOUR": "blue"}, "server.colour"),
        ({"STARLING_NOPE_KEY": "1"}, "STARLING_NOPE_KEY"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_key(tmp_path, env, named):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, ""), env=env)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[server\n"), env={})


def test_settings_are_frozen(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    with pytest.raises(ValueError, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]


def test_the_cache_redis_defaults_to_the_queues_and_may_be_a_cluster(tmp_path):
    one = load_settings(write(tmp_path, '[redis]\nurl = "redis://q.example/0"\n'), env={})
    assert one.redis.cache == "redis://q.example/0"
    assert one.redis.cache_cluster is False
    split = load_settings(
        write(tmp_path, ""),
        env={
            "STARLING_REDIS_URL": "redis://q.example/0",
            "STARLING_REDIS_CACHE_URL": "redis://c1.example:7000",
            "STARLING_REDIS_CACHE_CLUSTER": "true",
        },
    )
    assert (split.redis.url, split.redis.cache) == (
        "redis://q.example/0",
        "redis://c1.example:7000",
    )
    assert split.with_urls("postgres://u@db/s", "redis://other/0").redis.cache_cluster is True
    with pytest.raises(ConfigError, match="cache_cluster needs"):
        load_settings(
            write(tmp_path, ""),
            env={"STARLING_REDIS_CACHE_URL": "unix:///r.sock", "STARLING_REDIS_CACHE_CLUSTER": "1"},
        )
