from datetime import UTC, datetime

from models.ids import id_from_datetime, id_millis, next_id


def test_ids_from_one_process_strictly_increase():
    ids = [next_id() for _ in range(10_000)]
    assert ids == sorted(set(ids))


def test_id_sorts_by_creation_time_and_fits_in_a_signed_bigint():
    moment = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    earlier = id_from_datetime(moment)
    later = id_from_datetime(moment.replace(minute=1))
    assert earlier < later < 2**63
    assert id_millis(earlier) == int(moment.timestamp() * 1000)


def test_millisecond_part_is_exact_as_a_double():
    snowflake = next_id()
    assert float(id_millis(snowflake)) == id_millis(snowflake)
