"""Synthetic Brazilian people, companies and devices, seeded and fast.

Faker (pt_BR) is slow per call, so a seeded Faker fills small pools once and numpy draws from the pools. Phone
numbers and e-mails are built from a per-tenant sequence number, so they are unique without remembering the
ones already handed out (identities are unique per tenant).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from faker import Faker

POOL_SIZE = 400
# An odd multiplier not divisible by 5 permutes 0..10**8-1, so distinct sequence numbers give distinct phones.
_PHONE_MULTIPLIER = 73_939_133
_PHONE_MODULUS = 10**8

SAO_PAULO_AREA = (
    ("São Paulo", "SP", 0.78),
    ("Guarulhos", "SP", 0.05),
    ("Osasco", "SP", 0.04),
    ("Santo André", "SP", 0.04),
    ("São Bernardo do Campo", "SP", 0.04),
    ("Taboão da Serra", "SP", 0.03),
    ("Barueri", "SP", 0.02),
)
BRAZIL_CITIES = (
    ("São Paulo", "SP", 0.30),
    ("Rio de Janeiro", "RJ", 0.12),
    ("Belo Horizonte", "MG", 0.08),
    ("Curitiba", "PR", 0.08),
    ("Porto Alegre", "RS", 0.07),
    ("Florianópolis", "SC", 0.06),
    ("Campinas", "SP", 0.06),
    ("Recife", "PE", 0.05),
    ("Brasília", "DF", 0.06),
    ("Salvador", "BA", 0.04),
    ("Fortaleza", "CE", 0.04),
    ("Goiânia", "GO", 0.04),
)
USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15"
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"
    ),
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
)
USER_AGENT_WEIGHTS = (0.38, 0.17, 0.25, 0.15, 0.05)
# Prefixes of address blocks announced by Brazilian ISPs (Vivo, Claro, TIM, Oi).
IP_PREFIXES = (177, 179, 186, 187, 189, 191, 200, 201)
PERSONAL_EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "icloud.com")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000")
JOB_TITLES = (
    "Gerente de Projetos",
    "Coordenadora de Operações",
    "Product Owner",
    "Scrum Master",
    "Diretor de Tecnologia",
    "Analista de Processos",
    "Sócia-fundadora",
    "Head de Marketing",
    "Líder de Engenharia",
)
DDDS = (11, 11, 11, 11, 21, 31, 41, 51, 48, 19, 61, 71, 81)


def ascii_slug(text: str, separator: str = ".") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return separator.join(part for part in "".join(c if c.isalnum() else " " for c in plain).split())


@dataclass(frozen=True)
class Person:
    name: str
    first_name: str
    last_name: str


class People:
    """Name, company and place pools from a seeded pt_BR Faker; draws with a numpy Generator."""

    def __init__(self, seed: int, rng: np.random.Generator) -> None:
        faker = Faker("pt_BR")
        faker.seed_instance(seed)
        self._rng = rng
        self.female = [faker.first_name_female() for _ in range(POOL_SIZE)]
        self.male = [faker.first_name_male() for _ in range(POOL_SIZE)]
        self.last = [faker.last_name() for _ in range(POOL_SIZE)]
        self.companies = [faker.company() for _ in range(POOL_SIZE)]

    def person(self) -> Person:
        first_pool = self.female if self._rng.random() < 0.56 else self.male
        first = first_pool[int(self._rng.integers(len(first_pool)))]
        last = self.last[int(self._rng.integers(len(self.last)))]
        if self._rng.random() < 0.35:
            last = f"{self.last[int(self._rng.integers(len(self.last)))]} {last}"
        return Person(f"{first} {last}", first, last)

    def city(self, places: tuple[tuple[str, str, float], ...]) -> tuple[str, str]:
        weights = np.array([p[2] for p in places])
        city, state, _ = places[int(self._rng.choice(len(places), p=weights / weights.sum()))]
        return city, state

    def company(self) -> tuple[str, str]:
        """A company name and its web domain."""
        name = self.companies[int(self._rng.integers(len(self.companies)))]
        return name, ascii_slug(name.split(" ")[0], "") + ".com.br"

    def personal_email(self, person: Person, sequence: int) -> str:
        domain = PERSONAL_EMAIL_DOMAINS[int(self._rng.integers(len(PERSONAL_EMAIL_DOMAINS)))]
        return f"{ascii_slug(person.first_name)}.{ascii_slug(person.last_name.split(' ')[-1])}{sequence}@{domain}"

    def work_email(self, person: Person, domain: str, sequence: int) -> str:
        return f"{ascii_slug(person.first_name)}.{ascii_slug(person.last_name.split(' ')[-1])}{sequence}@{domain}"

    def phone(self, sequence: int) -> str:
        """A Brazilian mobile in E.164, unique per sequence number."""
        ddd = DDDS[int(self._rng.integers(len(DDDS)))]
        digits = (sequence * _PHONE_MULTIPLIER + 12_345_678) % _PHONE_MODULUS
        return f"+55{ddd}9{digits:08d}"

    def user_agent(self) -> str:
        return USER_AGENTS[int(self._rng.choice(len(USER_AGENTS), p=USER_AGENT_WEIGHTS))]

    def ip(self) -> str:
        first = IP_PREFIXES[int(self._rng.integers(len(IP_PREFIXES)))]
        a, b, c = (int(x) for x in self._rng.integers(1, 255, size=3))
        return f"{first}.{a}.{b}.{c}"

    def choice(self, options: tuple[str, ...]) -> str:
        return options[int(self._rng.integers(len(options)))]
