"""InsightOS's website and product: traffic sources with their UTM tags, pages, titles and URLs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import numpy as np

from pulso.demo.effects import LTV_CAMPAIGN

SITE = "https://insightos.com.br"
APP = "https://app.insightos.com.br"


@dataclass(frozen=True)
class TrafficSource:
    """Where a visitor's first session came from. ``utm`` is (source, medium, campaign) or None."""

    key: str
    channel: str  # contacts.first_touch_channel
    share: float  # of new visitors
    signup_rate: float  # P(signs up) for a visitor whose first touch is this source
    utm: tuple[str, str, str] | None
    referrers: tuple[str, ...]
    landing: str
    cost_per_click: float = 0.0  # BRL; 0 for unpaid sources
    click_through_rate: float = 0.0

    @property
    def campaign(self) -> str | None:
        return self.utm[2] if self.utm else None

    def first_touch(self, referrer: str) -> tuple[str, str]:
        """(source, medium) as stored on contacts: the UTM tags, else what the first referrer says."""
        if self.utm:
            return self.utm[0], self.utm[1]
        if self.channel == "organic_search":
            return "google", "organic"
        if self.channel == "referral":
            return urlsplit(referrer).hostname or "referral", "referral"
        return "(direct)", "(none)"


SOURCES = (
    TrafficSource(
        LTV_CAMPAIGN,
        "paid_search",
        0.26,
        0.17,
        ("google", "cpc", LTV_CAMPAIGN),
        ("https://www.google.com/",),
        "/lp/gestao-agil",
        cost_per_click=3.40,
        click_through_rate=0.045,
    ),
    TrafficSource(
        "meta_produtividade",
        "paid_social",
        0.18,
        0.10,
        ("facebook", "paid_social", "meta_produtividade"),
        ("https://l.facebook.com/", "https://l.instagram.com/"),
        "/lp/produtividade",
        cost_per_click=1.30,
        click_through_rate=0.012,
    ),
    TrafficSource(
        "linkedin_lideres",
        "paid_social",
        0.09,
        0.15,
        ("linkedin", "paid_social", "linkedin_lideres"),
        ("https://www.linkedin.com/",),
        "/lp/lideres",
        cost_per_click=9.80,
        click_through_rate=0.006,
    ),
    TrafficSource(
        "newsletter",
        "email",
        0.07,
        0.18,
        ("newsletter", "email", "newsletter_semanal"),
        ("",),
        "/blog/novidades-do-produto",
    ),
    TrafficSource(
        "organic_search", "organic_search", 0.22, 0.13, None, ("https://www.google.com/",), "/blog/scrum-vs-kanban"
    ),
    TrafficSource("direct", "direct", 0.12, 0.16, None, ("",), "/"),
    TrafficSource(
        "referral",
        "referral",
        0.06,
        0.14,
        None,
        ("https://www.startse.com/", "https://medium.com/", "https://www.reddit.com/r/brdev/"),
        "/",
    ),
)
PAID_SOURCES = tuple(s for s in SOURCES if s.cost_per_click > 0)

SITE_TITLES = {
    "/": "InsightOS — gestão de projetos ágil para times brasileiros",
    "/precos": "Preços | InsightOS",
    "/recursos": "Recursos | InsightOS",
    "/recursos/quadros-kanban": "Quadros Kanban | InsightOS",
    "/recursos/relatorios": "Relatórios e OKRs | InsightOS",
    "/clientes": "Clientes | InsightOS",
    "/sobre": "Sobre nós | InsightOS",
    "/blog/scrum-vs-kanban": "Scrum ou Kanban? Como escolher | Blog InsightOS",
    "/blog/como-fazer-uma-retrospectiva": "Como fazer uma retrospectiva que funciona | Blog InsightOS",
    "/blog/okrs-para-times-pequenos": "OKRs para times pequenos | Blog InsightOS",
    "/blog/novidades-do-produto": "Novidades do produto | Blog InsightOS",
    "/lp/gestao-agil": "Gestão ágil sem planilhas | InsightOS",
    "/lp/produtividade": "Seu time 30% mais produtivo | InsightOS",
    "/lp/lideres": "Visibilidade para líderes | InsightOS",
    "/cadastro": "Crie sua conta grátis | InsightOS",
}
BROWSE_PAGES = (
    "/",
    "/precos",
    "/precos",
    "/recursos",
    "/recursos/quadros-kanban",
    "/recursos/relatorios",
    "/clientes",
    "/sobre",
)
APP_TITLES = {
    "/app": "Início",
    "/app/projetos": "Projetos",
    "/app/projetos/quadro": "Quadro do projeto",
    "/app/projetos/cronograma": "Cronograma",
    "/app/relatorios": "Relatórios",
    "/app/equipe": "Equipe",
    "/app/configuracoes": "Configurações",
    "/app/boas-vindas": "Boas-vindas",
    "/app/projetos/novo": "Novo projeto",
    "/app/equipe/convidar": "Convidar pessoas",
    "/app/assinatura": "Assinatura",
    "/app/assinatura/cancelar": "Cancelar assinatura",
}
APP_PAGES = (
    "/app",
    "/app/projetos",
    "/app/projetos/quadro",
    "/app/projetos/quadro",
    "/app/projetos/cronograma",
    "/app/relatorios",
    "/app/equipe",
    "/app/configuracoes",
)
FUNNEL_PAGES = {
    "user_signed_up": "/cadastro",
    "user_verified": "/app/boas-vindas",
    "project_created": "/app/projetos/novo",
    "invited_teammate": "/app/equipe/convidar",
    "subscription_started": "/app/assinatura",
    "subscription_cancelled": "/app/assinatura/cancelar",
}


def site_pages(rng: np.random.Generator, landing: str, n: int) -> list[str]:
    """A browsing session of ``n`` pages on the marketing site, starting at ``landing``."""
    return [landing] + [BROWSE_PAGES[int(i)] for i in rng.integers(len(BROWSE_PAGES), size=n - 1)]


def page_title(path: str) -> str:
    return SITE_TITLES.get(path) or APP_TITLES.get(path) or "InsightOS"


def page_name(path: str) -> str:
    """The Segment page ``name``: the short title."""
    return page_title(path).split(" | ")[0]


def page_url(path: str, utm: tuple[str, str, str] | None) -> str:
    base = APP if path.startswith("/app") else SITE
    if utm is None:
        return base + path
    source, medium, campaign = utm
    return f"{base}{path}?{urlencode({'utm_source': source, 'utm_medium': medium, 'utm_campaign': campaign})}"
