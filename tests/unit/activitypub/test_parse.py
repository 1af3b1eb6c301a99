"""activitypub.parse against what real servers send: golden fixtures per peer, then one test per
liberal rule, then the refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from activitypub.errors import ParseError
from activitypub.parse import (
    POST_TYPES,
    ParsedEmoji,
    ParsedField,
    ParsedMention,
    audience,
    first_id,
    parse_activity,
    parse_actor,
    parse_collection_page,
    parse_note,
    visibility,
)
from activitypub.vocab import PUBLIC

FIXTURES = Path(__file__).parent / "fixtures"

ALICE = "https://mastodon.example/users/alice"
BOB = "https://starling.example/users/bob"
CAROL = "https://gts.example/users/carol"
DAVE = "https://misskey.example/users/9t3kq2xw1c"
ERIN = "https://pleroma.example/users/erin"
FRANK = "https://hollo.example/@frank"
ALICE_NOTE = f"{ALICE}/statuses/113456789012345678"
DROP = object()  # a value that removes the key from a document


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _doc(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    doc = dict(base)
    for key, value in changes.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def actor_doc(**changes: Any) -> dict[str, Any]:
    """The least an actor needs, with changes (DROP removes a key)."""
    base = {"id": ALICE, "type": "Person", "preferredUsername": "alice", "inbox": f"{ALICE}/inbox"}
    return _doc(base, changes)


def note_doc(**changes: Any) -> dict[str, Any]:
    base = {"id": ALICE_NOTE, "type": "Note", "attributedTo": ALICE, "content": "<p>hi</p>"}
    return _doc(base, changes)


def activity_doc(**changes: Any) -> dict[str, Any]:
    base = {"id": f"{ALICE}#likes/1", "type": "Like", "actor": ALICE, "object": ALICE_NOTE}
    return _doc(base, changes)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- golden fixtures: actors ------------------------------------------------------------------


def test_mastodon_person_is_parsed():
    actor = parse_actor(load("mastodon-person.json"))
    assert (actor.id, actor.type, actor.username) == (ALICE, "Person", "alice")
    assert actor.name == "Alice Liddell :verified:"
    assert actor.inbox == f"{ALICE}/inbox"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.featured == f"{ALICE}/collections/featured"
    assert actor.featured_tags == f"{ALICE}/collections/tags"
    assert [(k.id, k.owner) for k in actor.keys] == [(f"{ALICE}#main-key", ALICE)]
    assert actor.keys[0].pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert (actor.locked, actor.discoverable, actor.indexable, actor.bot) == (
        False,
        True,
        True,
        False,
    )
    assert actor.published == utc(2022, 11, 4)
    assert actor.also_known_as == ("https://old.example/users/alice",)
    assert actor.fields[1] == ParsedField(name="Pronouns", value="she/her")
    assert actor.emojis[0].name == "verified"
    assert actor.icon_url is not None
    assert actor.icon_url.endswith("3f1c2a.png")


def test_gotosocial_person_is_parsed():
    actor = parse_actor(load("gotosocial-person.json"))
    assert (actor.id, actor.username) == (CAROL, "carol")
    # GoToSocial publishes no shared inbox, and its key id is a path, not a fragment.
    assert actor.shared_inbox is None
    assert [(k.id, k.owner) for k in actor.keys] == [(f"{CAROL}/main-key", CAROL)]
    assert (actor.locked, actor.discoverable) == (True, False)
    assert actor.published == utc(2023, 7, 19, 15, 2, 11)
    assert [f.name for f in actor.fields] == ["should you follow me?", "age"]
    assert actor.also_known_as == ("https://old-gts.example/users/carol",)
    assert actor.url == "https://gts.example/@carol"


def test_misskey_person_is_parsed():
    actor = parse_actor(load("misskey-person.json"))
    assert (actor.id, actor.username, actor.type) == (DAVE, "dave", "Person")
    assert actor.shared_inbox == "https://misskey.example/inbox"
    assert actor.keys[0].id == f"{DAVE}#main-key"
    assert actor.keys[0].owner == DAVE
    # The rendered HTML, not _misskey_summary's MFM source.
    assert actor.summary == "<p><span>nya. I draw cats</span></p>"
    assert actor.image_url is None  # "image": null
    assert actor.emojis == (
        ParsedEmoji(
            name="blobcat",
            icon_url="https://misskey.example/files/7f2c9e1a-3b4d-4e5f-8a6b-0c1d2e3f4a5b",
        ),
    )
    assert actor.discoverable is True


def test_pleroma_person_is_parsed():
    actor = parse_actor(load("pleroma-person.json"))
    assert (actor.id, actor.username, actor.name) == (ERIN, "erin", "Erin")
    assert actor.shared_inbox == "https://pleroma.example/inbox"
    assert [(k.id, k.owner) for k in actor.keys] == [(f"{ERIN}#main-key", ERIN)]
    assert actor.fields == (ParsedField(name="matrix", value="@erin:matrix.example"),)
    assert actor.also_known_as == ()
    assert actor.published is None
    assert actor.indexable is None


def test_hollo_person_is_parsed():
    actor = parse_actor(load("hollo-person.json"))
    assert (actor.id, actor.username) == (FRANK, "frank")
    # Fedify types the endpoints object ("as:Endpoints") and collapses one-element arrays.
    assert actor.shared_inbox == "https://hollo.example/inbox"
    assert actor.fields[0].name == "Blog"
    assert actor.also_known_as == ("https://mastodon.example/users/frank",)
    assert [(k.id, k.owner) for k in actor.keys] == [(f"{FRANK}#main-key", FRANK)]
    assert [(k.id, k.controller) for k in actor.multikeys] == [
        (f"{FRANK}#main-key", FRANK),
        (f"{FRANK}#key-2", FRANK),
    ]
    assert actor.multikeys[1].multibase.startswith("z6Mk")
    assert (actor.discoverable, actor.indexable) == (True, False)
    assert actor.published == utc(2024, 7, 1, 9, 10, 11, 482000)


# --- golden fixtures: Create(Note) ------------------------------------------------------------


def test_mastodon_create_note_is_parsed():
    activity = parse_activity(load("mastodon-create-note.json"))
    assert (activity.id, activity.type, activity.actor) == (
        f"{ALICE_NOTE}/activity",
        "Create",
        ALICE,
    )
    assert activity.object_id == ALICE_NOTE
    assert activity.to == (PUBLIC,)
    assert activity.object is not None
    note = parse_note(activity.object)
    assert (note.id, note.attributed_to, note.language) == (ALICE_NOTE, ALICE, "en")
    assert note.content.startswith('<p><span class="h-card"')
    assert (note.summary, note.sensitive) == ("garden photos (spoilers for spring)", True)
    assert note.in_reply_to == "https://starling.example/users/bob/statuses/7234567890123456"
    assert note.mentions == (ParsedMention(href=BOB, name="@bob@starling.example"),)
    assert note.hashtags == ("Gardening",)
    assert [e.name for e in note.emojis] == ["blobcat"]
    assert note.url == "https://mastodon.example/@alice/113456789012345678"
    assert note.conversation is not None
    assert note.conversation.startswith("tag:mastodon.example")
    assert visibility(note.to, note.cc, f"{ALICE}/followers") == "public"


def test_gotosocial_create_note_is_parsed():
    activity = parse_activity(load("gotosocial-create-note.json"))
    assert activity.id == f"{CAROL}/statuses/01HX8Q2V7N3C5R0B9YJ4K6T1AZ/activity#Create"
    assert activity.to == (PUBLIC,)  # a bare string in GoToSocial's JSON
    assert activity.object is not None
    note = parse_note(activity.object)
    assert note.attributed_to == CAROL
    assert note.in_reply_to == ALICE_NOTE
    assert note.mentions == (ParsedMention(href=ALICE, name="@alice@mastodon.example"),)
    assert (note.summary, note.sensitive, note.language) == ("", False, "en")
    assert note.published == utc(2024, 5, 4, 10, 41, 7)  # sent as +02:00
    assert note.cc == (f"{CAROL}/followers", ALICE)


def test_misskey_create_note_is_parsed():
    activity = parse_activity(load("misskey-create-note.json"))
    assert (activity.actor, activity.object_id) == (
        DAVE,
        "https://misskey.example/notes/9t4a1b2c3d",
    )
    assert activity.object is not None
    note = parse_note(activity.object)
    # Misskey embeds a local parent note in inReplyTo.
    assert note.in_reply_to == "https://misskey.example/notes/9t49zzz001"
    assert note.content.startswith("<p><a href=")  # HTML, not _misskey_content's MFM
    assert note.language is None
    assert (note.summary, note.sensitive) == ("cat drawing, eye contact", True)
    assert note.mentions[0].href == ALICE
    assert note.hashtags == ("art",)
    assert note.emojis[0].name == "blobcat"
    assert note.published == utc(2024, 5, 4, 9, 15, 42, 123000)
    assert len(note.attachments) == 1


def test_pleroma_create_note_is_parsed():
    activity = parse_activity(load("pleroma-create-note.json"))
    assert activity.actor == ERIN
    assert activity.to == (PUBLIC, ALICE)
    assert activity.published == utc(2024, 5, 4, 11, 2, 33, 481299)
    assert activity.object is not None
    note = parse_note(activity.object)
    assert note.id == "https://pleroma.example/objects/3c1d5e7f-9a0b-4c2d-8e4f-6a8b0c2d4e6f"
    assert note.in_reply_to == ALICE_NOTE
    assert (
        note.conversation == "https://pleroma.example/contexts/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    )
    assert note.mentions == (ParsedMention(href=ALICE, name="@alice@mastodon.example"),)
    assert note.hashtags == ("elixir",)
    assert note.emojis == (
        ParsedEmoji(name="tea", icon_url="https://pleroma.example/emoji/custom/tea.png"),
    )
    assert note.published == utc(2024, 5, 4, 11, 2, 33, 481516)


def test_hollo_create_note_is_parsed():
    activity = parse_activity(load("hollo-create-note.json"))
    assert activity.id == f"{FRANK}/0190f5b6-1c2d-7e3f-8a9b-0c1d2e3f4a5b#create"
    assert activity.to == (PUBLIC,)  # Fedify compacts it to "as:Public"
    assert activity.object is not None
    note = parse_note(activity.object)
    assert note.to == (PUBLIC,)
    assert note.cc == (f"{FRANK}/followers", ALICE)
    assert note.language == "en"
    assert note.mentions[0].href == ALICE
    assert note.hashtags == ("Fedify",)
    assert note.published == utc(2024, 7, 20, 18, 3, 11, 270000)


# --- golden fixtures: other activities --------------------------------------------------------


def test_mastodon_announce_is_parsed():
    activity = parse_activity(load("mastodon-announce.json"))
    assert (activity.type, activity.actor) == ("Announce", ALICE)
    assert activity.object_id == f"{CAROL}/statuses/01HX8Q2V7N3C5R0B9YJ4K6T1AZ"
    assert activity.object is None
    assert activity.to == (PUBLIC,)
    assert activity.cc == (CAROL, f"{ALICE}/followers")


def test_misskey_like_carries_its_reaction():
    activity = parse_activity(load("misskey-like.json"))
    assert (activity.id, activity.type, activity.actor) == (
        "https://misskey.example/likes/9t4b5c6d7e",
        "Like",
        DAVE,
    )
    assert activity.object_id == ALICE_NOTE
    assert activity.reaction == ":blobcat:"


def test_gotosocial_follow_is_parsed():
    activity = parse_activity(load("gotosocial-follow.json"))
    assert (activity.type, activity.actor, activity.object_id) == ("Follow", CAROL, BOB)
    assert activity.id == f"{CAROL}/follow/01HX9A0D4E6F8G0H2J4K6M8N0P"
    assert activity.to == (BOB,)


def test_mastodon_accept_embeds_the_follow():
    activity = parse_activity(load("mastodon-accept-follow.json"))
    assert (activity.type, activity.actor) == ("Accept", ALICE)
    assert activity.object_id == "https://starling.example/follows/7234567890999999"
    assert activity.object is not None
    assert parse_activity(activity.object).actor == BOB


def test_pleroma_accept_names_the_follow_by_id():
    activity = parse_activity(load("pleroma-accept-follow.json"))
    assert (activity.type, activity.actor) == ("Accept", ERIN)
    assert activity.object_id == "https://starling.example/follows/7234567891000001"
    assert activity.object is None


def test_mastodon_undo_embeds_the_undone_follow():
    activity = parse_activity(load("mastodon-undo-follow.json"))
    assert activity.type == "Undo"
    assert activity.object_id == "https://mastodon.example/a3b9d2f0-6c41-4e7b-9f8a-2d5c1e0b7a64"
    assert activity.object is not None
    undone = parse_activity(activity.object)
    assert (undone.type, undone.actor, undone.object_id) == ("Follow", ALICE, BOB)


def test_mastodon_delete_of_a_note_carries_a_tombstone():
    activity = parse_activity(load("mastodon-delete-note.json"))
    assert (activity.type, activity.object_id) == ("Delete", ALICE_NOTE)
    assert activity.object is not None
    assert activity.object["type"] == "Tombstone"


def test_mastodon_delete_of_an_actor_names_the_actor_as_object():
    activity = parse_activity(load("mastodon-delete-actor.json"))
    assert activity.type == "Delete"
    assert activity.object_id == activity.actor == ALICE
    assert activity.object is None


def test_gotosocial_delete_without_an_id_is_accepted():
    activity = parse_activity(load("gotosocial-delete-note.json"))
    assert activity.id is None
    assert activity.object_id == f"{CAROL}/statuses/01HX8Q2V7N3C5R0B9YJ4K6T1AZ"


def test_mastodon_update_person_embeds_a_parseable_actor():
    activity = parse_activity(load("mastodon-update-person.json"))
    assert (activity.type, activity.object_id) == ("Update", ALICE)
    assert activity.object is not None
    assert parse_actor(activity.object).name == "Alice (in the garden)"


def test_mastodon_move_names_the_old_and_new_accounts():
    activity = parse_activity(load("mastodon-move.json"))
    assert (activity.type, activity.actor, activity.object_id) == ("Move", ALICE, ALICE)
    assert activity.target == "https://new.example/users/alice"


def test_activity_keeps_the_raw_document():
    data = load("mastodon-announce.json")
    assert parse_activity(data).raw == data


# --- collections ------------------------------------------------------------------------------


def test_collection_with_embedded_first_page_gives_its_items_and_next():
    items, next_page = parse_collection_page(load("pleroma-followers.json"))
    assert items == [ALICE, CAROL]
    assert next_page == f"{ERIN}/followers?page=2"


def test_collection_with_first_page_as_id_gives_that_id_as_next():
    items, next_page = parse_collection_page(load("gotosocial-outbox.json"))
    assert items == []
    assert next_page == f"{CAROL}/outbox?page=true"


def test_collection_page_gives_its_items_and_next():
    items, next_page = parse_collection_page(load("gotosocial-following-page.json"))
    assert items == [ALICE, BOB]
    assert next_page == f"{CAROL}/following?limit=40&max_id=01HX6P0M2K4J6H8G0F2E4D6C8B"


def test_collection_page_items_may_be_unordered():
    page = {"type": "CollectionPage", "items": [{"id": ALICE_NOTE, "type": "Note"}]}
    assert parse_collection_page(page) == ([{"id": ALICE_NOTE, "type": "Note"}], None)


def test_last_collection_page_has_no_next():
    assert parse_collection_page({"type": "OrderedCollectionPage", "orderedItems": [ALICE]}) == (
        [ALICE],
        None,
    )


# --- liberal rules: @context, addressing --------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        "https://www.w3.org/ns/activitystreams",
        ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        ["https://www.w3.org/ns/activitystreams", {"sensitive": "as:sensitive", "toot": "x:"}],
    ],
)
def test_context_as_string_array_or_array_with_terms_is_accepted(context: object):
    assert parse_note(note_doc(**{"@context": context})).id == ALICE_NOTE


def test_missing_context_is_accepted():
    assert parse_note(note_doc()).id == ALICE_NOTE


def test_to_and_cc_as_strings_are_read_as_one_address():
    note = parse_note(note_doc(to=PUBLIC, cc=f"{ALICE}/followers"))
    assert (note.to, note.cc) == ((PUBLIC,), (f"{ALICE}/followers",))


def test_to_and_cc_as_arrays_keep_their_order():
    note = parse_note(note_doc(to=[BOB, PUBLIC], cc=[CAROL, f"{ALICE}/followers"]))
    assert (note.to, note.cc) == ((BOB, PUBLIC), (CAROL, f"{ALICE}/followers"))


def test_absent_to_and_cc_are_empty():
    note = parse_note(note_doc())
    assert (note.to, note.cc) == ((), ())


def test_bto_bcc_and_audience_are_read_like_to():
    activity = parse_activity(activity_doc(bto=BOB, bcc=[CAROL], audience="as:Public"))
    assert (activity.bto, activity.bcc, activity.audience) == ((BOB,), (CAROL,), (PUBLIC,))


@pytest.mark.parametrize("public", [PUBLIC, "as:Public", "Public"])
def test_public_collection_short_forms_are_normalised(public: str):
    assert parse_note(note_doc(to=[public], cc=public)).to == (PUBLIC,)


def test_audience_drops_repeats_after_normalising():
    assert audience(["as:Public", PUBLIC, BOB, BOB]) == (PUBLIC, BOB)


def test_audience_reads_embedded_collections_by_id():
    assert audience([{"id": f"{ALICE}/followers", "type": "OrderedCollection"}]) == (
        f"{ALICE}/followers",
    )


def test_audience_skips_unusable_entries():
    assert audience([None, 3, "", {}, BOB]) == (BOB,)


# --- liberal rules: references ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ALICE,
        {"id": ALICE, "type": "Person"},
        [ALICE, BOB],
        [{"type": "Link"}, {"id": ALICE}, BOB],
        [None, "", ALICE],
    ],
)
def test_first_id_reads_a_string_an_object_or_an_array(value: object):
    assert first_id(value) == ALICE


@pytest.mark.parametrize("value", [None, "", {}, {"id": 3}, [], [None, {}], 42, [[ALICE]]])
def test_first_id_of_unusable_values_is_none(value: object):
    assert first_id(value) is None


def test_actor_as_embedded_object_gives_its_id():
    activity = parse_activity(activity_doc(actor={"id": ALICE, "type": "Person"}))
    assert activity.actor == ALICE


def test_actor_as_array_gives_the_first_usable_entry():
    assert parse_activity(activity_doc(actor=[{"type": "Person"}, ALICE])).actor == ALICE


def test_object_as_id_has_no_embedded_object():
    activity = parse_activity(activity_doc())
    assert (activity.object_id, activity.object) == (ALICE_NOTE, None)


def test_embedded_object_is_kept_with_its_id():
    embedded = {"id": ALICE_NOTE, "type": "Note"}
    activity = parse_activity(activity_doc(object=embedded))
    assert (activity.object_id, activity.object) == (ALICE_NOTE, embedded)


def test_embedded_object_without_id_is_kept_without_object_id():
    activity = parse_activity(activity_doc(type="Create", object={"type": "Note"}))
    assert (activity.object_id, activity.object) == (None, {"type": "Note"})


def test_object_as_array_gives_its_first_entry():
    activity = parse_activity(activity_doc(type="Flag", object=[ALICE, ALICE_NOTE]))
    assert activity.object_id == ALICE


def test_relay_follow_of_the_public_collection_names_it_in_full():
    activity = parse_activity(activity_doc(type="Follow", object="as:Public"))
    assert activity.object_id == PUBLIC


def test_attributed_to_as_embedded_object_gives_its_id():
    assert parse_note(note_doc(attributedTo={"id": BOB, "type": "Person"})).attributed_to == BOB


def test_attributed_to_array_prefers_the_actor_typed_entry():
    # PeerTube-style: a Link-ish entry first, then the account and its channel.
    value = [{"id": "https://video.example/about", "type": "Link"}, {"id": BOB, "type": "Person"}]
    assert parse_note(note_doc(attributedTo=value)).attributed_to == BOB


def test_attributed_to_array_of_ids_gives_the_first():
    assert parse_note(note_doc(attributedTo=[BOB, CAROL])).attributed_to == BOB


def test_in_reply_to_as_embedded_object_gives_its_id():
    parent = {"id": f"{ERIN}/objects/1", "type": "Note", "content": "parent"}
    assert parse_note(note_doc(inReplyTo=parent)).in_reply_to == f"{ERIN}/objects/1"


def test_in_reply_to_as_array_gives_the_first_id():
    assert parse_note(note_doc(inReplyTo=[f"{ERIN}/objects/1"])).in_reply_to == f"{ERIN}/objects/1"


def test_in_reply_to_null_is_none():
    assert parse_note(note_doc(inReplyTo=None)).in_reply_to is None


# --- liberal rules: keys ------------------------------------------------------------------------


def _key(key_id: str, owner: str | None = ALICE, pem: str | None = "PEM") -> dict[str, Any]:
    key: dict[str, Any] = {"id": key_id}
    if owner is not None:
        key["owner"] = owner
    if pem is not None:
        key["publicKeyPem"] = pem
    return key


def test_public_key_as_an_object_gives_one_key():
    actor = parse_actor(actor_doc(publicKey=_key(f"{ALICE}#main-key")))
    assert [(k.id, k.owner, k.pem) for k in actor.keys] == [(f"{ALICE}#main-key", ALICE, "PEM")]


def test_public_key_as_an_array_gives_every_key():
    keys = [_key(f"{ALICE}#main-key"), _key(f"{ALICE}#key-2")]
    actor = parse_actor(actor_doc(publicKey=keys))
    assert [k.id for k in actor.keys] == [f"{ALICE}#main-key", f"{ALICE}#key-2"]


def test_public_key_without_owner_belongs_to_the_actor():
    actor = parse_actor(actor_doc(publicKey=_key(f"{ALICE}#main-key", owner=None)))
    assert actor.keys[0].owner == ALICE


def test_public_key_entries_without_a_pem_are_skipped():
    keys = [f"{ALICE}#main-key", _key(f"{ALICE}#key-2", pem=None), _key(f"{ALICE}#key-3")]
    assert [k.id for k in parse_actor(actor_doc(publicKey=keys)).keys] == [f"{ALICE}#key-3"]


def test_actor_without_public_key_has_no_keys():
    assert parse_actor(actor_doc()).keys == ()


def test_assertion_method_as_a_single_object_gives_one_multikey():
    multikey = {
        "id": f"{ALICE}#ed25519-key",
        "type": "Multikey",
        "controller": ALICE,
        "publicKeyMultibase": "z6MkekwC6R9bj9ErToB7AiZJfyCSDhaZe1UxhDbCqJrhqpS5",
    }
    actor = parse_actor(actor_doc(assertionMethod=multikey))
    assert [(k.id, k.controller, k.multibase) for k in actor.multikeys] == [
        (f"{ALICE}#ed25519-key", ALICE, "z6MkekwC6R9bj9ErToB7AiZJfyCSDhaZe1UxhDbCqJrhqpS5"),
    ]


def test_assertion_method_entries_that_are_not_multikeys_are_skipped():
    entries = [
        f"{ALICE}#key-ref",
        {"id": f"{ALICE}#jwk", "type": "JsonWebKey", "controller": ALICE},
        {"id": f"{ALICE}#mk", "type": "Multikey", "publicKeyMultibase": "z6Mkx"},
    ]
    actor = parse_actor(actor_doc(assertionMethod=entries))
    assert [(k.id, k.controller) for k in actor.multikeys] == [(f"{ALICE}#mk", ALICE)]


# --- liberal rules: content, language, dates ------------------------------------------------


def test_content_map_only_gives_its_first_value_and_language():
    note = parse_note(note_doc(content=DROP, contentMap={"de": "<p>Hallo</p>", "en": "<p>Hi</p>"}))
    assert (note.content, note.language) == ("<p>Hallo</p>", "de")


def test_language_is_the_content_map_key_whose_value_is_the_content():
    note = parse_note(note_doc(contentMap={"de": "<p>Hallo</p>", "en": "<p>hi</p>"}))
    assert note.language == "en"


def test_language_falls_back_to_the_first_content_map_key():
    note = parse_note(note_doc(contentMap={"fr": "<p>salut</p>", "es": "<p>hola</p>"}))
    assert (note.content, note.language) == ("<p>hi</p>", "fr")


def test_content_without_content_map_has_no_language():
    assert parse_note(note_doc()).language is None


def test_undetermined_language_is_none():
    assert parse_note(note_doc(contentMap={"und": "<p>hi</p>"})).language is None


def test_missing_content_is_empty():
    assert parse_note(note_doc(content=DROP)).content == ""


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-04T10:20:30Z", utc(2024, 5, 4, 10, 20, 30)),
        ("2024-05-04T10:20:30.123Z", utc(2024, 5, 4, 10, 20, 30, 123000)),
        ("2024-05-04T10:20:30.481516Z", utc(2024, 5, 4, 10, 20, 30, 481516)),
        ("2024-05-04T10:20:30.123456789Z", utc(2024, 5, 4, 10, 20, 30, 123456)),
    ],
)
def test_published_with_or_without_fractions_is_parsed(stamp: str, expected: datetime):
    assert parse_note(note_doc(published=stamp)).published == expected


def test_published_with_an_offset_is_converted_to_utc():
    published = parse_note(note_doc(published="2021-10-20T12:40:37+02:00")).published
    assert published == utc(2021, 10, 20, 10, 40, 37)
    assert published is not None
    assert published.tzinfo is UTC


def test_published_without_a_zone_is_read_as_utc():
    assert parse_note(note_doc(published="2024-05-04T10:20:30")).published == utc(
        2024, 5, 4, 10, 20, 30
    )


@pytest.mark.parametrize(
    "stamp",
    ["yesterday", "", "2024-13-45T00:00:00Z", 1714816800, None, "0001-01-01T00:00:00+01:00"],
)
def test_unparseable_published_is_none(stamp: object):
    assert parse_note(note_doc(published=stamp)).published is None


def test_updated_is_parsed_like_published():
    assert parse_note(note_doc(updated="2024-05-04T11:00:00Z")).updated == utc(2024, 5, 4, 11)


@pytest.mark.parametrize("summary", [None, DROP, ""])
def test_null_absent_or_empty_summary_is_empty(summary: object):
    assert parse_note(note_doc(summary=summary)).summary == ""


def test_sensitive_absent_is_false():
    assert parse_note(note_doc()).sensitive is False


def test_sensitive_null_is_false():
    assert parse_note(note_doc(sensitive=None)).sensitive is False


# --- liberal rules: tags ------------------------------------------------------------------------


def test_tag_as_a_single_object_is_read():
    note = parse_note(
        note_doc(tag={"type": "Hashtag", "name": "#solo", "href": "https://x.example"})
    )
    assert note.hashtags == ("solo",)


@pytest.mark.parametrize("name", ["#Gardening", "Gardening"])
def test_hashtag_names_lose_a_leading_hash_and_keep_their_case(name: str):
    assert parse_note(note_doc(tag=[{"type": "Hashtag", "name": name}])).hashtags == ("Gardening",)


@pytest.mark.parametrize("name", ["@bob@starling.example", "@bob"])
def test_mention_names_are_kept_as_given(name: str):
    note = parse_note(note_doc(tag=[{"type": "Mention", "href": BOB, "name": name}]))
    assert note.mentions == (ParsedMention(href=BOB, name=name),)


def test_mentions_without_an_http_href_are_skipped():
    tags = [{"type": "Mention", "name": "@nobody"}, {"type": "Mention", "href": "acct:bob@x"}]
    assert parse_note(note_doc(tag=tags)).mentions == ()


def test_emoji_names_lose_their_colons():
    tag = {
        "type": "Emoji",
        "name": ":blobcat:",
        "icon": {"type": "Image", "url": "https://e.example/b.png"},
    }
    assert parse_note(note_doc(tag=[tag])).emojis == (
        ParsedEmoji(name="blobcat", icon_url="https://e.example/b.png"),
    )


def test_emoji_without_icon_has_no_icon_url():
    assert parse_note(note_doc(tag={"type": "Emoji", "name": ":x:"})).emojis[0].icon_url is None


def test_unknown_tag_types_are_ignored():
    tags = [{"type": "Link", "href": "https://x.example"}, "https://x.example/tag", {"name": "#x"}]
    note = parse_note(note_doc(tag=tags))
    assert (note.mentions, note.hashtags, note.emojis) == ((), (), ())


def test_prefixed_tag_types_are_read():
    assert parse_note(note_doc(tag=[{"type": "as:Hashtag", "name": "#x"}])).hashtags == ("x",)


# --- liberal rules: url, icon, image ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.example/@alice/1",
        {"type": "Link", "href": "https://mastodon.example/@alice/1", "mediaType": "text/html"},
        [
            {"type": "Link", "href": "https://video.example/file.mp4", "mediaType": "video/mp4"},
            {"type": "Link", "href": "https://mastodon.example/@alice/1", "mediaType": "text/html"},
        ],
        ["https://mastodon.example/@alice/1", "https://mastodon.example/alt"],
    ],
)
def test_url_as_a_string_a_link_or_an_array_prefers_html(url: object):
    assert parse_note(note_doc(url=url)).url == "https://mastodon.example/@alice/1"


def test_url_that_is_not_http_is_dropped():
    assert parse_note(note_doc(url="javascript:alert(1)")).url is None


@pytest.mark.parametrize(
    "icon",
    [
        {"type": "Image", "url": "https://cdn.example/a.png"},
        {"type": "Image", "url": {"type": "Link", "href": "https://cdn.example/a.png"}},
        [
            {"type": "Image", "mediaType": "image/png"},
            {"type": "Image", "url": "https://cdn.example/a.png"},
        ],
        "https://cdn.example/a.png",
    ],
)
def test_icon_as_an_object_a_link_or_an_array_gives_its_url(icon: object):
    assert parse_actor(actor_doc(icon=icon)).icon_url == "https://cdn.example/a.png"


@pytest.mark.parametrize("image", [DROP, None, [], {"type": "Image"}])
def test_absent_or_empty_image_is_none(image: object):
    assert parse_actor(actor_doc(image=image)).image_url is None


# --- liberal rules: actor properties --------------------------------------------------------------


def test_manually_approves_followers_absent_is_not_locked():
    assert parse_actor(actor_doc()).locked is False


def test_discoverable_absent_is_false():
    assert parse_actor(actor_doc()).discoverable is False


def test_indexable_absent_is_unknown():
    assert parse_actor(actor_doc()).indexable is None


def test_shared_inbox_absent_is_none():
    assert parse_actor(actor_doc(endpoints={})).shared_inbox is None


@pytest.mark.parametrize("kind", ["Service", "Application"])
def test_service_and_application_actors_are_bots(kind: str):
    assert parse_actor(actor_doc(type=kind)).bot is True


@pytest.mark.parametrize("kind", ["Person", "Group", "Organization"])
def test_other_actor_types_are_not_bots(kind: str):
    actor = parse_actor(actor_doc(type=kind))
    assert (actor.type, actor.bot) == (kind, False)


@pytest.mark.parametrize(
    "value", ["https://old.example/users/alice", ["https://old.example/users/alice"]]
)
def test_also_known_as_as_a_string_or_an_array(value: object):
    actor = parse_actor(actor_doc(alsoKnownAs=value))
    assert actor.also_known_as == ("https://old.example/users/alice",)


def test_moved_to_is_read():
    actor = parse_actor(actor_doc(movedTo="https://new.example/users/alice"))
    assert actor.moved_to == "https://new.example/users/alice"


def test_profile_fields_come_from_property_values_only():
    attachment = [
        {"type": "PropertyValue", "name": "Site", "value": "<a href='https://a.example'>a</a>"},
        {"type": "IdentityProof", "name": "alice", "signatureValue": "abc"},
        {"type": "Image", "url": "https://cdn.example/x.png"},
    ]
    actor = parse_actor(actor_doc(attachment=attachment))
    assert actor.fields == (ParsedField(name="Site", value="<a href='https://a.example'>a</a>"),)


def test_null_name_is_empty():
    assert parse_actor(actor_doc(name=None)).name == ""


def test_misskey_extension_fields_are_accepted_and_ignored():
    actor = parse_actor(
        actor_doc(isCat=True, _misskey_summary="mfm", speakAsCat=True, **{"vcard:bday": None})
    )
    assert actor.summary == ""


# --- liberal rules: posts ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(POST_TYPES))
def test_every_post_type_is_accepted(kind: str):
    assert parse_note(note_doc(type=kind)).type == kind


def test_article_name_is_kept_as_its_title():
    assert parse_note(note_doc(type="Article", name="On roses")).name == "On roses"


def test_type_as_an_array_picks_the_known_type():
    assert parse_note(note_doc(type=["Object", "Note"])).type == "Note"


def test_misskey_source_and_mfm_content_are_ignored():
    note = parse_note(
        note_doc(
            _misskey_content="**hi**",
            source={"content": "**hi**", "mediaType": "text/x.misskeymarkdown"},
        )
    )
    assert note.content == "<p>hi</p>"


def test_attachments_are_kept_raw():
    image = {"type": "Document", "mediaType": "image/png", "url": "https://cdn.example/p.png"}
    assert parse_note(note_doc(attachment=image)).attachments == (image,)


def test_reaction_comes_from_an_emoji_react_content():
    activity = parse_activity(activity_doc(type="EmojiReact", content="🧡"))
    assert activity.reaction == "🧡"


def test_activities_other_than_reactions_have_no_reaction():
    assert parse_activity(activity_doc(type="Announce", content="x")).reaction is None


# --- visibility ------------------------------------------------------------------------------


FOLLOWERS = f"{ALICE}/followers"


def test_visibility_is_public_when_public_is_in_to():
    assert visibility((PUBLIC,), (FOLLOWERS,), FOLLOWERS) == "public"


def test_visibility_is_unlisted_when_public_is_in_cc_only():
    assert visibility((FOLLOWERS,), (PUBLIC,), FOLLOWERS) == "unlisted"


def test_visibility_is_followers_when_the_followers_collection_is_in_to():
    assert visibility((FOLLOWERS,), (BOB,), FOLLOWERS) == "followers"


def test_visibility_is_followers_when_the_followers_collection_is_in_cc():
    assert visibility((BOB,), (FOLLOWERS,), FOLLOWERS) == "followers"


def test_visibility_is_direct_when_only_actors_are_addressed():
    assert visibility((BOB,), (CAROL,), FOLLOWERS) == "direct"


def test_visibility_is_direct_when_the_followers_uri_is_unknown():
    assert visibility((FOLLOWERS,), (), None) == "direct"


@pytest.mark.parametrize("public", ["as:Public", "Public"])
def test_visibility_reads_public_short_forms(public: str):
    assert visibility((public,), (), None) == "public"


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("parse", [parse_actor, parse_note, parse_activity, parse_collection_page])
@pytest.mark.parametrize("data", [None, "text", 3, ["list"], b"{}"])
def test_documents_that_are_not_json_objects_are_refused(parse: Any, data: object):
    with pytest.raises(ParseError, match="not a JSON object"):
        parse(data)


def test_actor_without_id_is_refused():
    with pytest.raises(ParseError, match="'id'"):
        parse_actor(actor_doc(id=DROP))


def test_note_without_id_is_refused():
    with pytest.raises(ParseError, match="'id'"):
        parse_note(note_doc(id=DROP))


@pytest.mark.parametrize(
    ("parse", "doc"),
    [
        (parse_actor, actor_doc(type=DROP)),
        (parse_note, note_doc(type=DROP)),
        (parse_activity, activity_doc(type=DROP)),
        (parse_note, note_doc(type=[])),
    ],
)
def test_documents_without_type_are_refused(parse: Any, doc: dict[str, Any]):
    with pytest.raises(ParseError, match="'type'"):
        parse(doc)


def test_actor_without_inbox_is_refused():
    with pytest.raises(ParseError, match="'inbox'"):
        parse_actor(actor_doc(inbox=DROP))


def test_actor_without_preferred_username_is_refused():
    with pytest.raises(ParseError, match="'preferredUsername'"):
        parse_actor(actor_doc(preferredUsername=DROP))


def test_note_without_attributed_to_is_refused():
    with pytest.raises(ParseError, match="'attributedTo'"):
        parse_note(note_doc(attributedTo=DROP))


def test_activity_without_actor_is_refused():
    with pytest.raises(ParseError, match="'actor'"):
        parse_activity(activity_doc(actor=DROP))


def test_actor_of_a_type_that_is_not_an_actor_is_refused():
    with pytest.raises(ParseError, match="'type'"):
        parse_actor(actor_doc(type="Tombstone"))


def test_note_of_a_type_that_is_not_a_post_is_refused():
    with pytest.raises(ParseError, match="'type'"):
        parse_note(note_doc(type="Tombstone"))


@pytest.mark.parametrize(
    ("parse", "doc", "field"),
    [
        (parse_actor, actor_doc(id="acct:alice@mastodon.example"), "'id'"),
        (parse_actor, actor_doc(inbox="/users/alice/inbox"), "'inbox'"),
        (parse_note, note_doc(id="urn:uuid:0b1c2d3e"), "'id'"),
        (parse_note, note_doc(attributedTo="ftp://mastodon.example/alice"), "'attributedTo'"),
        (parse_activity, activity_doc(id="tag:mastodon.example,2024:1"), "'id'"),
        (parse_activity, activity_doc(id=17), "'id'"),
        (parse_activity, activity_doc(actor="did:key:z6Mkx"), "'actor'"),
        (parse_activity, activity_doc(object="https://"), "'object'"),
    ],
)
def test_ids_that_are_not_absolute_http_urls_are_refused(
    parse: Any, doc: dict[str, Any], field: str
):
    with pytest.raises(ParseError, match=field):
        parse(doc)
