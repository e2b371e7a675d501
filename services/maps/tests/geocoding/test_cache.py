"""A second spelling of an address is a cache hit: no second look-up, no second charge."""

from __future__ import annotations

from typing import Any

import pytest

from kit.events.contracts.booking import PostalAddress
from maps.geocoding.address import normalise

SAME_PLACE = [
    (
        PostalAddress(
            street="123 Main Street, Apt. 4",
            city="Rochester",
            region="NY",
            postal_code="14623-1234",
        ),
        PostalAddress(
            street="123  main st  #4",
            city="Henrietta",
            region="New York",
            postal_code="14623",
            country="USA",
        ),
    ),
    (
        PostalAddress(street="1 Saint Mark's Place", postal_code="2134"),
        PostalAddress(street="1 St. Marks Pl.", postal_code="02134", country="United States"),
    ),
    (
        PostalAddress(street="500 North Avenue Suite 200", postal_code="60614"),
        PostalAddress(street="500 N Ave Ste 200", postal_code="60614 "),
    ),
    (
        PostalAddress(street="10 Rue de Rivoli", postal_code="75001", country="France"),
        PostalAddress(street="10, rue de rivoli", postal_code=" 75001", country="FRANCE"),
    ),
]


@pytest.mark.parametrize(("first", "second"), SAME_PLACE)
def test_two_spellings_of_one_address_share_a_cache_key(
    first: PostalAddress, second: PostalAddress
) -> None:
    assert normalise(first, default_country="US").key == normalise(second, default_country="US").key


def test_different_addresses_have_different_keys() -> None:
    keys = {
        normalise(address, default_country="US").key
        for address in (
            PostalAddress(street="123 Main St", postal_code="14623"),
            PostalAddress(street="125 Main St", postal_code="14623"),
            PostalAddress(street="123 Main St", postal_code="14620"),
            PostalAddress(street="123 Main St", postal_code="14623", country="CA"),
            PostalAddress(street="123 Main St Apt 4", postal_code="14623"),
        )
    }
    assert len(keys) == 5


async def test_a_client_whose_address_another_client_spelt_differently_costs_no_lookup(
    maps: Any,
) -> None:
    first, second = SAME_PLACE[0]
    await maps.add_client("ann", street=first.street, postal_code=first.postal_code)
    await maps.add_client(
        "bob", street=second.street, postal_code=second.postal_code, country=second.country
    )
    ann = await maps.drawn("heat", {"selection": {"client_ids": ["ann"]}})
    assert ann["usage"]["location_lookups"] == 1
    bob = await maps.drawn("address-pins", {"selection": {"client_ids": ["bob"]}})
    assert bob["usage"]["location_lookups"] == 0
    assert await maps.db["geocode_cache"].count_documents({}) == 1
    assert await maps.usage_this_month() == {"location_lookups": 1, "map_lookups": 2}
    [ann_point] = maps.heat_points(await maps.page(ann))
    [bob_point] = maps.markers(await maps.page(bob))
    assert ann_point == bob_point
