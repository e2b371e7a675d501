"""Marketing staff draw heat maps and pin maps of a selection of clients."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from kit.events.contracts.booking import PostalAddress
from kit.testing import build_app, running
from maps.geocoding.address import normalise
from maps.geocoding.providers import ZipCentroids


async def centroid(postal_code: str) -> tuple[float, float]:
    located = await ZipCentroids().locate(
        normalise(PostalAddress(postal_code=postal_code), default_country="US")
    )
    assert located is not None
    return round(located.latitude, 4), round(located.longitude, 4)


def rounded(points: list[list[float]]) -> Counter[tuple[float, float]]:
    return Counter((round(p[0], 4), round(p[1], 4)) for p in points)


async def test_a_heat_map_of_1000_never_seen_clients_counts_1001_and_the_same_map_again_counts_1(
    maps: Any,
) -> None:
    ids = await maps.add_clients(1000)
    body = {"selection": {"client_ids": ids}, "title": "Seniors"}

    first = await maps.drawn("heat", body)
    assert first["usage"] == {"location_lookups": 1000, "map_lookups": 1}
    assert await maps.usage_this_month() == {"location_lookups": 1000, "map_lookups": 1}
    assert (first["clients_selected"], first["clients_shown"], first["points"]) == (
        1000,
        1000,
        1000,
    )
    assert first["omitted"] == []

    page = await maps.page(first)
    points = maps.heat_points(page)
    # Each client is a point at its ZIP's centroid: as many points per ZIP as clients there.
    expected: Counter[tuple[float, float]] = Counter()
    for i in range(1000):
        expected[await centroid(maps.zips[i % len(maps.zips)])] += 1
    assert rounded(points) == expected
    assert "GeoNames (CC BY 4.0)" in page
    features = await maps.features(first)
    assert len(features) == 1000
    assert rounded([f["geometry"]["coordinates"][::-1] for f in features]) == expected

    again = await maps.drawn("heat", body)
    assert again["usage"] == {"location_lookups": 0, "map_lookups": 1}
    assert await maps.usage_this_month() == {"location_lookups": 1000, "map_lookups": 2}
    assert len(maps.heat_points(await maps.page(again))) == 1000


async def test_clients_without_a_usable_address_are_left_off_the_map_and_listed_with_the_reason(
    maps: Any,
) -> None:
    await maps.add_client("placed", street="5 Oak Ave", postal_code="14623")
    await maps.add_client("no-address", address=False)
    await maps.add_client("blank", street="  ", postal_code="", city=None)
    await maps.add_client("nowhere", street="1 Nowhere Rd", postal_code="00000")
    await maps.add_client("abroad", street="10 Downing St", postal_code="SW1A 2AA", country="UK")
    ids = ["placed", "no-address", "blank", "nowhere", "abroad", "never-heard-of"]

    summary = await maps.drawn("heat", {"selection": {"client_ids": ids}})
    reasons = {o["client_id"]: o["reason"] for o in summary["omitted"]}
    assert reasons == {
        "no-address": "blank_address",
        "blank": "blank_address",
        "nowhere": "not_found",
        "abroad": "not_found",
        "never-heard-of": "unknown_client",
    }
    assert all(o["message"] for o in summary["omitted"])
    assert (summary["clients_selected"], summary["clients_shown"]) == (6, 1)
    assert len(maps.heat_points(await maps.page(summary))) == 1
    assert len(await maps.features(summary)) == 1
    # Three addresses went to the geocoder; the two it could not place are remembered.
    assert summary["usage"]["location_lookups"] == 3
    again = await maps.drawn("heat", {"selection": {"client_ids": ids}})
    assert again["usage"]["location_lookups"] == 0
    assert {o["client_id"]: o["reason"] for o in again["omitted"]} == reasons


async def test_a_postal_code_pin_map_has_one_pin_per_code_with_its_count(maps: Any) -> None:
    ids = await maps.add_clients(13)  # over 6 ZIPs: 14623 gets 3 clients, the others 2
    await maps.add_client("zip-plus-four", street="9 Pine St", postal_code="14623-1234")
    await maps.add_client("street-only", street="9 Pine St", postal_code=None)

    summary = await maps.drawn(
        "postal-code-pins", {"selection": {"client_ids": [*ids, "zip-plus-four", "street-only"]}}
    )
    assert summary["points"] == 6
    assert summary["usage"]["location_lookups"] == 6  # one look-up per postal code
    assert [(o["client_id"], o["reason"]) for o in summary["omitted"]] == [
        ("street-only", "no_postal_code")
    ]
    page = await maps.page(summary)
    pins = maps.markers(page, "circleMarker")
    assert len(pins) == 6
    assert rounded(pins) == Counter([await centroid(z) for z in maps.zips])
    assert sorted(maps.tooltips(page)) == sorted(
        [
            "14623: 4 clients",
            "02134: 2 clients",
            "60614: 2 clients",
            "98101: 2 clients",
            "78701: 2 clients",
            "33101: 2 clients",
        ]
    )
    features = await maps.features(summary)
    assert {f["properties"]["postal_code"]: f["properties"]["clients"] for f in features} == {
        "14623": 4,
        "02134": 2,
        "60614": 2,
        "98101": 2,
        "78701": 2,
        "33101": 2,
    }


async def test_an_address_pin_map_clusters_one_pin_per_client_with_its_name_escaped(
    maps: Any,
) -> None:
    ids = await maps.add_clients(20)
    await maps.add_client("tricky", first_name="<b>Bo</b> `${alert(1)}`", postal_code="60614")

    summary = await maps.drawn("address-pins", {"selection": {"client_ids": [*ids, "tricky"]}})
    assert summary["points"] == 21
    page = await maps.page(summary)
    assert "L.markerClusterGroup(" in page
    assert len(maps.markers(page)) == 21
    tips = maps.tooltips(page)
    assert "&lt;b&gt;Bo&lt;/b&gt; &#96;&#36;{alert(1)}&#96; tricky" in tips
    assert "<b>Bo</b>" not in page
    assert "${alert" not in page
    features = await maps.features(summary)
    assert {f["properties"]["client_id"] for f in features} == {*ids, "tricky"}


async def test_maps_over_their_limit_answer_422_with_the_limit_and_the_count(maps: Any) -> None:
    for kind, limit in (("heat", 10_000), ("postal-code-pins", 1000), ("address-pins", 1000)):
        too_many = {"selection": {"client_ids": [f"c{i}" for i in range(limit + 1)]}}
        response = await maps.draw(kind, too_many)
        assert response.status_code == 422, kind
        assert response.json()["error"] == "unprocessable"
        assert response.json()["detail"] == {"limit": limit, "count": limit + 1}
        assert (
            f"at most {limit} clients; this selection has {limit + 1}" in response.json()["message"]
        )
    # Repeated ids are one client.
    at_limit = [f"c{i}" for i in range(1000)]
    assert (
        await maps.draw("address-pins", {"selection": {"client_ids": at_limit * 2}})
    ).status_code == 201

    # A filter is counted before anything is looked up (here against a studio's lower limit).
    await maps.add_clients(6, tags=["senior"])
    small = build_app("maps", database=maps.db.name, postal_code_pin_limit=5, heat_map_limit=5)
    async with running(small) as client:
        response = await client.post(
            "/maps/postal-code-pins", json={"selection": {"filter": {"tags": ["senior"]}}}
        )
        assert response.status_code == 422
        assert response.json()["detail"] == {"limit": 5, "count": 6}
        fits = {"selection": {"filter": {"tags": ["senior"], "postal_code_prefix": "14623"}}}
        assert (await client.post("/maps/heat", json=fits)).status_code == 201
    # Only the maps that were drawn were stored and counted.
    assert await maps.db["map_renders"].count_documents({}) == 2
    assert (await maps.usage_this_month())["map_lookups"] == 2


async def test_the_privacy_option_hides_postal_codes_with_fewer_than_k_clients(maps: Any) -> None:
    for i in range(3):
        await maps.add_client(f"roc{i}", street=f"{i} Lake Ave", postal_code="14623")
    for i in range(2):
        await maps.add_client(f"bos{i}", street=f"{i} Beacon St", postal_code="02134")
    await maps.add_client("chi", street="1 Clark St", postal_code="60614")
    body = {"selection": {"filter": {}}, "min_clients_per_postal_code": 3}

    for kind in ("heat", "postal-code-pins", "address-pins"):
        summary = await maps.drawn(kind, body)
        assert summary["hidden"] == {
            "min_clients_per_postal_code": 3,
            "clients": 3,
            "postal_codes": 2,
        }
        assert summary["clients_shown"] == 3
        features = await maps.features(summary)
        roc = await centroid("14623")
        coordinates = {
            tuple(round(c, 4) for c in f["geometry"]["coordinates"][::-1]) for f in features
        }
        assert coordinates == {roc}, kind
        page = await maps.page(summary)
        assert "02134" not in page
        assert "60614" not in page
    pins = await maps.drawn("postal-code-pins", body)
    assert [f["properties"] for f in await maps.features(pins)] == [
        {"country": "US", "postal_code": "14623", "clients": 3}
    ]


async def test_clients_are_chosen_by_tags_organization_session_type_last_session_and_postal_prefix(
    maps: Any,
) -> None:
    await maps.add_client(
        "a", tags=["senior", "2027"], organization="Lincoln High", postal_code="14623"
    )
    await maps.add_client("b", tags=["senior"], organization="lincoln high ", postal_code="14620")
    await maps.add_client("c", tags=["family"], organization="Acme", postal_code="02134")
    await maps.add_client("d", tags=["senior", "2027"], postal_code="60614")
    await maps.book("s1", "a", "senior-portrait", datetime(2026, 3, 10, 15, tzinfo=UTC))
    await maps.book("s2", "b", "senior-portrait", datetime(2026, 5, 2, 15, tzinfo=UTC))
    await maps.book("s3", "c", "family", datetime(2026, 4, 1, 15, tzinfo=UTC))
    await maps.book("s4", "d", "family", datetime(2025, 1, 1, 15, tzinfo=UTC))

    async def chosen(**filter_: Any) -> list[str]:
        summary = await maps.drawn("address-pins", {"selection": {"filter": filter_}})
        features = await maps.features(summary)
        return sorted(f["properties"]["client_id"] for f in features)

    assert await chosen() == ["a", "b", "c", "d"]
    assert await chosen(tags=["senior"]) == ["a", "b", "d"]
    assert await chosen(tags=["senior", "2027"]) == ["a", "d"]
    assert await chosen(organization="LINCOLN HIGH") == ["a", "b"]
    assert await chosen(session_type_ids=["senior-portrait"]) == ["a", "b"]
    assert await chosen(last_session_from="2026-03-10", last_session_to="2026-04-01") == ["a", "c"]
    assert await chosen(last_session_to="2025-12-31") == ["d"]
    assert await chosen(postal_code_prefix="146") == ["a", "b"]
    assert await chosen(tags=["senior"], postal_code_prefix="1462") == ["a", "b"]
    assert await chosen(tags=["senior"], postal_code_prefix="14623") == ["a"]
    assert await chosen(tags=["nobody"]) == []


async def test_a_bad_map_request_gets_a_clear_4xx(maps: Any) -> None:
    both = {"selection": {"client_ids": ["a"], "filter": {"tags": ["x"]}}}
    neither: dict[str, Any] = {"selection": {}}
    backwards = {
        "selection": {
            "filter": {"last_session_from": "2026-05-01", "last_session_to": "2026-01-01"}
        }
    }
    k_of_one = {"selection": {"client_ids": ["a"]}, "min_clients_per_postal_code": 1}
    for body in (both, neither, backwards, k_of_one, {"selection": {"filter": {"colour": "red"}}}):
        response = await maps.draw("heat", body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "validation_error"
    assert (await maps.draw("treasure", {"selection": {"client_ids": []}})).status_code in (
        404,
        405,
    )
    missing = await maps.http.get("/maps/0123456789abcdef/html")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert await maps.usage_this_month() == {"location_lookups": 0, "map_lookups": 0}
