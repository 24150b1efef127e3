"""The dashboard's two languages (pt-BR, the default, and English): one table of UI strings and how a
request picks its language: ``?lang=`` (remembered in a cookie), the cookie, the tenant's locale, the
browser's Accept-Language, then pt-BR."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

Locale = Literal["pt-BR", "en"]
SUPPORTED_LOCALES: tuple[Locale, ...] = ("pt-BR", "en")
DEFAULT_LOCALE: Locale = "pt-BR"
LANG_COOKIE = "pulso_lang"
LANG_PARAM = "lang"

# key -> (pt-BR, en). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "app.tagline": ("Inteligência de clientes", "Customer intelligence"),
    "nav.overview": ("Visão geral", "Overview"),
    "nav.tenants": ("Clientes", "Tenants"),
    "nav.all_tenants": ("Todos os clientes", "All tenants"),
    "nav.logout": ("Sair", "Log out"),
    "nav.language": ("Idioma", "Language"),
    "login.title": ("Entrar", "Log in"),
    "login.heading": ("Entre na sua conta", "Log in to your account"),
    "login.subtitle": (
        "Conversas, leads e vendas da sua empresa num só lugar.",
        "Your company's conversations, leads and sales in one place.",
    ),
    "login.email": ("E-mail", "E-mail"),
    "login.password": ("Senha", "Password"),
    "login.submit": ("Entrar", "Log in"),
    "login.error": ("E-mail ou senha incorretos.", "Wrong e-mail or password."),
    "login.expired": ("Sua sessão expirou. Entre novamente.", "Your session has expired. Please log in again."),
    "login.logged_out": ("Você saiu da sua conta.", "You have logged out."),
    "admin.title": ("Clientes da plataforma", "Platform tenants"),
    "admin.subtitle": (
        "Escolha um cliente para ver a visão geral.",
        "Choose a tenant to see its overview.",
    ),
    "admin.col.name": ("Nome", "Name"),
    "admin.col.slug": ("Identificador", "Slug"),
    "admin.col.timezone": ("Fuso horário", "Time zone"),
    "admin.col.users": ("Usuários", "Users"),
    "admin.open": ("Abrir visão geral", "Open overview"),
    "admin.empty": (
        "Nenhum cliente ainda. Crie um com `pulso admin create-tenant`.",
        "No tenants yet. Create one with `pulso admin create-tenant`.",
    ),
    "overview.title": ("Visão geral", "Overview"),
    "overview.period": ("Período", "Period"),
    "overview.days": ("{days} dias", "{days} days"),
    "overview.range": ("{start} a {end}", "{start} to {end}"),
    "overview.timezone": ("Fuso: {timezone}", "Time zone: {timezone}"),
    "overview.vs_previous": ("vs. {days} dias anteriores", "vs. previous {days} days"),
    "overview.no_previous": ("sem base de comparação", "no prior period to compare"),
    "overview.no_data": ("sem dados no período", "no data in the period"),
    "kpi.conversations": ("Conversas", "Conversations"),
    "kpi.leads": ("Leads", "Leads"),
    "kpi.lead_conversion": ("Conversão lead → cliente", "Lead-to-customer conversion"),
    "kpi.median_first_response": ("Mediana da 1ª resposta", "Median first response"),
    "kpi.conversations.definition": ("Conversas iniciadas no período.", "Conversations created in the period."),
    "kpi.leads.definition": (
        "Contatos que viraram lead no período (campo became_lead_at).",
        "Contacts who became leads in the period (became_lead_at).",
    ),
    "kpi.lead_conversion.definition": (
        "Dos leads do período, a parcela que já virou cliente.",
        "Of the period's leads, the share that has become a customer.",
    ),
    "kpi.median_first_response.definition": (
        "Mediana do tempo até a primeira resposta da equipe (sem o bot), nas conversas do período respondidas.",
        "Median time to the team's first reply (bot excluded), over the period's answered conversations.",
    ),
    "kpi.leads.open": ("{count} ainda em negociação", "{count} still open"),
    "kpi.lead_conversion.customers": ("{count} de {total} leads", "{count} of {total} leads"),
    "kpi.median_first_response.sample": ("{count} conversas respondidas", "{count} answered conversations"),
    "chart.title": ("Conversas e leads por dia", "Conversations and leads per day"),
    "chart.conversations": ("Conversas", "Conversations"),
    "chart.leads": ("Leads", "Leads"),
    "chart.source": (
        "Fonte: tabela daily_metrics, atualizada pelo pipeline.",
        "Source: the daily_metrics table, refreshed by the pipeline.",
    ),
    "chart.empty.title": ("Ainda não há métricas diárias para este período", "No daily metrics for this period yet"),
    "chart.empty.body": (
        "O gráfico lê a camada gold, preenchida pelo pipeline. Rode o comando abaixo e recarregue a página.",
        "The chart reads the gold layer, which the pipeline fills. Run the command below and reload the page.",
    ),
    "error.title": ("Algo deu errado", "Something went wrong"),
    "error.not_found": ("Página não encontrada.", "Page not found."),
    "error.forbidden": ("Você não tem acesso a esta página.", "You do not have access to this page."),
    "error.csrf": (
        "O formulário expirou ou veio de outro site. Recarregue a página e tente de novo.",
        "The form has expired or came from another site. Reload the page and try again.",
    ),
    "error.bad_request": ("Pedido inválido.", "Invalid request."),
    "error.configuration": (
        "O servidor está mal configurado. Avise o administrador.",
        "The server is misconfigured. Tell the administrator.",
    ),
    "error.server": ("Erro inesperado. Tente de novo em instantes.", "Unexpected error. Please try again shortly."),
    "error.back": ("Voltar ao início", "Back to start"),
}


def translate(locale: Locale, key: str, **params: object) -> str:
    """The string for ``key`` in ``locale`` (the key itself when missing, so a gap shows instead of crashing)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry[SUPPORTED_LOCALES.index(locale)]
    return text.format(**params) if params else text


def normalise_locale(value: str | None) -> Locale | None:
    """``pt``, ``pt_BR``, ``pt-br`` -> ``pt-BR``; ``en``, ``en-US`` -> ``en``; anything else -> None."""
    if not value:
        return None
    language = value.strip().replace("_", "-").split("-")[0].lower()
    if language == "pt":
        return "pt-BR"
    if language == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> Locale | None:
    """The supported language the browser prefers most (q-values respected), or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalise_locale(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


def requested_locale(request: Request) -> Locale | None:
    """A language asked for explicitly in this request's ``?lang=``."""
    return normalise_locale(request.query_params.get(LANG_PARAM))


def resolve_locale(request: Request, tenant_locale: str | None = None) -> Locale:
    return (
        requested_locale(request)
        or normalise_locale(request.cookies.get(LANG_COOKIE))
        or normalise_locale(tenant_locale)
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LOCALE
    )
