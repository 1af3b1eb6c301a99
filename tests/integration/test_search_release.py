"""A small instance's web process lets go of the search index while nobody searches
(instance/embedded.py asks it to), and the next search opens it again."""

from __future__ import annotations

from tests.factories import make_post, member
from tests.integration.search_support import found_texts, fresh_index, indexed


async def test_an_idle_reader_closes_the_index_and_the_next_search_reopens_it(
    client, settings, backends
):
    await fresh_index(settings)
    alice, token = await member(settings, "alice")
    await make_post(alice, "quokka before")
    await indexed(settings)
    assert await found_texts(client, token, "quokka") == ["quokka before"]
    reader = backends.search

    # Just searched: kept open; idle long enough: closed, once
    assert not await reader.release_if_idle(60)
    assert await reader.release_if_idle(0)
    assert not await reader.release_if_idle(0)

    # Then the next search opens the index as it is now, changes made meanwhile included
    await make_post(alice, "quokka after")
    await indexed(settings)
    assert sorted(await found_texts(client, token, "quokka")) == ["quokka after", "quokka before"]
    assert await reader.release_if_idle(0)
