"""Channel classification from UTM tags and referrer; each case decided by hand from the documented rules."""

from __future__ import annotations

import pytest

from pulso.pipeline.silver.channel import DIRECT, Touch, classify_channel, host_of, touch_for, utm_from_url

SITE = "https://acme.com.br/precos"


@pytest.mark.parametrize(
    ("source", "medium", "referrer", "page_url", "channel"),
    [
        ("google", "cpc", None, SITE, "paid_search"),
        ("Google", "CPC", "https://www.google.com/", SITE, "paid_search"),  # tags beat the referrer, any case
        ("bing", "ppc", None, SITE, "paid_search"),
        ("facebook", "cpc", None, SITE, "paid_social"),
        ("instagram", "paid", None, SITE, "paid_social"),
        ("meta", "ads", None, SITE, "paid_social"),
        ("linkedin", "paid_social", None, SITE, "paid_social"),
        ("fb", "cpc", None, SITE, "paid_social"),
        ("newsletter", "email", None, SITE, "email"),
        ("rd_station", "e-mail", None, SITE, "email"),
        ("instagram", "social", None, SITE, "social"),  # organic post with tags
        ("instagram", "bio", None, SITE, "social"),  # social source, unknown medium
        ("google", "organic", None, SITE, "organic_search"),
        ("parceiro", "afiliado", None, SITE, "referral"),  # tagged, not paid/social/search: referral
        (None, None, "https://www.google.com.br/", SITE, "organic_search"),
        (None, None, "https://www.bing.com/search?q=x", SITE, "organic_search"),
        (None, None, "https://duckduckgo.com/", SITE, "organic_search"),
        (None, None, "https://l.instagram.com/?u=x", SITE, "social"),
        (None, None, "https://m.facebook.com/", SITE, "social"),
        (None, None, "https://www.linkedin.com/feed/", SITE, "social"),
        (None, None, "https://t.co/abc", SITE, "social"),
        (None, None, "https://mail.google.com/", SITE, "email"),
        (None, None, "https://blog.parceiro.com.br/post", SITE, "referral"),
        (None, None, "https://blog.x.com.br/", SITE, "referral"),  # not x.com
        (None, None, "https://acme.com.br/", SITE, "direct"),  # internal navigation
        (None, None, "", SITE, "direct"),
        (None, None, None, None, "direct"),
        (None, None, None, SITE + "?gclid=abc", "paid_search"),  # Google Ads auto-tagging without UTM
    ],
)
def test_classify_channel(
    source: str | None, medium: str | None, referrer: str | None, page_url: str | None, channel: str
) -> None:
    assert classify_channel(source, medium, referrer, page_url) == channel


def test_utm_from_url_and_query_string() -> None:
    url = "https://acme.com.br/?utm_source=google&utm_medium=cpc&utm_campaign=black%20friday&x=1"
    assert utm_from_url(url) == {"source": "google", "medium": "cpc", "campaign": "black friday"}
    assert utm_from_url("?utm_term=dentista&utm_content=banner") == {"term": "dentista", "content": "banner"}
    assert utm_from_url("https://acme.com.br/") == {}
    assert utm_from_url(None) == {}


def test_host_of() -> None:
    assert host_of("https://www.Google.com.br/search") == "google.com.br"
    assert host_of("l.instagram.com/x") == "l.instagram.com"
    assert host_of("") == ""


def test_touch_for() -> None:
    assert touch_for({}, None, SITE) == DIRECT
    assert touch_for({}, "https://www.google.com/", SITE) == Touch("organic_search", "google.com", "organic")
    assert touch_for({"source": "facebook", "medium": "cpc", "campaign": "promo"}, None, SITE) == Touch(
        "paid_social", "facebook", "cpc", "promo"
    )
    assert touch_for({}, None, SITE + "?gclid=1") == Touch("paid_search", "google", "cpc")
