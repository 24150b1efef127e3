"""InsightOS hits -> ``events`` rows shaped like Segment calls (page / track / identify), with the campaign
pulled out of ``context.campaign`` into the utm columns, and the tracking outage (effect 5) applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pulso.demo.effects import INSIGHTOS_ANOMALY
from pulso.demo.insightos_journeys import Hit, Journey
from pulso.demo.insightos_site import page_name, page_title, page_url
from pulso.demo.timeline import Timeline, utc_ms

LIBRARY = {"name": "analytics.js", "version": "next-1.70.0"}


@dataclass(frozen=True)
class Visitor:
    """Who sent a journey's hits: browser ids per device, the user id after signup and the contact."""

    anonymous_ids: tuple[str, str]
    user_agents: tuple[str, str]
    ips: tuple[str, str]
    user_id: str | None
    contact_id: int | None
    traits: dict[str, Any]


def random_hex(rng: np.random.Generator, size: int) -> list[str]:
    """``size`` random 128-bit values as 32 hex digits (deterministic for the Generator)."""
    halves = rng.integers(0, 2**63, size=(size, 2), dtype=np.int64)
    return [f"{a:016x}{b:016x}" for a, b in halves.tolist()]


def uuid_text(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-a{hex32[17:20]}-{hex32[20:]}"


class EventRows:
    def __init__(self, tenant_id: int, timeline: Timeline, rng: np.random.Generator) -> None:
        self.tenant_id = tenant_id
        self.timeline = timeline
        self.rng = rng
        self.outage_day = timeline.anomaly_index(INSIGHTOS_ANOMALY)

    def _kept(self, hits: list[tuple[Hit, Journey, Visitor]]) -> list[tuple[Hit, Journey, Visitor]]:
        """Hits before the cutoff, minus those lost in the tracking outage."""
        cutoff_ms = self.timeline.cutoff * 1000
        hits = [h for h in hits if h[0].at < cutoff_ms]
        times = np.array([h[0].at // 1000 for h in hits], dtype=np.int64)
        lost = (self.timeline.local_day_index(times) == self.outage_day) & (
            self.rng.random(len(hits)) >= INSIGHTOS_ANOMALY.multiplier
        )
        return [h for h, gone in zip(hits, lost.tolist(), strict=True) if not gone]

    def rows(self, journeys: list[tuple[Journey, Visitor]]) -> list[dict[str, Any]]:
        """All events of a chunk's journeys, in time order."""
        hits = [
            (hit, journey, visitor)
            for journey, visitor in journeys
            for hit in journey.hits
            if hit.type != "identify" or visitor.user_id is not None  # signup cut off by end_date
        ]
        hits = self._kept(sorted(hits, key=lambda h: h[0].at))
        message_ids = random_hex(self.rng, len(hits))
        delays = self.rng.integers(40, 900, size=(len(hits), 2)).tolist()
        previous_url: dict[tuple[int, int], str] = {}
        rows = []
        for (hit, journey, visitor), message_id, (sent_delay, received_delay) in zip(
            hits, message_ids, delays, strict=True
        ):
            session = journey.sessions[hit.session] if hit.session >= 0 else None
            utm = session.utm if session else None
            url = page_url(hit.path, utm)
            key = (id(journey), hit.session)
            if key in previous_url:
                referrer = previous_url[key]
            else:
                referrer = journey.referrers[hit.session] if hit.session >= 0 else ""
            if hit.type == "page":
                previous_url[key] = url
            page = {
                "path": hit.path,
                "url": url,
                "title": page_title(hit.path),
                "referrer": referrer,
                "search": url.partition("?")[2] and "?" + url.partition("?")[2],
            }
            context: dict[str, Any] = {
                "page": page,
                "userAgent": visitor.user_agents[hit.device],
                "ip": visitor.ips[hit.device],
                "locale": "pt-BR",
                "library": LIBRARY,
            }
            if utm:
                context["campaign"] = {"source": utm[0], "medium": utm[1], "name": utm[2]}
            if hit.type == "page":
                name, properties = page_name(hit.path), page
            elif hit.type == "identify":
                name, properties = None, visitor.traits
            else:
                name, properties = hit.name, hit.properties
            rows.append(
                {
                    "tenant_id": self.tenant_id,
                    "message_id": f"ajs-next-{message_id}",
                    "type": hit.type,
                    "name": name,
                    "contact_id": visitor.contact_id,
                    "anonymous_id": visitor.anonymous_ids[hit.device],
                    "user_id": visitor.user_id if hit.identified else None,
                    "utm_source": utm[0] if utm else None,
                    "utm_medium": utm[1] if utm else None,
                    "utm_campaign": utm[2] if utm else None,
                    "properties": properties,
                    "context": context,
                    "occurred_at": utc_ms(hit.at),
                    "sent_at": utc_ms(hit.at + sent_delay),
                    "received_at": utc_ms(hit.at + sent_delay + received_delay),
                }
            )
        return rows
