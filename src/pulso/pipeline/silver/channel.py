"""How a visit arrived: the marketing channel from UTM tags and the referrer, as a pure function.

Order of precedence: an e-mail medium, then paid media (``cpc``/``ppc``/``paid``/``ads``...; by source: social
networks -> ``paid_social``, anything else -> ``paid_search``), a ``gclid`` click id (Google Ads), other UTM
tags by medium, then the referrer's host (search engine -> ``organic_search``, social network -> ``social``,
webmail -> ``email``, the site itself -> ``direct``, anything else -> ``referral``), else ``direct``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

SEARCH_ENGINES = re.compile(r"(^|\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia|ask|search\.brave)\.")
SOCIAL_SOURCES = re.compile(
    r"facebook|instagram|meta|linkedin|tiktok|twitter|youtube|pinterest|whatsapp|^(fb|ig|x|t\.co)$"
)
SOCIAL_HOSTS = re.compile(
    r"(^|\.)(facebook\.com|fb\.com|fb\.me|instagram\.com|linkedin\.com|lnkd\.in|t\.co|twitter\.com|x\.com"
    r"|tiktok\.com|youtube\.com|youtu\.be|pinterest\.com|whatsapp\.com|wa\.me|threads\.net)$"
)
WEBMAIL = re.compile(r"^(mail\.google\.com|outlook\.(live|office)\.com|mail\.yahoo\.com)$")
PAID_MEDIUMS = re.compile(r"^(cpc|ppc|cpm|cpv|paid|ads?|paid[_ -]?(search|social|media)|display|sponsored)$")
EMAIL_MEDIUMS = frozenset({"email", "e-mail", "e_mail", "newsletter", "mail"})
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social_network", "organic_social", "sm"})
ORGANIC_MEDIUMS = frozenset({"organic", "seo"})
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")


@dataclass(frozen=True)
class Touch:
    """One marketing touch: channel plus the UTM-style source/medium/campaign/term/content."""

    channel: str
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None

    @property
    def is_direct(self) -> bool:
        return self.channel == "direct"


DIRECT = Touch("direct", "(direct)", "(none)")


def host_of(url: str | None) -> str:
    """The lower-cased host of a URL without ``www.``; empty when there is none."""
    if not url:
        return ""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def utm_from_url(url: str | None) -> dict[str, str]:
    """``utm_*`` parameters of a URL or query string (``?utm_source=x``), keyed without the prefix."""
    if not url or "utm_" not in url:
        return {}
    query = urlsplit(url).query if ("?" in url and not url.startswith("?")) or "//" in url else url.lstrip("?")
    params = parse_qs(query)
    return {field: values[0].strip() for field in UTM_FIELDS if (values := params.get(f"utm_{field}")) and values[0]}


def classify_channel(
    source: str | None, medium: str | None, referrer: str | None = None, page_url: str | None = None
) -> str:
    """The channel of a visit from its UTM source and medium, its referrer and its landing URL."""
    src, med = (source or "").strip().lower(), (medium or "").strip().lower()
    if med in EMAIL_MEDIUMS or src in EMAIL_MEDIUMS:
        return "email"
    if PAID_MEDIUMS.match(med):
        return "paid_social" if SOCIAL_SOURCES.search(src) or "social" in med else "paid_search"
    if page_url and "gclid=" in page_url:
        return "paid_search"
    if src or med:
        if med in SOCIAL_MEDIUMS or SOCIAL_SOURCES.search(src):
            return "social"
        if med in ORGANIC_MEDIUMS or SEARCH_ENGINES.search(src + "."):
            return "organic_search"
        return "referral"
    return _channel_from_referrer(host_of(referrer), host_of(page_url))


def _channel_from_referrer(referrer_host: str, page_host: str) -> str:
    if not referrer_host or referrer_host == page_host:
        return "direct"
    if WEBMAIL.match(referrer_host):
        return "email"
    if SEARCH_ENGINES.search(referrer_host):
        return "organic_search"
    if SOCIAL_HOSTS.search(referrer_host):
        return "social"
    return "referral"


def touch_for(utm: dict[str, str], referrer: str | None, page_url: str | None) -> Touch:
    """The touch of one event: its UTM tags when it has any, else its referrer, else direct."""
    channel = classify_channel(utm.get("source"), utm.get("medium"), referrer, page_url)
    if utm:
        return Touch(channel, *(utm.get(field) for field in UTM_FIELDS))
    if channel == "direct":
        return DIRECT
    medium = {"organic_search": "organic", "social": "social", "email": "email"}.get(channel, "referral")
    if channel == "paid_search":  # a gclid without tags
        return Touch(channel, "google", "cpc")
    return Touch(channel, host_of(referrer), medium)
