"""What an update says, in English and Spanish: the request number and what changed,
nothing else personal, and never a link (the email's only link is its unsubscribe)."""

from __future__ import annotations

STATUS_WORDS = {
    "en": {"open": "open", "in_progress": "in progress", "closed": "closed"},
    "es": {"open": "abierta", "in_progress": "en curso", "closed": "cerrada"},
}
TEXTS = {
    "en": {
        "status": "{city} 311: request {number} is now {status}.",
        "note": "{city} 311: there is a new note on request {number}, which is {status}. Call 311 to hear it.",
        "sms_tail": " Reply STOP to stop texts.",
        "subject": "Request {number}: {status}",
        "email_tail": "You asked to be told when this request changes. Use the link below to stop these emails.",
    },
    "es": {
        "status": "311 de {city}: la solicitud {number} ahora está {status}.",
        "note": "311 de {city}: hay una nota nueva en la solicitud {number}, que está {status}. Llame al 311 para escucharla.",
        "sms_tail": " Responda STOP para no recibir mensajes.",
        "subject": "Solicitud {number}: {status}",
        "email_tail": "Usted pidió saber cuando esta solicitud cambie. Use el enlace de abajo para dejar de recibir estos correos.",
    },
}


def _texts(language: str) -> dict[str, str]:
    return TEXTS["es" if language == "es" else "en"]


def status_word(status: str, language: str) -> str:
    return STATUS_WORDS["es" if language == "es" else "en"].get(status, status)


def update_text(
    language: str, *, city: str, number: str, status: str, status_changed: bool, new_note: bool
) -> str:
    """The one sentence an update says (a status change wins over a note)."""
    texts = _texts(language)
    kind = "status" if status_changed or not new_note else "note"
    return texts[kind].format(city=city, number=number, status=status_word(status, language))


def sms(language: str, sentence: str) -> str:
    return sentence + _texts(language)["sms_tail"]


def email(language: str, sentence: str, *, number: str, status: str) -> tuple[str, str]:
    """(subject, body) of an update by email."""
    texts = _texts(language)
    subject = texts["subject"].format(number=number, status=status_word(status, language))
    return subject, f"{sentence}\n\n{texts['email_tail']}"
