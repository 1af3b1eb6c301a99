async def test_front_page_names_the_instance(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert "Starling Test" in await response.get_data(as_text=True)


async def test_unknown_api_path_is_json_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert (await response.get_json())["error"]


async def test_ready_reports_database_and_redis(client):
    response = await client.get("/ready")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
