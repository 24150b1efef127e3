"""Portuguese message texts for Clínica Sorriso, written the way a real front desk and its patients write.

Each conversation is a list of (incoming, outgoing) pairs: the patient writes, the agent (or the bot) answers.
Texts carry the signals an analyzer should find: a price question mentions "valor"/"quanto custa"; a booking
ends with "Agendado"; procedures are named the way patients name them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEKDAYS_PT = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")


@dataclass(frozen=True)
class Procedure:
    key: str
    product: str  # orders.product
    phrase: str  # how patients name it, with article
    list_price: int  # quoted "a partir de" price, BRL
    price_range: tuple[int, int]  # what bookings actually cost, BRL


PROCEDURE_INFO = {
    "avaliacao": Procedure("avaliacao", "Avaliação odontológica", "uma avaliação", 150, (120, 180)),
    "limpeza": Procedure("limpeza", "Limpeza (profilaxia)", "a limpeza", 220, (180, 280)),
    "clareamento": Procedure("clareamento", "Clareamento dental", "o clareamento", 1200, (900, 1600)),
    "ortodontia": Procedure("ortodontia", "Aparelho ortodôntico", "o aparelho", 3500, (2800, 6000)),
    "implante": Procedure("implante", "Implante dentário", "o implante", 3900, (3200, 5500)),
    "canal": Procedure("canal", "Tratamento de canal", "o tratamento de canal", 900, (700, 1400)),
}
MAINTENANCE = Procedure("manutencao", "Manutenção do aparelho", "a manutenção do aparelho", 200, (180, 250))
DENTISTS = ("Dra. Fernanda Alves", "Dr. Ricardo Moura", "Dra. Camila Nogueira")

PRICE_OPENINGS = (
    "Oi, boa tarde! Quanto custa {phrase}?",
    "Olá! Gostaria de saber o valor d{phrase_tail}",
    "Bom dia, qual o preço d{phrase_tail}? Vi o anúncio de vocês",
    "Oi! Vocês fazem {bare}? Qual o valor?",
    "Boa noite, queria um orçamento para {phrase}",
)
OPENINGS = {
    "avaliacao": (
        "Olá, gostaria de marcar uma avaliação",
        "Oi! Faz tempo que não vou ao dentista, queria fazer um check-up",
    ),
    "limpeza": ("Oi, bom dia! Queria agendar uma limpeza", "Olá, vocês têm horário para limpeza essa semana?"),
    "clareamento": (
        "Oi! Tenho interesse no clareamento",
        "Olá, queria deixar meus dentes mais brancos, como funciona?",
    ),
    "ortodontia": ("Olá, queria colocar aparelho", "Oi, meu filho precisa de aparelho, vocês atendem criança?"),
    "implante": ("Bom dia, perdi um dente e queria fazer implante", "Olá, queria informações sobre implante"),
    "canal": (
        "Oi, estou com muita dor de dente, vocês atendem hoje?",
        "Bom dia! O dentista disse que preciso fazer canal, vocês fazem?",
    ),
}
GREETINGS = (
    "Olá, {name}! Aqui é {agent} da Clínica Sorriso 😊",
    "Oi, {name}, tudo bem? {agent} falando, da Clínica Sorriso!",
    "Bom dia, {name}! Obrigada por falar com a Clínica Sorriso, sou {agent}.",
)
PRICE_ANSWERS = (
    " {Product} fica a partir de R$ {price} e parcelamos em até 10x sem juros no cartão.",
    " O valor d{phrase_tail} começa em R$ {price}, e a avaliação inicial é gratuita.",
    " Hoje {phrase} sai a partir de R$ {price} à vista, ou parcelado no cartão.",
)
INFO_ANSWERS = (
    " Temos horários essa semana. Você prefere manhã ou tarde?",
    " Fazemos sim! O primeiro passo é uma avaliação com a dentista. Quer agendar?",
    " Claro! Me conta um pouquinho mais para eu te ajudar a agendar.",
)
FOLLOW_UPS = (
    ("Vocês aceitam convênio?", "Atendemos Amil Dental, OdontoPrev e SulAmérica Odonto, e também particular."),
    ("Qual o horário de funcionamento?", "Funcionamos de segunda a sexta das 8h às 19h e sábado das 8h às 13h."),
    ("Onde fica a clínica?", "Ficamos na Rua Augusta, 1500, sala 42, pertinho do metrô Consolação."),
    ("Dá para parcelar no cartão?", "Dá sim! Parcelamos em até 10x sem juros no cartão de crédito."),
    ("Dói muito?", "Fique tranquila(o), usamos anestesia e a maioria dos pacientes sente só um leve incômodo."),
    ("Quanto tempo demora?", "Depende do caso, mas a primeira sessão leva cerca de 1 hora."),
    ("Tem estacionamento?", "Temos convênio com o estacionamento do prédio ao lado, com desconto."),
    ("Preciso levar algum exame?", "Se tiver raio-x recente, traga sim. Se não tiver, fazemos aqui mesmo."),
    ("Aceita Pix?", "Aceitamos Pix, cartão de débito e crédito."),
    ("Vocês atendem aos sábados?", "Atendemos sim, aos sábados das 8h às 13h."),
)
BOOKING_REQUESTS = (
    "Pode ser {slot}?",
    "Tem horário {slot}?",
    "Quero agendar! {Slot} seria ótimo",
    "Fechado, {slot} pode?",
)
BOOKING_CONFIRMATIONS = (
    "Perfeito! Agendado para {slot} com a {dentist} ✅ Mandamos uma confirmação um dia antes.",
    "Agendado, {name}! {Slot}, com a {dentist}. Qualquer imprevisto é só avisar 😉",
)
NO_BOOKING_CLOSINGS = (
    "Vou pensar e te retorno",
    "Achei um pouco caro, vou ver com calma",
    "Ok, obrigada!",
    "Vou ver com meu marido e aviso",
    "Certo, vou me programar e volto a falar",
    "Entendi, obrigado pelas informações",
)
NO_BOOKING_ANSWERS = (
    "Imagina! Qualquer dúvida é só chamar 😊",
    "Combinado! Estamos à disposição.",
    "Fico no aguardo, {name}. Tenha um ótimo dia!",
)
PRIVATE_NOTES = (
    "Paciente já veio em 2022, verificar ficha antiga",
    "Pediu retorno no fim da tarde",
    "Conferir cobertura do convênio antes de confirmar",
)
RETURN_OPENINGS = (
    "Oi, sou eu de novo! Decidi fazer {phrase}",
    "Olá! Conversamos semana passada sobre {phrase}, quero agendar",
    "Oi, ainda tem horário para {phrase}?",
)
RETURN_ANSWERS = (
    "Que bom ter você de volta, {name}! 😊 Qual dia fica melhor?",
    "Oi, {name}! Temos sim, qual período prefere?",
)
CONFIRMATION_REQUESTS = (
    "Bom dia! Só confirmando minha consulta de amanhã às {hour}h",
    "Oi, minha consulta amanhã está mantida?",
)
CONFIRMATION_ANSWERS = (
    "Confirmadíssimo, {name}! Te esperamos amanhã às {hour}h 😊",
    "Está mantida sim! Até amanhã, {name}.",
)
AFTERCARE_QUESTIONS = (
    "Oi, fiz {phrase} ontem e está um pouco sensível, é normal?",
    "Olá, posso tomar café depois d{phrase_tail}?",
)
AFTERCARE_ANSWERS = (
    "É normal sim nos primeiros dias, {name}. Se a dor aumentar, nos chame que a dentista te atende.",
    "Evite café e alimentos com corante por 48 horas, combinado? Qualquer dúvida estamos aqui.",
)
LEAD_RETURN_QUESTIONS = (
    "Oi, vocês ainda estão com aquela condição para {phrase}?",
    "Olá, o valor d{phrase_tail} mudou?",
)
LEAD_RETURN_ANSWERS = (
    "Oi, {name}! Continua sim, quer que eu veja um horário para você?",
    "Olá! Segue o mesmo valor 😊",
)


class Texts:
    """Draws message texts with the demo's numpy Generator, so conversations are deterministic per seed."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def pick(self, options: tuple[str, ...]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def opening(self, procedure: Procedure, asked_price: bool) -> str:
        if asked_price:
            return fill(self.pick(PRICE_OPENINGS), procedure)
        return self.pick(OPENINGS[procedure.key])

    def first_answer(self, procedure: Procedure, asked_price: bool, name: str, agent: str) -> str:
        greeting = self.pick(GREETINGS).format(name=name, agent=agent)
        body = self.pick(PRICE_ANSWERS) if asked_price else self.pick(INFO_ANSWERS)
        return greeting + fill(body, procedure)

    def booking(self, slot: str, name: str) -> tuple[str, str]:
        request = self.pick(BOOKING_REQUESTS).format(slot=slot, Slot=slot[:1].upper() + slot[1:])
        dentist = self.pick(DENTISTS)
        answer = self.pick(BOOKING_CONFIRMATIONS).format(
            slot=slot, Slot=slot[:1].upper() + slot[1:], dentist=dentist, name=name
        )
        return request, answer

    def no_booking(self, name: str) -> tuple[str, str]:
        return self.pick(NO_BOOKING_CLOSINGS), self.pick(NO_BOOKING_ANSWERS).format(name=name)

    def private_note(self) -> str:
        return self.pick(PRIVATE_NOTES)

    def return_to_book(self, procedure: Procedure, name: str) -> tuple[str, str]:
        return fill(self.pick(RETURN_OPENINGS), procedure), self.pick(RETURN_ANSWERS).format(name=name)

    def confirmation(self, hour: int, name: str) -> tuple[str, str]:
        return (
            self.pick(CONFIRMATION_REQUESTS).format(hour=hour),
            self.pick(CONFIRMATION_ANSWERS).format(hour=hour, name=name),
        )

    def aftercare(self, procedure: Procedure, name: str) -> tuple[str, str]:
        return fill(self.pick(AFTERCARE_QUESTIONS), procedure), self.pick(AFTERCARE_ANSWERS).format(name=name)

    def lead_return(self, procedure: Procedure, name: str) -> tuple[str, str]:
        return fill(self.pick(LEAD_RETURN_QUESTIONS), procedure), self.pick(LEAD_RETURN_ANSWERS).format(name=name)


def fill(template: str, procedure: Procedure) -> str:
    """Fill procedure placeholders; ``d{phrase_tail}`` contracts "de + o" into "do" the Portuguese way."""
    article, _, bare = procedure.phrase.partition(" ")
    tail = {"o": "o " + bare, "a": "a " + bare, "uma": "e uma " + bare}[article]
    price = f"{procedure.list_price:,}".replace(",", ".")
    return template.format(
        phrase=procedure.phrase,
        phrase_tail=tail,
        bare=bare,
        Product=procedure.phrase[:1].upper() + procedure.phrase[1:],
        price=price,
    )


def slot_text(weekday: int, day: int, month: int, hour: int, minute: int) -> str:
    """'quinta, 14/03, às 15h30' for an appointment in local time."""
    time = f"{hour}h" if minute == 0 else f"{hour}h{minute:02d}"
    return f"{WEEKDAYS_PT[weekday]}, {day:02d}/{month:02d}, às {time}"
