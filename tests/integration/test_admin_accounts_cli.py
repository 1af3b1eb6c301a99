"""``starling role NAME admin|moderator|user``: the operator's way to give and take roles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from models.accounts import Role, User
from tests.conftest import ROOT
from tests.factories import make_remote_account, make_user


async def starling(settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The command against this test's database (the rows a test writes are committed)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STARLING_")}
    env |= {
        "STARLING_DATABASE_URL": settings.database.url,
        "STARLING_REDIS_URL": settings.redis.url,
        "STARLING_STORAGE_DATA_DIR": str(settings.storage.data_dir),
        "STARLING_INSTANCE_DOMAIN": settings.instance.domain,
    }
    command = [sys.executable, "-m", "instance.cli", *args]
    return await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


async def test_role_makes_a_user_moderator_then_admin_then_user_again(settings, backends):
    user = await make_user(settings, "opal")

    for role in ("moderator", "ADMIN", "user"):
        result = await starling(settings, "role", "@opal", role)
        assert result.returncode == 0, result.stderr
        assert f"@opal is now {role.lower()}" in result.stdout
        assert (await User.get(id=user.id)).role is Role(role.lower())


async def test_role_refuses_an_unknown_user_in_one_line(settings, backends):
    await make_remote_account("rob", "one.example")  # remote accounts have no login

    for name in ("nobody", "rob@one.example"):
        result = await starling(settings, "role", name, "admin")
        assert result.returncode != 0
        assert result.stderr.strip().count("\n") == 0
        assert "no local user named" in result.stderr


async def test_role_refuses_an_unknown_role_in_one_line(settings, backends):
    user = await make_user(settings, "opal")

    result = await starling(settings, "role", "opal", "overlord")

    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "unknown role 'overlord'" in result.stderr
    assert (await User.get(id=user.id)).role is Role.USER
